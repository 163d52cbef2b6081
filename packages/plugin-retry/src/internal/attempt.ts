import { AttemptTimeoutError, DeadlineExceededError } from "../errors.ts";
import type { NormalizedRetry } from "../options.ts";
import type { Attempt } from "../retry.ts";

// Linking an attempt to its caller's signal. Node's EventTarget makes `addEventListener` + `removeEventListener`
// cost more than the rest of an attempt (hundreds of ns), so each caller's signal gets ONE abort listener, on
// first use, and its in-flight attempts hang off it in a linked list: linking and unlinking an attempt is a few
// pointer writes. The list is reached through a WeakMap keyed by the signal, so it lives and dies with the
// signal (no state outlives its owner), and a signal shared by many concurrent calls carries one listener, not
// one per call.

interface Link {
  readonly onAbort: () => void;
  prev: Link | undefined;
  next: Link | undefined;
  /** Undefined once unlinked (or detached by the abort). */
  chain: Chain | undefined;
}

interface Chain {
  head: Link | undefined;
}

const chains = new WeakMap<AbortSignal, Chain>();

/** Calls `onAbort` when `signal` aborts, until {@link unlink}. */
function linkAbort(signal: AbortSignal, onAbort: () => void): Link {
  let chain = chains.get(signal);
  if (chain === undefined) {
    const created: Chain = { head: undefined };
    chain = created;
    chains.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        let link = created.head;
        created.head = undefined;
        while (link !== undefined) {
          const next = link.next;
          link.chain = undefined;
          link.prev = link.next = undefined;
          link.onAbort();
          link = next;
        }
      },
      { once: true },
    );
  }
  const link: Link = { onAbort, prev: undefined, next: chain.head, chain };
  if (chain.head !== undefined) chain.head.prev = link;
  chain.head = link;
  return link;
}

function unlink(link: Link): void {
  const chain = link.chain;
  if (chain === undefined) return;
  if (link.prev === undefined) chain.head = link.next;
  else link.prev.next = link.next;
  if (link.next !== undefined) link.next.prev = link.prev;
  link.chain = link.prev = link.next = undefined;
}

/**
 * The attempt timeout (the plugin's stage 100 calls it too): runs one call with a fresh AbortController linked
 * to `parent`, bounded by the attempt timeout and what is left of the deadline. Rejects at once on abort or
 * timeout, even when `fn` ignores its signal.
 */
export function guarded<T>(
  o: NormalizedRetry,
  fn: Attempt<T>,
  attempt: number,
  parent: AbortSignal | undefined,
  start: number,
  deadline: number | undefined = o.deadline,
  passSignal = false,
): Promise<T> {
  let limit = o.attemptTimeout;
  let byDeadline = false;
  if (deadline !== undefined) {
    const left = start + deadline - o.clock.now();
    if (left <= 0) return Promise.reject(new DeadlineExceededError({ deadlineMs: deadline }));
    if (limit === undefined || left < limit) {
      limit = left;
      byDeadline = true;
    }
  }
  if (limit === undefined && (parent === undefined || passSignal)) {
    try {
      return Promise.resolve(fn(parent ?? new AbortController().signal, attempt));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    let done = false;
    const finish = () => {
      done = true;
      if (link !== undefined) unlink(link);
      if (timer !== undefined) o.clock.clearTimeout(timer);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      controller.abort(parent!.reason);
      reject(parent!.reason);
    };
    const link = parent === undefined ? undefined : linkAbort(parent, onAbort);
    if (limit !== undefined) {
      const ms = limit;
      timer = o.clock.setTimeout(() => {
        if (done) return;
        finish();
        const reason = byDeadline
          ? new DeadlineExceededError({ deadlineMs: deadline! })
          : new AttemptTimeoutError({ timeoutMs: ms, attempt });
        controller.abort(reason);
        reject(reason);
      }, ms);
    }
    let result: T | PromiseLike<T>;
    try {
      result = fn(controller.signal, attempt);
    } catch (error) {
      finish();
      reject(error);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      (error: unknown) => {
        if (done) return;
        finish();
        reject(error);
      },
    );
  });
}
