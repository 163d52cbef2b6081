// The other process of `breakers.bench.ts`: keyed breakers "prop" on the Redis store; prints the precise
// epoch time (ms, fractional) at which each key opened here, as `<key> <time>` lines. Not a bench itself.
import { keyedBreakers } from "@tapline/plugin-retry";
import { redisBreakerStore } from "@tapline/plugin-retry/redis";

const store = redisBreakerStore({
  url: process.argv[2]!,
  onStatusChange: (s) => s.available && process.stdout.write("ready\n"),
});
const group = keyedBreakers({ name: "prop", store, trip: { kind: "consecutive", threshold: 1 } });
group.onTransition((t) => {
  if (t.to === "open") process.stdout.write(`${t.key} ${performance.timeOrigin + performance.now()}\n`);
});
process.stdin.on("end", () => void store.close().then(() => process.exit(0)));
process.stdin.resume();
