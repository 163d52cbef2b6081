import type { Labels } from "@tapline/core";
import type { AlertConfigIssue } from "./errors.ts";

/** Operators of a label matcher, as in Prometheus and Alertmanager. Regexes are anchored at both ends. */
export type MatchOperator = "=" | "!=" | "=~" | "!~";

/** One compiled label matcher. A missing label matches as the empty string (Prometheus semantics). */
export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOperator;
  readonly value: string;
}

/**
 * Label matchers in either form:
 * - an object: `{ step: "tts", model: /gpt-.*\/ }` (a string is an equality, a RegExp an anchored regex);
 * - a list of Prometheus-style matcher strings: `['step="tts"', "model=~gpt-.*", 'gpu!="0"']` (what a YAML file holds).
 */
export type MatcherInput = Readonly<Record<string, string | RegExp>> | readonly string[];

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses matchers, pushing one issue per bad entry (with `path`) instead of throwing at the first. */
export function parseMatchers(input: unknown, path: string, issues: AlertConfigIssue[]): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  if (input === undefined) return out;
  if (Array.isArray(input)) {
    input.forEach((entry, i) => {
      const m = typeof entry === "string" ? MATCHER.exec(entry) : null;
      if (!m) {
        issues.push({
          path: `${path}[${i}]`,
          message: `expected a matcher like 'step="tts"' or "model=~gpt-.*", got ${JSON.stringify(entry)}`,
        });
        return;
      }
      let value = m[3]!;
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.slice(1, -1).replace(/\\"/g, '"');
      pushChecked(out, { name: m[1]!, op: m[2] as MatchOperator, value }, `${path}[${i}]`, issues);
    });
    return out;
  }
  if (typeof input !== "object" || input === null) {
    issues.push({ path, message: "expected an object of label values or a list of matcher strings" });
    return out;
  }
  for (const [name, value] of Object.entries(input)) {
    if (value instanceof RegExp)
      pushChecked(out, { name, op: "=~", value: value.source }, `${path}.${name}`, issues);
    else if (typeof value === "string") out.push({ name, op: "=", value });
    else
      issues.push({ path: `${path}.${name}`, message: `expected a string or a RegExp, got ${typeof value}` });
  }
  return out;
}

function pushChecked(out: LabelMatcher[], m: LabelMatcher, path: string, issues: AlertConfigIssue[]): void {
  if (m.op === "=~" || m.op === "!~") {
    try {
      new RegExp(m.value);
    } catch (error) {
      issues.push({
        path,
        message: `invalid regular expression ${JSON.stringify(m.value)}: ${(error as Error).message}`,
      });
      return;
    }
  }
  out.push(m);
}

/** Compiles matchers into one predicate; no matchers match everything. */
export function compileMatchers(matchers: readonly LabelMatcher[]): (labels: Labels) => boolean {
  const n = matchers.length;
  if (n === 0) return () => true;
  const names = matchers.map((m) => m.name);
  const values = matchers.map((m) => m.value);
  // Equality-only matchers (the common case) get a loop without regexes or closures per matcher.
  if (matchers.every((m) => m.op === "=")) {
    return (labels) => {
      for (let i = 0; i < n; i++) if ((labels[names[i]!] ?? "") !== values[i]) return false;
      return true;
    };
  }
  const negate = matchers.map((m) => m.op === "!=" || m.op === "!~");
  const regexes = matchers.map((m) =>
    m.op === "=~" || m.op === "!~" ? new RegExp(`^(?:${m.value})$`) : undefined,
  );
  return (labels) => {
    for (let i = 0; i < n; i++) {
      const v = labels[names[i]!] ?? "";
      const re = regexes[i];
      const hit = re === undefined ? v === values[i] : re.test(v);
      if (hit === negate[i]) return false;
    }
    return true;
  };
}

/** Formats matchers the Prometheus way: `{step="tts",model=~"gpt-.*"}`. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(",")}}`;
}
