import {
  definePlugin,
  type MetricSample,
  type PluginFactory,
  type StatusPart,
  type StepContext,
} from "@tapline/core";
import { type GpuAdapter, listGpuAdapters } from "./adapters.ts";
import { GpuMetricPublisher } from "./metrics.ts";
import type { GpuPluginOptions, GpuStepOptions, NormalizedPluginOptions } from "./plugin-options.ts";
import type { GpuSnapshot } from "./reading.ts";
import { GpuStepSchema, gpuOptionsSchema } from "./schemas.ts";
import { GpuUsageTracker } from "./step-usage.ts";
import { type GpuWatcherStatus, watchGpus } from "./watcher.ts";

declare module "@tapline/core" {
  interface StepOptions {
    /** @tapline/plugin-gpu: which GPUs the step uses, or `false` to leave GPU usage out of its report. */
    gpu?: GpuStepOptions;
  }
}

const NAME = "@tapline/plugin-gpu";

/**
 * The GPU plugin: one long-lived nvidia-smi per app. Publishes `nvidia_gpu_*` samples through the `metric`
 * hook, attaches each step's GPU usage (peak/mean utilisation and memory, energy) to its report under
 * `report.extensions.gpu`, and contributes a `gpu` part to `app.status()`. Without nvidia-smi or a GPU it
 * says `unavailable` once and the app carries on.
 *
 * @example
 * const app = createTapline({ plugins: [gpu({ interval: 500 })] });
 * const p = app.pipeline("render").step("encode", encode, { gpu: { devices: [0] } }).build();
 * const report = await p.run(input);
 * console.log(report.steps[0].extensions.gpu); // { gpus: [{ utilizationPeak, energyJoules, ... }], ... }
 * await app.close();
 */
export const gpu: PluginFactory<GpuPluginOptions | undefined> = definePlugin<
  NormalizedPluginOptions,
  GpuPluginOptions | undefined
>({
  name: NAME,
  version: "1.0.0",
  core: "^1.0.0",
  options: gpuOptionsSchema,
  // Core checks each step's `gpu` option when `.step()` is called (path, value, did-you-mean).
  stepOptions: { gpu: GpuStepSchema },
  setup(api) {
    const opts = api.options;
    // Through api.metric, every sample stamped with its snapshot's time; nothing is built while nobody taps.
    // One options object, refilled per sample: core's api.metric reads it synchronously and keeps nothing of it.
    const extra: { unit: string | undefined; type: MetricSample["type"]; time: number } = {
      unit: undefined,
      type: undefined,
      time: 0,
    };
    const publisher = new GpuMetricPublisher({
      get taps() {
        return api.hooks.metric.taps;
      },
      call(name, value, labels, unit, type, time) {
        extra.unit = unit;
        extra.type = type;
        extra.time = time;
        api.metric(name, value, labels as Record<string, string>, extra);
      },
    });
    const trackers = new Map<StepContext, GpuUsageTracker>();
    let adapters: GpuAdapter[] | undefined;
    let warned = false;
    let persistenceWarned = false;

    const watcher = watchGpus(
      opts.watch,
      (snapshot) => {
        if (!persistenceWarned && persistenceOff(snapshot)) {
          persistenceWarned = true;
          api.log.warn(
            { gpus: snapshot.gpus.filter((g) => g.persistenceMode === false).map((g) => g.index) },
            "GPU persistence mode is off: every nvidia-smi or CUDA start re-initialises the GPU (seconds); enable it with `nvidia-smi -pm 1`",
          );
        }
        if (opts.metrics) publisher.publish(snapshot);
        if (trackers.size > 0) for (const t of trackers.values()) t.add(snapshot);
      },
      {
        onProcesses(snapshot) {
          if (opts.metrics) publisher.publishProcesses(snapshot);
          for (const t of trackers.values()) t.addProcesses(snapshot);
        },
        onError: (error) => api.reportError(error, "sampler"),
        onStatus(status: GpuWatcherStatus) {
          if (status.state !== "unavailable" || warned) return;
          warned = true;
          api.log.warn(
            { reason: status.error?.reason, binary: status.error?.binary },
            `GPU unavailable: ${status.reason}`,
          );
          if (opts.describeAdapters) {
            void listGpuAdapters().then((list) => {
              adapters = list;
            });
          }
        },
      },
    );

    if (opts.stepUsage) {
      api.hooks.stepStart.tap(NAME, ({ ctx }) => {
        const option = ctx.options.gpu;
        if (option === false || watcher.status.state === "unavailable") return;
        trackers.set(ctx, new GpuUsageTracker(Date.now(), watcher.latest(), option?.devices));
      });
      api.hooks.stepEnd.tap(NAME, ({ ctx }) => {
        const tracker = trackers.get(ctx);
        if (!tracker) return;
        trackers.delete(ctx);
        const usage = tracker.finish(Date.now());
        ctx.annotate("gpu", usage);
        if (usage.energyJoules > 0) {
          ctx.metric(
            "tapline_step_gpu_energy_joules_total",
            usage.energyJoules,
            {},
            { unit: "joules", type: "counter" },
          );
        }
      });
    }

    // After close, keep reporting the last live state: plugins disposed after this one (metrics writes
    // status.json on dispose) must record how the GPUs were, not that the sampler stopped.
    let lastPart: StatusPart | undefined;
    api.hooks.status.tap(NAME, (parts) => {
      const part =
        watcher.status.state === "closed" && lastPart
          ? lastPart
          : statusPart(watcher.status, watcher.latest()?.gpus.length ?? 0, opts.required, adapters);
      lastPart = part;
      parts.push(part);
      return parts;
    });

    return () => watcher.close();
  },
});

function persistenceOff(snapshot: GpuSnapshot): boolean {
  for (const g of snapshot.gpus) if (g.persistenceMode === false) return true;
  return false;
}

function statusPart(
  status: GpuWatcherStatus,
  gpus: number,
  required: boolean,
  adapters: GpuAdapter[] | undefined,
): StatusPart {
  const details: Record<string, unknown> = {
    state: status.state,
    gpus,
    samples: status.samples,
    restarts: status.restarts,
    ...(status.lastSampleAt !== undefined && { lastSampleAt: status.lastSampleAt }),
    ...(status.droppedFields.length > 0 && { droppedFields: status.droppedFields }),
    ...(status.error && { reason: status.error.reason }),
    ...(adapters && { adapters }),
  };
  switch (status.state) {
    case "running":
      return {
        component: "gpu",
        level: "ok",
        message: `${gpus} GPU${gpus === 1 ? "" : "s"} sampled`,
        details,
      };
    case "starting":
      return { component: "gpu", level: "unknown", message: "starting nvidia-smi", details };
    case "restarting":
      return {
        component: "gpu",
        level: "degraded",
        message: status.reason ?? "restarting nvidia-smi",
        details,
      };
    case "unavailable": {
      const others = adapters?.length
        ? ` (adapters: ${adapters.map((a) => `${a.vendor} ${a.model}`).join(", ")})`
        : "";
      return {
        component: "gpu",
        level: required ? "critical" : "ok",
        message: `unavailable: ${status.reason ?? "no GPU"}${others}`,
        details,
      };
    }
    default:
      return { component: "gpu", level: "unknown", message: status.state, details };
  }
}
