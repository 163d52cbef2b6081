import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  definePlugin,
  describeError,
  isTaplineError,
  type PluginFactory,
  type RunReport,
  type StepReport,
} from "@tapline/core";
import { parseDuration } from "@tapline/core/kit";
import { changedArtifact, fingerprint } from "./artifacts.ts";
import { RunLockedError } from "./errors.ts";
import type { DurableOptions } from "./options.ts";
import { DurableSchema } from "./schemas.ts";
import { decode, encode, hashText } from "./serialize.ts";
import { sqliteStore } from "./sqlite-store.ts";
import type { DurableStore } from "./store.ts";

const HOUR = 3_600_000;

/** The last execution's unit tree, as the store keeps it (`tapline runs show`). */
export interface UnitTree {
  readonly path: string;
  readonly status: string;
  readonly replayed: boolean;
  readonly attempts: number;
  readonly durationMs: number;
  readonly cost?: Readonly<Record<string, number>>;
  readonly savedCost?: Readonly<Record<string, number>>;
  readonly artifacts?: readonly string[];
  readonly children?: readonly UnitTree[];
}

/**
 * Durable runs: every function unit's result (output, cost, artifacts) is saved when it succeeds, so
 * `app.resume(runId)` continues a failed, cancelled, crashed or suspended run without executing again what
 * already succeeded, and `ctx.suspend()` can stop a run to wait for a person (`tapline approve`).
 *
 * Taps `runStart` (save the run and take its lease), `loadRun` (resume: load it, take the lease or refuse
 * with `TAPLINE_ERR_RUN_LOCKED`), `replayUnit` (offer a saved success whose input hash matches and whose
 * artifacts still hold), `saveUnit` (save a success; a value that cannot be kept fails the unit with
 * `TAPLINE_ERR_DURABLE_VALUE`), `runEnd` (status, suspension, unit tree; release the lease) and `status`.
 *
 * @example
 * const app = createTapline({ plugins: [durable()] });
 * const story = app.pipeline<string>("story").step("script", writeScript).step("render", render).build();
 * const first = await story.run("a fox", { runId: "fox-1" });
 * if (first.status !== "success") await app.resume("fox-1"); // the script replays, the render runs again
 */
export const durable: PluginFactory<DurableOptions | undefined> = definePlugin<
  DurableOptions,
  DurableOptions | undefined
