import {
  definePlugin,
  type Finding,
  PipelineDefinitionError,
  type PluginDefinition,
  type PluginFactory,
  type StepContext,
  StepValidationError,
} from "@tapline/core";
import { isStepCheck, type StepCheck, type ValidatePolicy, type ValidateStepOption } from "./checks.ts";
import type { ValidatorOptions } from "./engine.ts";
import { type Profile, type ProfileName, resolveProfile } from "./profiles.ts";
import { kindFromExtension } from "./sniff.ts";
import type { TextSource } from "./text.ts";
import type { ValidationResult } from "./types.ts";
import { createValidator, type Validator } from "./validator.ts";
import { version } from "./version.ts";

declare module "@tapline/core" {
  interface StepOptions {
    /** Checks of `@tapline/plugin-validate` on the step's output files: `[audio({...}), subtitles({...})]`. */
    validate?: ValidateStepOption;
  }
}

/** Options of the {@link validate} plugin. */
export interface ValidatePluginOptions extends ValidatorOptions {
  /** Profile whose expectations are the defaults of every check (a check's own fields win). */
  readonly profile?: ProfileName | Profile;
  /** Default policy: `fail` (an error finding fails the attempt) or `warn`. Default `fail`. */
  readonly policy?: ValidatePolicy;
  /** Default retryability of a failed validation (default true: retry may regenerate a bad file). */
  readonly retryable?: boolean;
  /** Raise an alert event for each failing check (default true). */
  readonly alerts?: boolean;
}

interface Normalized {
  readonly profile: Profile;
  readonly policy: ValidatePolicy;
  readonly retryable: boolean;
  readonly alerts: boolean;
  readonly validator: ValidatorOptions;
}

type Schema = NonNullable<PluginDefinition<Normalized, ValidatePluginOptions | undefined>["options"]>;

const optionsSchema: Schema = {
  "~standard": {
    version: 1,
    vendor: "tapline",
    validate(value: unknown) {
      const issues: { message: string; path: string[] }[] = [];
      const o = (value ?? {}) as ValidatePluginOptions;
      if (typeof o !== "object" || Array.isArray(o))
        return { issues: [{ message: "options must be an object", path: [] }] };
      if (o.policy !== undefined && o.policy !== "fail" && o.policy !== "warn")
        issues.push({ message: 'must be "fail" or "warn"', path: ["policy"] });
      for (const k of ["retryable", "alerts"] as const) {
        if (o[k] !== undefined && typeof o[k] !== "boolean")
          issues.push({ message: "must be a boolean", path: [k] });
      }
      let profile: Profile | undefined;
      try {
        profile = resolveProfile(o.profile);
      } catch (error) {
        issues.push({ message: (error as Error).message, path: ["profile"] });
      }
      const { profile: _p, policy: _q, retryable: _r, alerts: _a, ...validator } = o;
      try {
        createValidator(validator); // checks concurrency, timeoutMs, cacheSize, binary paths
      } catch (error) {
        for (const i of (error as { issues?: { path: string; message: string }[] }).issues ?? [])
          issues.push({ message: i.message, path: [i.path] });
      }
      if (issues.length > 0) return { issues };
      return {
        value: {
          profile: profile!,
          policy: o.policy ?? "fail",
          retryable: o.retryable ?? true,
          alerts: o.alerts ?? true,
          validator,
        },
      };
    },
  },
} as Schema;

function stepChecks(
  option: ValidateStepOption | undefined,
): { checks: readonly StepCheck[]; policy?: ValidatePolicy; retryable?: boolean } | undefined {
  if (option === undefined) return undefined;
  if (Array.isArray(option)) return { checks: option as readonly StepCheck[] };
  return option as { checks: readonly StepCheck[] };
}

const asList = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : [...v];

