/**
 * Where breakers keep the state that several processes must share. Without a `store` a breaker's state is its
 * own, in this process's memory (the default, and the fastest). With one, breakers of the same name share:
 * - **open / isolated**: an opening on one process is pushed to every other (no polling);
 * - **half-open probes**: at most `halfOpen.probes` calls in flight across all processes together, and their
 *   successes count together towards `successThreshold`;
 * - **429 pauses**: a counted failure with HTTP status 429 and a Retry-After hint opens that key on every
 *   process until the hinted time.
 * Failure counting while closed stays local (each process trips on what it sees; the first to trip opens the
 * breaker for all), so a closed breaker's check never leaves the process.
 *
 * Implementations: {@link memoryBreakerStore} (breakers of one process) and `redisBreakerStore()` from
 * `@tapline/plugin-retry/redis` (processes on any machine).
 */
export interface BreakerStore {
  /** What the store is, for status messages: `"memory"`, `"redis"`. */
  readonly kind: string;
  /**
   * Connects one breaker group (a breaker, or a keyed group: every key) to the store. Called once, when the
   * breaker is built. `listener` hears other processes' changes and the store's availability.
   */
  attach(group: string, listener: BreakerStoreListener): BreakerStoreChannel;
}

/** What a store tells a breaker group. Called synchronously; must not throw. */
export interface BreakerStoreListener {
  /** Another process changed `key`: `state` is its open state, `undefined` when it closed. */
  changed(key: string, state: SharedBreakerState | undefined): void;
  /**
   * The store became unreachable (`available: false`, with the reason: breakers fall back to local state) or
   * reachable again (`true`: the group re-syncs: it reads the shared states and pushes its own openings).
   */
  availability(available: boolean, reason: string | undefined): void;
}

/** The open state of one key, as the store shares it. */
export interface SharedBreakerState {
  readonly state: "open" | "isolated";
  /** Epoch ms from which probes are admitted (0 for `isolated`). */
  readonly openUntil: number;
  /** Openings in a row since the last close. */
  readonly openings: number;
  /** Id of this opening: probes and their outcomes belong to one opening. */
  readonly episode: string;
}

/** Answer to a probe request of a half-open key. */
export type ProbeClaim =
  /** Admitted as one of the `probes`. */
  | { readonly kind: "probe"; readonly episode: string }
  /** Every probe slot is taken (by any process). */
  | { readonly kind: "busy" }
  /** Still (or again) open or isolated. */
  | { readonly kind: "open"; readonly state: SharedBreakerState }
  /** The store has no open state for the key. */
  | { readonly kind: "closed" };

/**
 * One group's connection to a store (from `attach`). Every method may reject when the store is unreachable:
 * the breaker then decides locally. Only non-closed breakers call them, never a closed breaker's check.
 */
export interface BreakerStoreChannel {
  /** False while the store cannot be reached (the breaker uses local state). */
  readonly available: boolean;
  /** Shares an opening (or isolation) of `key` with every process. */
  open(key: string, state: SharedBreakerState): Promise<void>;
  /** Shares that `key` closed (a manual reset). */
  close(key: string): Promise<void>;
  /** Asks for one of the `probes` slots of a key whose open time ended (at `now`, epoch ms). */
  claimProbe(key: string, now: number, probes: number, probeTimeout: number): Promise<ProbeClaim>;
  /**
   * Hands a probe slot back: `success` counts towards `successThreshold` (resolves true when that closed the
   * key, for every process); `release` gives the slot back uncounted (a cancelled or ignored call).
   */
  probeDone(
    key: string,
    episode: string,
    outcome: "success" | "release",
    successThreshold: number,
  ): Promise<boolean>;
  /** Every open key of the group (for re-sync). */
  states(): Promise<Map<string, SharedBreakerState>>;
  /** Stops listening (the group is disposed). */
  detach(): void;
}

interface MemoryKey {
  state: SharedBreakerState;
  probes: number;
  since: number;
  successes: number;
}

/**
 * A store shared by the breakers of one process: breakers with the same name, in different apps or made by
 * different `circuitBreaker()` calls, share their openings and probes as processes do through Redis. Useful
 * for tests of shared behaviour; in one app, one breaker per name is simpler.
 *
 * @example
 * const store = memoryBreakerStore();
 * const a = circuitBreaker({ name: "tts", store });
 * const b = circuitBreaker({ name: "tts", store }); // opens when `a` opens
 */
export function memoryBreakerStore(): BreakerStore {
  const groups = new Map<string, { keys: Map<string, MemoryKey>; listeners: Set<BreakerStoreListener> }>();
  return {
    kind: "memory",
    attach(group, listener) {
      let g = groups.get(group);
      if (!g) {
        g = { keys: new Map(), listeners: new Set() };
        groups.set(group, g);
      }
      const { keys, listeners } = g;
      listeners.add(listener);
      const tell = (key: string, state: SharedBreakerState | undefined) => {
        for (const l of listeners) if (l !== listener) l.changed(key, state);
      };
      return {
        available: true,
        async open(key, state) {
          keys.set(key, { state, probes: 0, since: 0, successes: 0 });
          tell(key, state);
        },
        async close(key) {
          if (keys.delete(key)) tell(key, undefined);
        },
        async claimProbe(key, now, probes, probeTimeout) {
          const k = keys.get(key);
          if (!k) return { kind: "closed" };
          if (k.state.state === "isolated" || now < k.state.openUntil)
            return { kind: "open", state: k.state };
          if (k.probes >= probes && now - k.since >= probeTimeout) k.probes = 0;
          if (k.probes >= probes) return { kind: "busy" };
          if (k.probes++ === 0) k.since = now;
          return { kind: "probe", episode: k.state.episode };
        },
        async probeDone(key, episode, outcome, successThreshold) {
          const k = keys.get(key);
          if (!k || k.state.episode !== episode) return false;
          k.probes = Math.max(0, k.probes - 1);
          if (outcome === "release" || ++k.successes < successThreshold) return false;
          keys.delete(key);
          tell(key, undefined);
          return true;
        },
        async states() {
          return new Map([...keys].map(([k, v]) => [k, v.state]));
        },
        detach() {
          listeners.delete(listener);
        },
      };
    },
  };
}