>({
  name: "@tapline/plugin-durable",
  version: "1.0.0",
  core: "^1.0.0",
  options: DurableSchema,
  setup(api) {
    const o = api.options;
    const store: DurableStore =
      o.store ?? sqliteStore({ path: join(api.dir, "durable.sqlite"), sync: o.sync ?? "normal" });
    const keepMs = parseDuration(o.keep ?? "7d")!;
    const ttl = parseDuration(o.leaseTtl ?? "30s")!;
    const maxBytes = o.maxOutputBytes ?? 1024 * 1024;
    const check = o.verifyArtifacts ?? "hash";
    const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const { hooks } = api;

    /** Runs this app holds (running or resumed here); `degraded` once the store failed for that run. */
    const held = new Map<string, { degraded?: string }>();
    let problem: { message: string; time: number } | undefined;
    const degrade = (runId: string, error: unknown): void => {
      const entry = held.get(runId);
      const message = `run "${runId}" is no longer saved: ${api.redact.text(describeError(error))}`;
      if (entry && !entry.degraded) entry.degraded = message;
      problem = { message, time: Date.now() };
      api.reportError(error, "saveUnit");
    };

    const prune = async (): Promise<void> => {
      try {
        const now = Date.now();
        const n = await store.prune(now - keepMs, now);
        if (n > 0) api.log.info({ runs: n, keep: o.keep ?? "7d" }, "durable: pruned old runs");
      } catch (error) {
        problem = { message: `pruning failed: ${describeError(error)}`, time: Date.now() };
        api.reportError(error, "prune");
      }
    };
    void prune();
    const pruner = setInterval(() => void prune(), HOUR);
    pruner.unref();
    const heartbeat = setInterval(
      () => {
        if (held.size === 0) return;
        Promise.resolve(store.renewLeases([...held.keys()], holder, Date.now() + ttl)).catch(
          (error: unknown) => {
            problem = { message: `renewing leases failed: ${describeError(error)}`, time: Date.now() };
            api.reportError(error, "heartbeat");
          },
        );
      },
      Math.max(250, Math.floor(ttl / 3)),
    );
    heartbeat.unref();

    hooks.runStart.tapPromise(api.name, async ({ ctx, input, resumed }) => {
      const now = Date.now();
      if (resumed) {
        const row = await store.getRun(ctx.runId);
        held.set(ctx.runId, {});
        await store.updateRun(ctx.runId, {
          status: "running",
          resumes: (row?.resumes ?? 0) + 1,
          updatedAt: now,
        });
        return;
      }
      const entry: { degraded?: string } = {};
      held.set(ctx.runId, entry);
      try {
        await store.createRun({
          runId: ctx.runId,
          pipeline: ctx.pipeline,
          input: encode(input, `the input of run "${ctx.runId}"`, maxBytes),
          ...(Object.keys(ctx.labels).length > 0 && { labels: ctx.labels }),
          status: "running",
          resumes: 0,
          createdAt: now,
          updatedAt: now,
          leaseHolder: holder,
          leaseUntil: now + ttl,
        });
      } catch (error) {
        degrade(ctx.runId, error);
      }
    });

    hooks.loadRun.tapPromise(api.name, async ({ runId }) => {
      const row = await store.getRun(runId);
      if (!row) return undefined;
      const now = Date.now();
      const lease = await store.acquireLease(runId, holder, now + ttl, now);
      if (!lease.ok) throw new RunLockedError({ runId, holder: lease.holder, untilMs: lease.until });
      const suspended =
        row.suspended === undefined
          ? undefined
          : (decode(row.suspended) as { unit: string; reason: string; data?: unknown });
      return {
        runId,
        pipeline: row.pipeline,
        input: decode(row.input),
        status: row.status,
        ...(row.labels && { labels: { ...row.labels } }),
        ...(row.budget && { budget: row.budget }),
        ...(suspended && { suspended }),
        release: async () => {
          held.delete(runId);
          await store.releaseLease(runId, holder);
        },
      };
    });

    hooks.replayUnit.tapPromise(api.name, async ({ ctx, input }) => {
      const entry = held.get(ctx.runId);
      if (!entry || entry.degraded) return undefined;
      const saved = await store.getUnit(ctx.runId, ctx.path);
      if (!saved) return undefined;
      let hash: string;
      try {
        hash = hashText(encode(input, `the input of unit "${ctx.path}"`, Number.POSITIVE_INFINITY));
      } catch {
        return undefined;
      }
      if (hash !== saved.inputHash) {
        ctx.log.info(
          { unit: ctx.path },
          "durable: the unit's input changed since it was saved; it runs again",
        );
        return undefined;
      }
      if (saved.artifacts && saved.artifacts.length > 0) {
        const changed = await changedArtifact(saved.artifacts);
        if (changed) {
          ctx.log.info({ unit: ctx.path, why: changed }, `durable: ${changed}; "${ctx.path}" runs again`);
          return undefined;
        }
      }
      return {
        output: decode(saved.output),
        ...(saved.cost && { cost: saved.cost }),
        ...(saved.artifacts && {
          artifacts: saved.artifacts.map(({ size: _s, sha256: _h, ...artifact }) => artifact),
        }),
      };
    });

    hooks.saveUnit.tapPromise(api.name, async ({ ctx, input, report }) => {
      const entry = held.get(ctx.runId);
      if (!entry || entry.degraded) return;
      // A value that cannot be kept fails the unit (thrown); a store that cannot write degrades the run.
      const inputHash = hashText(encode(input, `the input of unit "${ctx.path}"`, Number.POSITIVE_INFINITY));
      const output = encode(report.output, `the output of unit "${ctx.path}"`, maxBytes);
      const artifacts = report.artifacts.length > 0 ? await savedArtifacts(ctx.path, report) : undefined;
      try {
        await store.putUnit({
          runId: ctx.runId,
          path: ctx.path,
          inputHash,
          output,
          ...(Object.keys(report.cost).length > 0 && { cost: report.cost }),
          ...(artifacts && { artifacts }),
          attempts: report.attempts.length,
          durationMs: performance.now() - (report.startedAt - performance.timeOrigin),
          savedAt: Date.now(),
        });
      } catch (error) {
        degrade(ctx.runId, error);
      }
    });

    async function savedArtifacts(path: string, report: StepReport) {
      try {
        return await fingerprint(report.artifacts, check);
      } catch (error) {
        const { DurableValueError } = await import("./errors.ts");
        throw new DurableValueError(
          {
            what: `the artifacts of unit "${path}"`,
            why: `a declared file cannot be read (${describeError(error)})`,
          },
          { cause: error },
        );
      }
    }

    hooks.runEnd.tapPromise(api.name, async ({ ctx, report }) => {
      const entry = held.get(ctx.runId);
      held.delete(ctx.runId);
      if (!entry || entry.degraded) return;
      try {
        await store.updateRun(ctx.runId, {
          status: report.status,
          ...(report.suspended
            ? { suspended: encode(report.suspended, `the suspension data of run "${ctx.runId}"`, maxBytes) }
            : { clearSuspended: true }),
          // The error of this execution, or none: an earlier execution's error is not this one's.
          ...(report.error !== undefined && !isTaplineError(report.error, "TAPLINE_ERR_RUN_SUSPENDED")
            ? { error: api.redact.text(describeError(report.error)) }
            : { clearError: true }),
          cost: report.cost,
          tree: JSON.stringify(report.steps.map(treeOf)),
          updatedAt: Date.now(),
        });
      } catch (error) {
        degrade(ctx.runId, error);
      } finally {
        await store.releaseLease(ctx.runId, holder);
      }
    });

    hooks.status.tap(api.name, (parts) => {
      const recent = problem && Date.now() - problem.time < 10 * 60_000;
      parts.push({
        component: "durable",
        level: recent ? "degraded" : "ok",
        message: recent ? problem!.message : `saving runs to ${store.location}`,
      });
      return parts;
    });

    return async () => {
      clearInterval(pruner);
      clearInterval(heartbeat);
      for (const runId of held.keys()) {
        try {
          await store.releaseLease(runId, holder);
        } catch {}
      }
      held.clear();
      await store.close();
    };
  },
});

function treeOf(s: StepReport): UnitTree {
  return {
    path: s.path,
    status: s.status,
    replayed: s.replayed,
    attempts: s.attempts.length,
    durationMs: Math.round(s.durationMs * 1000) / 1000,
    ...(Object.keys(s.cost).length > 0 && { cost: s.cost }),
    ...(s.savedCost && { savedCost: s.savedCost }),
    ...(s.artifacts.length > 0 && { artifacts: s.artifacts.map((a) => a.path) }),
    ...(s.children && { children: s.children.map(treeOf) }),
  };
}

export type { RunReport };
