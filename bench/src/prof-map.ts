import { createTapline } from "@tapline/core";

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
const work = async (n: number) => n + 1;
const items = Array.from({ length: 1000 }, (_, i) => i);
const app = createTapline({ logger: silent as never });
const mapped = app
  .pipeline("map")
  .map("items", () => items, work, { concurrency: 8 })
  .build();
for (let i = 0; i < 200; i++) await mapped.run(undefined);
const t = performance.now();
for (let i = 0; i < 1000; i++) await mapped.run(undefined);
console.log(((performance.now() - t) * 1e6) / 1e6 / 1000, "ns per item");
