import { describeError, type RunReport, type StepReport } from "@tapline/core";
import { redactFields } from "@tapline/core/kit";

/** `{ name, message, code?, status? }` of any thrown value: errors do not survive JSON.stringify. */
export function serialiseError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: describeError(error) };
  const e = error as Error & { code?: unknown; status?: unknown };
  return {
    name: e.name,
    message: describeError(e),
    ...(e.code !== undefined && { code: e.code }),
    ...(e.status !== undefined && { status: e.status }),
  };
}

/**
 * A run report as plain JSON: errors become objects, outputs are kept when they serialise. Secrets are
 * redacted everywhere (secret-named fields and secrets inside strings: errors, outputs, extensions).
 */
export function serialiseReport(report: RunReport): Record<string, unknown> {
  return redactFields({
    runId: report.runId,
    pipeline: report.pipeline,
    status: report.status,
    startedAt: Math.round(report.startedAt),
    durationMs: Math.round(report.durationMs),
    ...(report.failedStep !== undefined && { failedStep: report.failedStep }),
    ...(report.error !== undefined && { error: serialiseError(report.error) }),
    output: safe(report.output),
    ...(Object.keys(report.cost ?? {}).length > 0 && { cost: report.cost }),
    ...(report.budget && { budget: report.budget }),
    ...(report.resumed && { resumed: true }),
    ...(report.savedCost && Object.keys(report.savedCost).length > 0 && { savedCost: report.savedCost }),
    ...(report.suspended && {
      suspended: {
        unit: report.suspended.unit,
        reason: report.suspended.reason,
        data: safe(report.suspended.data),
      },
    }),
    ...(report.budgetExceeded !== undefined && { budgetExceeded: serialiseError(report.budgetExceeded) }),
    steps: report.steps.map(serialiseStep),
    pluginErrors: report.pluginErrors.map(serialiseError),
  });
}

/** One unit's report as JSON, its children (branches, map items, cases) nested. */
function serialiseStep(s: StepReport): Record<string, unknown> {
  return {
    name: s.name,
    path: s.path,
    status: s.status,
    durationMs: Math.round(s.durationMs),
    attempts: s.attempts.map((a) => ({
      attempt: a.attempt,
      status: a.status,
      durationMs: Math.round(a.durationMs),
      ...(a.error !== undefined && { error: serialiseError(a.error) }),
    })),
    findings: s.findings,
    artifacts: s.artifacts.map((a) => ({ path: a.path, kind: a.kind, step: a.step })),
    ...(s.error !== undefined && { error: serialiseError(s.error) }),
    ...(s.abandoned && { abandoned: true }),
    ...(s.replayed && { replayed: true }),
    ...(s.savedCost && Object.keys(s.savedCost).length > 0 && { savedCost: s.savedCost }),
    ...(Object.keys(s.cost ?? {}).length > 0 && { cost: s.cost }),
    extensions: safe(s.extensions),
    ...(s.children && { children: s.children.map(serialiseStep) }),
  };
}

function safe(value: unknown): unknown {
  try {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch {
    return "[not serialisable]";
  }
}
