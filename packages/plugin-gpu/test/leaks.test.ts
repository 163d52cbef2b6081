import { spawn } from "node:child_process";
import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { watchGpus } from "../src/index.ts";
import { FAKE, until } from "./helpers.ts";

// Issue #12: the watcher's abort listener stayed on the caller's signal, and its restart timer was the
// only timer not unref'd.

describe("watchGpus leaves nothing behind", () => {
  it("removes its abort listener from the caller's signal when closed", async () => {
    const controller = new AbortController();
    let samples = 0;
    const watcher = watchGpus({ binary: FAKE, interval: 50, signal: controller.signal }, () => samples++);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    await until(() => samples > 0, 10_000, "a sample");
    await watcher.close();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("removes it when closed through the signal too, and with many watchers on one signal", async () => {
    const controller = new AbortController();
    const watchers = Array.from({ length: 3 }, () =>
      watchGpus({ binary: FAKE, interval: 50, signal: controller.signal }, () => {}),
    );
    await watchers[0]!.close();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(2);
    controller.abort();
    await Promise.all(watchers.map((w) => w.close()));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("does not keep the process alive while a restart is pending (the restart timer is unref'd)", async () => {
    const script = fileURLToPath(new URL("./fixtures/pending-restart.ts", import.meta.url));
    const nodeArgs = [
      "--conditions=@tapline/source",
      ...(Number(process.versions.node.split(".")[0]) < 23
        ? ["--experimental-strip-types", "--no-warnings"]
        : []),
    ];
    const child = spawn(process.execPath, [...nodeArgs, script, FAKE], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FAKE_SMI_DIE_AFTER: "2" },
    });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const exited = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 8000);
      child.once("exit", () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!exited) child.kill("SIGKILL");
    expect(out).toContain("restarting");
    expect(exited).toBe(true);
  }, 15_000);
});
