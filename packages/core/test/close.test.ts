import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("exits by itself within one second of close(), with plugins holding timers, a child process and a socket", async () => {
  const fixture = fileURLToPath(new URL("./fixtures/close-child.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@tapline/source", "--no-warnings", fixture], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  let closedAt = 0;
  child.stdout.on("data", () => {
    if (!closedAt && out.includes("closed")) closedAt = performance.now();
  });
  const code = await new Promise<number | null>((resolve) => {
    const killer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(-1);
    }, 20_000);
    child.on("exit", (c) => {
      clearTimeout(killer);
      resolve(c);
    });
  });
  const exitedAfterClose = performance.now() - closedAt;
  expect(err).toBe("");
  expect(out).toBe("success 42\nclosed\n");
  expect(code).toBe(0);
  expect(exitedAfterClose).toBeLessThan(1000);
});
