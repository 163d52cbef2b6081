import { definePlugin, type Finding, type PluginFactory, type StepContext } from "@tapline/core";
import { StepValidationError } from "@tapline/core/kit";
import type { ValidatePolicy, ValidateStepOption } from "./checks.ts";
import type { ValidatorOptions } from "./engine.ts";
import { type NormalizedPluginOptions, PluginOptionsSchema, ValidateStepSchema } from "./options.ts";
import { type Profile, type ProfileName, resolveProfile } from "./profiles.ts";
import { type PlannedCheck, planStep, runPlannedCheck } from "./step-plan.ts";
import { createValidatorInternals, type ValidatorInternals } from "./validator.ts";
import { version } from "./version.ts";

declare module "@tapline/core" {
  interface StepOptions {
    /** Checks of `@tapline/plugin-validate` on the step's output files: `[audio({...}), subtitles({...})]`. */
    validate?: ValidateStepOption;
  }
}

/** Options of the {@link validate} plugin. */
export interface ValidatePluginOptions extends ValidatorOptions {
  /** Profile whose expectations are the defaults of every check (a check's own fields win). Default `default`. */
  readonly profile?: ProfileName | Profile;
  /** Default policy: `fail` (an error finding fails the attempt) or `warn`. Default `fail`. */
  readonly policy?: ValidatePolicy;
  /** Default retryability of a failed validation (default true: retry may regenerate a bad file). */
  readonly retryable?: boolean;
  /**
   * Raise a `validation_failed` alert when a step finally fails validation (level `error`), or ends with
   * error findings under policy `warn` (level `warning`); default true. An attempt that a retry then heals
   * raises none: alerts are for what a person must act on.
   */
  readonly alerts?: boolean;
}

/** What the last validated attempt of a step left, for the alerts raised when the step ends. */
interface AttemptOutcome {
  readonly attempt: number;
  /** Error findings of checks with policy `fail`, by check. */
  readonly blocking: readonly Finding[];
  /** Error findings of checks with policy `warn`. */
  readonly warned: readonly Finding[];
  /** The error this attempt threw, if it failed validation. */
  readonly error?: StepValidationError;
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
  NormalizedPluginOptions,
  ValidatePluginOptions | undefined
>({
  name: "@tapline/plugin-validate",
  version,
  core: "^1.0.0",
  options: PluginOptionsSchema,
  // Core checks each step's `validate` value with this schema when `.step()` is called.
  stepOptions: { validate: ValidateStepSchema },
  setup(api) {
    const opts = api.options;
    const profile = resolveProfile(opts.profile);
    let internals: ValidatorInternals | undefined;
    const engine = () => {
      internals ??= createValidatorInternals(opts.validator);
      return internals.engine;
    };
    // Last validated attempt per step of a run in flight; taken (and deleted) when the step ends.
    const outcomes = new Map<string, AttemptOutcome>();
    const keyOf = (ctx: StepContext) => `${ctx.runId}\u0000${ctx.index}\u0000${ctx.step}`;
    let checked = 0;
    let failed = 0;

    // Plans are made once per step definition (step options are immutable once the pipeline is built).
    const plans = new WeakMap<object, readonly PlannedCheck[]>();
    const planOf = (option: ValidateStepOption): readonly PlannedCheck[] => {
      let plan = plans.get(option);
      if (!plan) {
        plan = planStep(option, profile, opts);
        plans.set(option, plan);
      }
      return plan;
    };

    api.hooks.validateStepOutput.tapPromise(api.name, async ({ ctx, output, artifacts }) => {
      const option = ctx.options.validate;
      if (option === undefined) return;
      const plan = planOf(option);
      if (plan.length === 0) return;
      const e = engine();
      const t0 = performance.now();
      const runs = plan.map((planned) => runPlannedCheck(e, planned, profile, output, ctx, artifacts));
      const done = await Promise.all(runs);
      ctx.metric(
        "tapline_validation_duration_seconds",
        (performance.now() - t0) / 1000,
        {},
        { unit: "seconds" },
      );
      const blocking: Finding[] = [];
      const warned: Finding[] = [];
      let retryable = true;
      const summary: Record<string, unknown>[] = [];
      for (const o of done) {
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
        for (const check of new Set(errors.map((f) => f.check)))
          ctx.metric("tapline_validation_failures_total", 1, { check }, { type: "counter" });
        if (o.policy === "fail") {
          for (const f of errors) blocking.push(f);
          retryable &&= o.retryable;
        } else {
          for (const f of errors) warned.push(f);
        }
      }
      ctx.annotate("validate", { attempt: ctx.attempt, files: summary });
      let error: StepValidationError | undefined;
      if (blocking.length > 0) {
        failed++;
        const head = blocking
          .slice(0, 3)
          .map((f) => `${f.check}: ${f.message}`)
          .join("; ");
        error = new StepValidationError({
          why: `step "${ctx.step}" output failed validation (${blocking.length} error${blocking.length > 1 ? "s" : ""}): ${head}${blocking.length > 3 ? "; …" : ""}`,
          findings: blocking,
          retryable,
        });
      }
      if (opts.alerts)
        outcomes.set(keyOf(ctx), { attempt: ctx.attempt, blocking, warned, ...(error && { error }) });
      if (error) throw error;
    });

    // Alerts when the step ends, on its final state: a failure a retry healed is in the report and the
    // metrics (tapline_validation_failures_total, for a rate), not in anyone's pager.
    api.hooks.stepEnd.tapPromise(api.name, async ({ ctx, report }) => {
      const key = keyOf(ctx);
      const last = outcomes.get(key);
      if (!last) return;
      outcomes.delete(key);
      const finalFailure =
        report.status === "failed" && last.error !== undefined && report.error === last.error;
      const raise = (findings: readonly Finding[], level: "error" | "warning") => {
        for (const check of new Set(findings.map((f) => f.check))) {
          const first = findings.find((f) => f.check === check)!;
          api.raiseAlert({
            rule: "validation_failed",
            level,
            state: "firing",
            labels: { pipeline: ctx.pipeline, step: ctx.step, check },
            message: `step ${ctx.step}: ${check} failed${first.file ? ` on ${first.file}` : ""}${level === "error" ? ` (attempt ${last.attempt}, final)` : ""}: ${first.message}`,
            runId: ctx.runId,
          });
        }
      };
      if (finalFailure) raise(last.blocking, "error");
      // Policy warn: the step's output is kept with its defects; say so once, at the step's end.
      if (report.status === "success" || finalFailure) raise(last.warned, "warning");
    });

    // A step that never reached stepEnd (the run was abandoned) must not leave its entry behind.
    api.hooks.runEnd.tapPromise(api.name, async ({ ctx }) => {
      const prefix = `${ctx.runId}\u0000`;
      for (const key of outcomes.keys()) if (key.startsWith(prefix)) outcomes.delete(key);
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
