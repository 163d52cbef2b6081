import type { BreakerStore, BreakerStoreChannel, SharedBreakerState } from "../store.ts";
import type { BreakerImpl } from "./breaker.ts";

// The bridge between one breaker group (a standalone breaker, or a keyed group) and its store: applies other
// processes' changes to the local breakers, pushes local openings, and re-syncs when the store comes back.
// A closed breaker never calls it on its check; only transitions and half-open probes do.

/** The breakers a group holds, by key. */
export interface SharedOwner {
  /** The breaker of `key`, created if absent (a remote opening of a key this process has not used yet). */
  get(key: string): BreakerImpl;
  /** The breaker of `key` if held. */
  peek(key: string): BreakerImpl | undefined;
  entries(): Iterable<[string, BreakerImpl]>;
}

/** Availability of a group's store, for status parts and logs. */
export interface SharedAvailability {
  readonly store: string;
  readonly available: boolean;
  readonly reason: string | undefined;
}

/** @internal One group's link to its store. */
export class SharedGroup {
  readonly store: string;
  readonly channel: BreakerStoreChannel;
  #owner: SharedOwner;
  #available: boolean;
  #reason: string | undefined;
  #listeners = new Set<(a: SharedAvailability) => void>();
  /** Whether listeners were told anything yet (the first word from the store is news either way). */
  #told = false;

  constructor(store: BreakerStore, group: string, owner: SharedOwner) {
    this.store = store.kind;
    this.#owner = owner;
    this.channel = store.attach(group, {
      changed: (key, state) => {
        if (state) owner.get(key).applyShared(state);
        else owner.peek(key)?.applyShared(undefined);
      },
      availability: (available, reason) => this.#setAvailable(available, reason),
    });
    this.#available = this.channel.available;
    this.#reason = this.#available ? undefined : "connecting";
    // Already reachable (a memory store): read what other breakers of this name opened before this one.
    if (this.#available) queueMicrotask(() => this.#resync().catch((e: unknown) => this.failed(e)));
  }

  /** Whether shared decisions can be made now (the store answers). */
  get available(): boolean {
    return this.#available && this.channel.available;
  }

  get status(): SharedAvailability {
    return { store: this.store, available: this.available, reason: this.#reason };
  }

  /** Listens to availability changes (the plugin logs them and shows them in its status part). */
  onAvailability(listener: (a: SharedAvailability) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A store call failed: decide locally until the store says it is back. */
  failed(error: unknown): void {
    if (this.channel.available) return; // a single failed call on a live connection: nothing to degrade
    this.#setAvailable(false, error instanceof Error ? error.message : String(error));
  }

  /** Shares a local opening, isolation or manual close (fire and forget; a failure degrades). */
  push(key: string, state: SharedBreakerState | undefined): void {
    if (!this.available) return; // re-sync pushes it when the store is back
    const p = state ? this.channel.open(key, state) : this.channel.close(key);
    p.catch((e: unknown) => this.failed(e));
  }

  detach(): void {
    this.channel.detach();
    this.#listeners.clear();
  }

  #setAvailable(available: boolean, reason: string | undefined): void {
    const was = this.#available;
    this.#available = available;
    this.#reason = available ? undefined : reason;
    if (was !== available || !this.#told) for (const l of this.#listeners) safe(l, this.status);
    this.#told = true;
    if (available && !was) this.#resync().catch((e: unknown) => this.failed(e));
  }

  // Back from an outage (or first connection): the store's open keys win unless this process holds a later
  // opening of its own (made while the store was away), which is pushed instead.
  async #resync(): Promise<void> {
    const remote = await this.channel.states();
    for (const [key, breaker] of [...this.#owner.entries()]) {
      const local = breaker.sharedView();
      const r = remote.get(key);
      remote.delete(key);
      if (local && (!r || wins(local, r))) this.push(key, local);
      else if (r) breaker.applyShared(r);
    }
    for (const [key, r] of remote) this.#owner.get(key).applyShared(r);
  }
}

function wins(local: SharedBreakerState, remote: SharedBreakerState): boolean {
  if (local.episode === remote.episode) return false;
  if (local.state === "isolated") return remote.state !== "isolated";
  return remote.state === "open" && local.openUntil > remote.openUntil;
}

function safe<T>(listener: (v: T) => void, value: T): void {
  try {
    listener(value);
  } catch {
    // A listener must not break the store's event loop.
  }
}
