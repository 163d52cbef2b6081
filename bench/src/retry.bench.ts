// Success-path overhead of retry (+ breaker) per call, side by side with cockatiel, opossum and p-retry.
import { circuitBreaker, retryPolicy } from "@tapline/plugin-retry";
import {
  ConsecutiveBreaker,
  circuitBreaker as cbPolicy,
  retry as cRetry,
  ExponentialBackoff,
  handleAll,
  wrap,
} from "cockatiel";
import CircuitBreaker from "opossum";
import pRetry from "p-retry";
import { compare, note } from "./harness.ts";

const BATCH = 100;
const fn = async () => 1;

export default async function bench(): Promise<void> {
  const oursRetry = retryPolicy({ maxAttempts: 4, backoff: { kind: "exponential", base: 128 } });
  const oursBoth = retryPolicy({
    maxAttempts: 4,
    backoff: { kind: "exponential", base: 128 },
    breaker: circuitBreaker({ trip: { kind: "consecutive", threshold: 5 } }),
  });
  const cockatiel = wrap(
    cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    cbPolicy(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const opossum = new CircuitBreaker(fn, {
    timeout: false,
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
  });

  const batch = (call: () => Promise<unknown>) => async () => {
    for (let i = 0; i < BATCH; i++) await call();
  };
  const rows = await compare(
    "retry: success-path overhead per call (fn = async () => 1)",
    [
      { name: "bare await fn()", fn: batch(fn) },
      { name: "ours retry only", fn: batch(() => oursRetry.execute(fn)) },
      { name: "ours retry+breaker", fn: batch(() => oursBoth.execute(fn)) },
      { name: "cockatiel wrap(retry, breaker)", fn: batch(() => cockatiel.execute(fn)) },
      { name: "opossum fire() timeout off", fn: batch(() => opossum.fire()) },
      { name: "p-retry retries:3", fn: batch(() => pRetry(fn, { retries: 3 })) },
    ],
    { opsPerCall: BATCH, time: 1500 },
  );
  opossum.shutdown();
  const ns = (name: string) => rows.find((r) => r.name === name)!.nsPerOp;
  const ratio = ns("ours retry+breaker") / ns("cockatiel wrap(retry, breaker)");
  note(
    `ours retry+breaker / cockatiel retry+breaker = ${ratio.toFixed(2)} (target ≤ 1.00: ${ratio <= 1 ? "met" : "NOT met"})`,
  );
  note(`ours retry only / p-retry = ${(ns("ours retry only") / ns("p-retry retries:3")).toFixed(2)}`);
  note(
    `ours retry+breaker / opossum fire() = ${(ns("ours retry+breaker") / ns("opossum fire() timeout off")).toFixed(2)}`,
  );
}