/** Files a check applies to: its picker, else the attempt's artifacts of its kind (by `kind` or extension). */
function targets(
  check: StepCheck,
  output: unknown,
  ctx: StepContext,
  artifacts: readonly { path: string; kind?: string }[],
): string[] {
  const picked = asList(check.path?.(output, ctx));
  if (picked.length > 0) return picked;
  return artifacts.filter((a) => (a.kind ?? kindFromExtension(a.path)) === check.kind).map((a) => a.path);
}

const QUALITY: Record<string, [metric: string, unit: string][]> = {
  integratedLufs: [["tapline_audio_loudness_lufs", "lufs"]],
  truePeakDbtp: [["tapline_audio_true_peak_dbtp", "dbtp"]],
  coverageRatio: [["tapline_subtitle_coverage_ratio", "ratio"]],
  wordErrorRate: [["tapline_subtitle_word_error_ratio", "ratio"]],
};

/**
 * The validate plugin: runs each step's `validate` checks in core's `validateStepOutput` hook (inside the
 * attempt), on the files the step declared with `ctx.artifact()` or picked from its output. Findings go to
 * the run report, quality metrics out as samples, failing checks raise alerts; with policy `fail` an error
 * finding throws core's `StepValidationError` (retryable by default, so the retry plugin can regenerate).
 *
 * @example
 * const app = createTapline({ plugins: [validate({ profile: "youtube-shorts" })] });
 * app.pipeline("story").step("tts", async (script, ctx) => {
 *   await synthesize(script, "vo.mp3");
 *   ctx.artifact("vo.mp3", { kind: "audio" });
 *   return "vo.mp3";
 * }, { validate: [audio({ maxDuration: 60 })] });
 */
export const validate: PluginFactory<ValidatePluginOptions | undefined> = definePlugin<
  Normalized,
  ValidatePluginOptions | undefined
