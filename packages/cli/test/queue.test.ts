// tapline worker / enqueue / queue against a real redis-server (started by the queue package's test helper).
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tapline } from "./helpers.ts";

/** The queue package's redis-server helper, loaded at run time (a static import across projects breaks tsc -b). */
interface RedisServer {
  readonly url: string;
  dispose(): Promise<void>;
}
const helper = join(import.meta.dirname, "../../queue/test/redis-server.ts");
const { haveRedis, startRedis } = (await import(helper)) as {
  haveRedis(): Promise<boolean>;
  startRedis(): Promise<RedisServer>;
};
const present = await haveRedis();
const bin = join(import.meta.dirname, "../src/bin.ts");
const fixture = join(import.meta.dirname, "fixtures", "queue-story.mjs");
let redis: RedisServer;
beforeAll(async () => {
  if (present) redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

describe.skipIf(!present)("tapline worker, enqueue and queue (a real redis-server)", () => {
  it("a worker process runs what enqueue adds; queue shows the counts; SIGTERM shuts it down cleanly", async () => {
    const worker = execa(
      process.execPath,
      [
        "--conditions=@tapline/source",
        bin,
        "worker",
        fixture,
        "--redis",
        redis.url,
        "--name",
        "cli",
        "--concurrency",
        "2",
        "--worker-name",
        "w-cli",
      ],
      { reject: false, env: { NO_COLOR: "1" } },
    );
    // Stopped in `finally` whatever happens: a worker outlives its Redis (it waits for it to come back).
    let exited = false;
    void worker.then(() => {
      exited = true;
    });
    try {
      let err = "";
      await new Promise<void>((resolve, reject) => {
        worker.stderr!.on("data", (d: Buffer) => {
          err += d.toString();
          if (err.includes("tapline worker w-cli:")) resolve();
        });
        void worker.then((r) => reject(new Error(`worker exited early (${r.exitCode}): ${err}`)));
      });
      expect(err).toMatch(/pipeline "story", queue cli, concurrency 2/);

      const ok = await tapline([
        "enqueue",
        "story",
        "--input",
        '{"idea":"a fox"}',
        "--run-id",
        "cli-1",
        "--wait",
        "--json",
        "--redis",
        redis.url,
        "--name",
        "cli",
      ]);
      expect(ok.code, `stdout: ${ok.stdout}\nstderr: ${ok.stderr}`).toBe(0);
      const run = JSON.parse(ok.stdout);
      expect(run).toMatchObject({
        runId: "cli-1",
        state: "completed",
        report: { status: "success", output: "A STORY ABOUT A FOX", worker: "w-cli" },
      });

      const bad = await tapline([
        "enqueue",
        "story",
        "--input",
        '{"idea":"broken"}',
        "--wait",
        "--redis",
        redis.url,
        "--name",
        "cli",
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/failed at render: ffmpeg exited with code 1/);

      const id = await tapline([
        "enqueue",
        "story",
        "--input",
        '{"idea":"owls"}',
        "--redis",
        redis.url,
        "--name",
        "cli",
      ]);
      expect(id.code).toBe(0);
      expect(id.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);

      const counts = await tapline(["queue", "--json", "--redis", redis.url, "--name", "cli"]);
      expect(counts.code).toBe(0);
      expect(JSON.parse(counts.stdout)).toMatchObject({ workers: 1, workerNames: ["w-cli"] });
      expect(JSON.parse(counts.stdout).completed).toBeGreaterThanOrEqual(1);

      process.kill(worker.pid!, "SIGTERM");
      const ended = await worker;
      expect(ended.exitCode).toBe(0);
      expect(ended.stderr).toMatch(/shutting down/);
    } finally {
      if (!exited) worker.kill("SIGKILL");
    }
  }, 60_000);

  it("a bad or silent Redis URL is a usage error (exit 2) naming it, its password redacted", async () => {
    const r = await tapline(["queue", "--redis", "redis://admin:hunter2-secret@127.0.0.1:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot use Redis at .*127\.0\.0\.1:1.*no answer/);
    expect(r.stderr).not.toContain("hunter2-secret");
    const u = await tapline(["enqueue", "story", "--input", "{nope", "--redis", redis.url]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--input is not valid JSON/);
  });
});
