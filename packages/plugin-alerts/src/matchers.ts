import type { Labels } from "@tapline/core";

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

/** @internal A Prometheus-style matcher string: name, operator, value (optionally double-quoted). */
export const MATCHER_PATTERN = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** @internal Turns matchers that passed the schema (see `schemas.ts`) into a list; nothing is checked here. */
export function toMatchers(input: MatcherInput | undefined): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  if (input === undefined) return out;
  if (Array.isArray(input)) {
    for (const entry of input as readonly string[]) {
      const m = MATCHER_PATTERN.exec(entry)!;
      let value = m[3]!;
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.slice(1, -1).replace(/\\"/g, '"');
      out.push({ name: m[1]!, op: m[2] as MatchOperator, value });
    }
    return out;
  }
  for (const [name, value] of Object.entries(input as Readonly<Record<string, string | RegExp>>)) {
    if (value instanceof RegExp) out.push({ name, op: "=~", value: value.source });
    else out.push({ name, op: "=", value });
  }
  return out;
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