>({
  name: "@tapline/plugin-validate",
  version,
  core: "^1.0.0",
  options: optionsSchema,
  stepOptions: ["validate"],
  setup(api) {
    const opts =
      api.options ?? (optionsSchema["~standard"].validate(undefined) as { value: Normalized }).value;
    let validator: Validator | undefined;
    const getValidator = () => (validator ??= createValidator(opts.validator));
    let checked = 0;
    let failed = 0;

    api.hooks.pipelineBuild.tap(api.name, ({ pipeline, steps }) => {
      for (const step of steps) {
        const option = step.options.validate;
        if (option === undefined) continue;
        const spec = stepChecks(option);
        const list = spec?.checks;
        if (!Array.isArray(list) || !list.every(isStepCheck)) {
          throw new PipelineDefinitionError(
            pipeline,
            step.name,
            '"validate" must be a list of checks made by audio(), video(), text() or subtitles() from @tapline/plugin-validate (or { checks: [...], policy })',
          );
        }
        const policy = (spec as { policy?: unknown }).policy;
        if (policy !== undefined && policy !== "fail" && policy !== "warn") {
          throw new PipelineDefinitionError(
            pipeline,
            step.name,
            `"validate.policy" must be "fail" or "warn", got ${String(policy)}`,
          );
        }
      }
    });

    api.hooks.validateStepOutput.tapPromise(api.name, async ({ ctx, output, artifacts }) => {
      const spec = stepChecks(ctx.options.validate);
      if (!spec || spec.checks.length === 0) return;
      const v = getValidator();
      const t0 = performance.now();
      const signal = ctx.signal;
      const runs = spec.checks.map(async (check) => {
        const policy = check.policy ?? spec.policy ?? opts.policy;
        const retryable = check.retryable ?? spec.retryable ?? opts.retryable;
        const results: ValidationResult<object>[] = [];
        const files = targets(check, output, ctx, artifacts);
        if (check.kind === "text" && files.length === 0) {
          const source: TextSource | undefined =
            check.script?.(output, ctx) ?? (typeof output === "string" ? { text: output } : undefined);
          if (source !== undefined)
            results.push(await v.validateText(source, { ...opts.profile.text, ...check.expect }, { signal }));
        }
        for (const file of files) {
          const merged = { ...(opts.profile[check.kind] as object), ...check.expect } as any;
          if (check.kind === "audio") results.push(await v.validateAudio(file, merged, { signal }));
          else if (check.kind === "video") results.push(await v.validateVideo(file, merged, { signal }));
          else if (check.kind === "text")
            results.push(await v.validateText({ path: file }, merged, { signal }));
          else {
            const audioPath =
              asList(check.audio?.(output, ctx))[0] ??
              artifacts.find((a) => (a.kind ?? kindFromExtension(a.path)) === "audio")?.path;
            const script = check.script?.(output, ctx);
            results.push(
              await v.validateSubtitles(file, {
                expect: merged,
                ...(audioPath !== undefined && { audio: audioPath }),
                ...(script !== undefined && { script }),
                ...(opts.profile.audio && { audioExpect: opts.profile.audio }),
                signal,
              }),
            );
          }
        }
        if (results.length === 0) {
          const finding: Finding = {
            check: `${check.kind}.missing`,
            severity: policy === "fail" ? "error" : "warning",
            message: `no ${check.kind} file to check: declare it with ctx.artifact(path, { kind: "${check.kind}" }) or give the check a path picker`,
          };
          return { policy, retryable, findings: [finding], results };
        }
        return { policy, retryable, findings: results.flatMap((r) => r.findings), results };
      });
      const outcomes = await Promise.all(runs);
      ctx.metric(
        "tapline_validation_duration_seconds",
        (performance.now() - t0) / 1000,
        {},
        { unit: "seconds" },
      );
      const blocking: Finding[] = [];
      let retryable = true;
      const summary: Record<string, unknown>[] = [];
      for (const o of outcomes) {
        for (const r of o.results) {
          checked++;
          summary.push({ file: r.file, kind: r.kind, valid: r.valid, metrics: r.metrics });
          const labels = { kind: r.kind };
          for (const [key, targetsOf] of Object.entries(QUALITY)) {
            const value = (r.metrics as Record<string, unknown>)[key];
            if (typeof value === "number" && Number.isFinite(value)) {
              for (const [name, unit] of targetsOf) ctx.metric(name, value, labels, { unit });
            }
          }
        }
        for (const f of o.findings) {
          ctx.finding(f);
          ctx.metric(
            "tapline_validation_findings_total",
            1,
            { severity: f.severity, check: f.check },
            { type: "counter" },
          );
        }
        const errors = o.findings.filter((f) => f.severity === "error");
        if (errors.length === 0) continue;
        const checks = [...new Set(errors.map((f) => f.check))];
        for (const check of checks) {
          ctx.metric("tapline_validation_failures_total", 1, { check }, { type: "counter" });
          if (opts.alerts) {
            const first = errors.find((f) => f.check === check)!;
            api.raiseAlert({
              rule: "validation_failed",
              level: o.policy === "fail" ? "error" : "warning",
              state: "firing",
              labels: { pipeline: ctx.pipeline, step: ctx.step, check },
              message: `step ${ctx.step}: ${check} failed${first.file ? ` on ${first.file}` : ""}: ${first.message}`,
              runId: ctx.runId,
            });
          }
        }
        if (o.policy === "fail") {
          blocking.push(...errors);
          retryable &&= o.retryable;
        }
      }
      ctx.annotate("validate", { attempt: ctx.attempt, files: summary });
      if (blocking.length > 0) {
        failed++;
        const head = blocking
          .slice(0, 3)
          .map((f) => `${f.check}: ${f.message}`)
          .join("; ");
        throw new StepValidationError(
          `step "${ctx.step}" output failed validation (${blocking.length} error${blocking.length > 1 ? "s" : ""}): ${head}${blocking.length > 3 ? "; …" : ""}`,
          blocking,
          { retryable },
        );
      }
    });

    api.hooks.status.tap(api.name, (parts) => {
      parts.push({
        component: "validate",
        level: "ok",
        message: `${checked} file(s) validated, ${failed} failed step attempt(s)`,
        details: { checked, failed },
      });
      return parts;
    });
  },
});
