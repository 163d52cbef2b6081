/**
 * What the plugin does with a step's `validate` option, without hooks: plan it once per step definition
 * (profile expectations merged, policies resolved, custom checks attached to their kind), then run each planned
 * check on an attempt's output through {@link validateKind}, the function `validateFile()` calls.
 */
import type { Finding, StepContext } from "@tapline/core";
import type { StepCheck, ValidatePolicy, ValidateStepOption } from "./checks.ts";
import { type Check, isCheck } from "./define-check.ts";
import type { Engine } from "./engine.ts";
import type { Profile } from "./profiles.ts";
import { kindFromExtension } from "./sniff.ts";
import type { TextSource } from "./text.ts";
import type { FileKind, ValidationResult } from "./types.ts";
import { type KindCall, validateKind } from "./validator.ts";

/** One check of a step, ready to run: everything that does not depend on the attempt is settled. */
export interface PlannedCheck {
  readonly check: StepCheck;
  /** The profile's expectations for the kind, overridden by the check's. */
  readonly expect: object;
  /** Checks made with `defineCheck()` that run with it, on the same files and pass. */
  readonly extra: readonly Check[];
  readonly policy: ValidatePolicy;
  readonly retryable: boolean;
}

/** What one planned check found in one attempt. */
export interface CheckOutcome {
  readonly policy: ValidatePolicy;
  readonly retryable: boolean;
  readonly findings: readonly Finding[];
  readonly results: readonly ValidationResult<object>[];
}

/**
 * Plans a step's checks. Custom checks (`defineCheck()`) join the list's first check of their kind; a kind
 * with custom checks only gets a check with the profile's expectations, so they run on the step's files of
 * that kind.
 */
export function planStep(
  option: ValidateStepOption,
  profile: Profile,
  defaults: { readonly policy: ValidatePolicy; readonly retryable: boolean },
): readonly PlannedCheck[] {
  const list = Array.isArray(option) ? option : (option as { checks: readonly (StepCheck | Check)[] }).checks;
  const spec = (Array.isArray(option) ? {} : option) as { policy?: ValidatePolicy; retryable?: boolean };
  const builtIn = list.filter((c): c is StepCheck => !isCheck(c));
  const custom = new Map<FileKind, Check[]>();
  for (const c of list) if (isCheck(c)) custom.set(c.kind, [...(custom.get(c.kind) ?? []), c]);
  for (const kind of custom.keys())
    if (!builtIn.some((c) => c.kind === kind))
      builtIn.push({ kind, expect: {}, isTaplineValidateCheck: true });
  const seen = new Set<FileKind>();
  return builtIn.map((check) => {
    const first = !seen.has(check.kind);
    seen.add(check.kind);
    return {
      check,
      expect: { ...(profile[check.kind] as object), ...check.expect },
      extra: first ? (custom.get(check.kind) ?? []) : [],
      policy: check.policy ?? spec.policy ?? defaults.policy,
      retryable: check.retryable ?? spec.retryable ?? defaults.retryable,
    };
  });
}

const asList = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : [...v];

const ofKind = (a: { path: string; kind?: string }, kind: FileKind) =>
  (a.kind ?? kindFromExtension(a.path)) === kind;

/**
 * Runs one planned check on an attempt: on the files its picker names, else the attempt's artifacts of its
 * kind (by `kind`, else extension); text falls back to the `text` picker, then a string output. No file gives a
 * `<kind>.missing` finding (an error under policy `fail`).
 */
export async function runPlannedCheck(
  engine: Engine,
  planned: PlannedCheck,
  profile: Profile,
  output: unknown,
  ctx: StepContext,
  artifacts: readonly { path: string; kind?: string }[],
): Promise<CheckOutcome> {
  const { check, expect, extra, policy, retryable } = planned;
  const kind = check.kind;
  const picked = asList(check.path?.(output, ctx));
  const files = picked.length > 0 ? picked : artifacts.filter((a) => ofKind(a, kind)).map((a) => a.path);
  // A text file is a `{ path }`; what a `text` picker returns is a text source as given.
  const sources: (string | TextSource)[] = kind === "text" ? files.map((path) => ({ path })) : files;
  if (kind === "text" && sources.length === 0) {
    const source = check.script?.(output, ctx) ?? (typeof output === "string" ? { text: output } : undefined);
    if (source !== undefined) sources.push(source);
  }
  let call: KindCall = { signal: ctx.signal, ...(extra.length > 0 && { checks: extra }) };
  if (kind === "subtitles" && sources.length > 0) {
    const audio = asList(check.audio?.(output, ctx))[0] ?? artifacts.find((a) => ofKind(a, "audio"))?.path;
    const script = check.script?.(output, ctx);
    call = {
      ...call,
      ...(audio !== undefined && { audio }),
      ...(script !== undefined && { script }),
      ...(profile.audio && { audioExpect: profile.audio }),
    };
  }
  const results: ValidationResult<object>[] = [];
  for (const source of sources) results.push(await validateKind(engine, kind, source, expect, call));
  if (results.length === 0) {
    const finding: Finding = {
      check: `${kind}.missing`,
      severity: policy === "fail" ? "error" : "warning",
      message: `no ${kind} file to check: declare it with ctx.artifact(path, { kind: "${kind}" }) or give the check a path picker`,
    };
    return { policy, retryable, findings: [finding], results };
  }
  const findings: Finding[] = [];
  for (const r of results) for (const f of r.findings) findings.push(f);
  return { policy, retryable, findings, results };
}
