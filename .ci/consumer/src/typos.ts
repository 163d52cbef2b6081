// Option typos a new user makes: each must be a type error in the published declarations.
import { createTapline, isTaplineError } from "@tapline/core";
import { serveDashboard } from "@tapline/dashboard";
import { alerts, consoleHandler } from "@tapline/plugin-alerts";
import { gpu } from "@tapline/plugin-gpu";
import { limits } from "@tapline/plugin-limits";
import { metrics } from "@tapline/plugin-metrics";
import { otel } from "@tapline/plugin-otel";
import { circuitBreaker, retry, retryPolicy } from "@tapline/plugin-retry";
import { audio, text, validate } from "@tapline/plugin-validate";

// @ts-expect-error maxAtempts is not an option (maxAttempts)
retry({ defaults: { maxAtempts: 3 } });
// @ts-expect-error retries is not an option
retry({ retries: 3 });
// @ts-expect-error the constant backoff's key is delay
retry({ defaults: { backoff: { kind: "constant", base: 1 } } });
// @ts-expect-error maxAtempts is not an option
retryPolicy({ maxAtempts: 3 });
// @ts-expect-error treshold is not a trip option
circuitBreaker({ trip: { kind: "consecutive", treshold: 3 } });
// @ts-expect-error rulez is not an option
alerts({ rulez: [] });
// @ts-expect-error colour is not a consoleHandler option
consoleHandler({ colour: true });
// @ts-expect-error profle is not an option
validate({ profle: "youtube-shorts" });
// @ts-expect-error concurency is not an option
validate({ concurency: 2 });
// @ts-expect-error maxWord is not an option (maxWords)
text({ maxWord: 10 });
// @ts-expect-error maxWords is a number
text({ maxWords: "ten" });
// @ts-expect-error lufs is not an audio option
audio({ lufs: -14 });
// @ts-expect-error persit is not an option
metrics({ persit: false });
// @ts-expect-error intervl is not an option
gpu({ intervl: 500 });
// @ts-expect-error plugin is not an option (plugins)
createTapline({ plugin: [] });
// @ts-expect-error dir is a string
createTapline({ dir: 42 });

const app = createTapline({ plugins: [retry(), validate(), gpu()] });
app
  .pipeline<string>("typos")
  // @ts-expect-error step option retry.maxAtempts is not an option
  .step("a", async (s) => s, { retry: { maxAtempts: 3 } })
  // @ts-expect-error step option validate.polcy is not an option
  .step("b", async (s: string) => s, { validate: { polcy: "warn" } })
  // @ts-expect-error step option gpu.device is not an option (devices)
  .step("c", async (s: string) => s, { gpu: { device: [0] } })
  // @ts-expect-error retrys is not a step option
  .step("d", async (s: string) => s, { retrys: 2 });

// The one guard narrows to the error's fields from the published declarations (core's codes and a plugin's).
declare const thrown: unknown;
if (isTaplineError(thrown, "TAPLINE_ERR_STEP_TIMEOUT")) {
  const ms: number = thrown.timeoutMs;
  // @ts-expect-error a StepTimeoutError has no findings
  void thrown.findings;
  void ms;
}
if (isTaplineError(thrown, "TAPLINE_ERR_PLUGIN_OPTIONS")) void thrown.issues.map((i) => i.path);

// The second-wave packages are as strict from their tarballs.
// @ts-expect-error tracerProvidr is not an option (tracerProvider)
otel({ tracerProvidr: undefined });
// @ts-expect-error keyz is not an option (keys)
limits({ keyz: {} });
// @ts-expect-error prot is not an option (port)
void serveDashboard({ dir: ".tapline", prot: 0 });
const shaped = createTapline({ plugins: [retry(), limits({ keys: { gpu: { concurrency: 1 } } })] });
shaped.pipeline<number[]>("shapes").map(
  "items",
  (list) => list,
  async (n: number) => n * 2,
  {
    concurrency: 2,
    limit: "gpu",
    // @ts-expect-error retry.maxAtempts is not an option, on a map's items too
    retry: { maxAtempts: 2 },
  },
);
