import type { JitterKind } from "../backoff.ts";
import type { BreakerState } from "../breaker.ts";

// Runtime lists derived from the union types they mirror, so a new kind is one edit the compiler checks:
//   export const JITTER_KINDS = ["none", ...] as const satisfies readonly JitterKind[]; // no stray member
//   true satisfies ListsAll<JitterKind, typeof JITTER_KINDS>;                         // no missing member

/** `true` when the list `L` names every member of the union `T`, `false` (a compile error above) otherwise. */
export type ListsAll<T, L extends readonly unknown[]> = [Exclude<T, L[number]>] extends [never]
  ? true
  : false;

/** `true` when `A` and `B` are the same union (a schema's kinds and its interface's). */
export type SameUnion<A, B> = [Exclude<A, B> | Exclude<B, A>] extends [never] ? true : false;

/** Every jitter kind (the backoff schema's picklist). */
export const JITTER_KINDS = [
  "none",
  "full",
  "equal",
  "decorrelated",
] as const satisfies readonly JitterKind[];
true satisfies ListsAll<JitterKind, typeof JITTER_KINDS>;

/** Every breaker state (the snapshot check's list). */
export const BREAKER_STATES = [
  "closed",
  "open",
  "halfOpen",
  "isolated",
] as const satisfies readonly BreakerState[];
true satisfies ListsAll<BreakerState, typeof BREAKER_STATES>;
