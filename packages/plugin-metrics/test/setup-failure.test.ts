import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTapline, isTaplineError } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getMetrics, metrics } from "../src/index.ts";

// Issue #12: when startMetricsServer rejects in setup (port in use), what setup already did stayed live.

let dir: string;
let taken: Server;
let port: number;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapline setup failure "));
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
  port = (taken.address() as { port: number }).port;
});
afterEach(async () => {
  await new Promise<void>((r) => taken.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe("a failed setup undoes what it did", () => {
  it("port in use: ready() rejects with the server error, and no tap, listener, timer or store is left", async () => {
    const exitListeners = process.listenerCount("exit");
    const app = createTapline({
      dir,
      logger: silentLogger,
      plugins: [metrics({ system: { intervalMs: 100 }, prometheus: { server: { port } } })],
    });
    const error = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(
      isTaplineError(error, [
        "TAPLINE_ERR_PLUGIN_INVALID",
        "TAPLINE_ERR_PLUGIN_DUPLICATE",
        "TAPLINE_ERR_PLUGIN_CORE_VERSION",
        "TAPLINE_ERR_PLUGIN_DEPENDENCY",
        "TAPLINE_ERR_PLUGIN_OPTIONS",
        "TAPLINE_ERR_PLUGIN_SETUP",
      ]),
    ).toBe(true);
    expect(isTaplineError((error as Error).cause, "TAPLINE_ERR_METRICS_SERVER")).toBe(true);
    const hooks = app.hooks as unknown as Record<string, { taps: { name: string }[] }>;
    const left = Object.entries(hooks)
      .filter(([, h]) => h.taps.some((t) => t.name === "@tapline/plugin-metrics"))
      .map(([name]) => name);
    expect(left).toEqual([]);
    expect(process.listenerCount("exit")).toBe(exitListeners);
    expect(getMetrics(app)).toBeUndefined();
    // Nothing keeps the process alive: no handle is left that the app did not close.
    await app.close();
  });
});
