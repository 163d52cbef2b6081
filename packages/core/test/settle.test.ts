import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { quietApp } from "./helpers.ts";

it("a run whose step ignores its signal settles within graceMs of close(), cancelled, the step abandoned (no caller signal)", async () => {
  const app = quietApp({ graceMs: 200 });
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const p = app
    .pipeline<number>("stubborn")
    .step("ignore", () => {
      started();
      return new Promise<number>(() => {}); // never settles, ignores ctx.signal
    })
    .step("after", (n: number) => n)
    .build();
  const run = p.run(1);
  await running;
  const t0 = performance.now();
  await app.close();
  const report = await Promise.race([
    run,
    new Promise<"hung">((r) => setTimeout(() => r("hung"), 3000).unref()),
  ]);
  expect(report).not.toBe("hung");
  if (report === "hung") return;
  expect(performance.now() - t0).toBeLessThan(1500);
  expect(report.status).toBe("cancelled");
  expect(report.steps.map((s) => [s.name, s.status, s.abandoned])).toEqual([
    ["ignore", "cancelled", true],
    ["after", "skipped", false],
  ]);
});

it("a stubborn step that settles after being abandoned does not change the settled report", async () => {
  const app = quietApp({ graceMs: 50 });
  let finish!: (n: number) => void;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const p = app
    .pipeline<number>("late")
    .step("late", () => {
      started();
      return new Promise<number>((r) => (finish = r));
    })
    .step("after", (n: number) => n * 2)
    .build();
  const run = p.run(1);
  await running;
  await app.close();
  const report = await run;
  const before = JSON.stringify(report);
  finish(5);
  await new Promise((r) => setTimeout(r, 20));
  expect(JSON.stringify(report)).toBe(before);
  expect(report.status).toBe("cancelled");
});

it("close() during runEnd does not keep the process alive for graceMs", async () => {
  const fixture = fileURLToPath(new URL("./fixtures/close-during-run-end.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@tapline/source", "--no-warnings", fixture], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const killer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(-1);
    }, 15_000);
    child.on("exit", (c) => {
      clearTimeout(killer);
      resolve(c);
    });
  });
  expect(err).toBe("");
  expect(out).toBe("success\nclosed\n");
  expect(code).toBe(0);
  expect(performance.now() - t0).toBeLessThan(8000); // graceMs is 30 s
});
