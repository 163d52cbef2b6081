import type { StandardSchemaV1 } from "@standard-schema/spec";
import { closestMatch } from "leven";
import { TaplineError } from "./create-error.ts";

/**
 * Option checking, one mechanism for every Tapline package: each factory, policy, check, step option and
 * config file has a Standard Schema (Tapline's own packages write theirs with valibot's `strictObject`, so an
 * unknown key is an issue), and {@link parseOptions} turns the schema's issues into one {@link OptionsError}
 * that names the path, the bad value, what was expected and the closest known key.
 */

/** One problem found in options, with the path of the bad field. */
export interface OptionIssue {
  /** Dotted path from the options' root: `defaults.maxAttempts`, `rules[2].level`; `(options)` for the root. */
  readonly path: string;
  /** What is wrong, in words: `unknown option "maxAtempts"; did you mean "maxAttempts"?`. */
  readonly message: string;
  /** The value given, when there is one (`undefined` for a missing option). */
  readonly value?: unknown;
  /** What was expected, when the schema says (`number`, `>=1`, `"constant" | "exponential"`). */
  readonly expected?: string;
  /** The closest valid key or value, when a name was misspelt. */
  readonly suggestion?: string;
}

/**
 * Options are invalid. `subject` names what was being configured (`retry()`, `createTapline()`,
 * `step "script" option retry`, a rule file's path) and `issues` lists every problem, not just the first.
 */
export class OptionsError extends TaplineError {
  declare readonly code: string;
  /** What was configured: a factory (`retry()`), a step option, a file. */
  readonly subject: string;
  readonly issues: readonly OptionIssue[];
  constructor(subject: string, issues: readonly OptionIssue[], code = "TAPLINE_ERR_OPTIONS") {
    super(code, `${subject}: invalid options:\n${formatOptionIssues(issues)}`);
    this.name = "OptionsError";
    this.subject = subject;
    this.issues = issues;
  }
}

/** The result of {@link checkOptions}. */
export type OptionsResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly value?: undefined; readonly issues: readonly OptionIssue[] };

/**
 * Validates `input` against a Standard Schema (synchronously) and explains every issue. For valibot schemas
 * an unknown key gets the closest known key as a suggestion; any other Standard Schema library works too,
 * with its own messages.
 */
export function checkOptions<T>(schema: StandardSchemaV1<unknown, T>, input: unknown): OptionsResult<T> {
  const result = schema["~standard"].validate(input);
  if (result instanceof Promise) {
    return {
      issues: [
        { path: "(options)", message: "the options schema is asynchronous; it must validate synchronously" },
      ],
    };
  }
  if (!result.issues) return { value: result.value };
  return { issues: explainIssues(schema, result.issues) };
}

/**
 * Validates `input` against a schema and returns the parsed value, or throws an {@link OptionsError} naming
 * `subject` and every issue.
 *
 * @example
 * const Options = v.strictObject({ maxWords: v.optional(v.number()) });
 * parseOptions(Options, { maxWord: 10 }, "text()");
 * // OptionsError: text(): invalid options:
 * //   - maxWord: unknown option "maxWord"; did you mean "maxWords"?
 */
export function parseOptions<T>(schema: StandardSchemaV1<unknown, T>, input: unknown, subject: string): T {
  const result = checkOptions(schema, input);
  if (result.issues) throw new OptionsError(subject, result.issues);
  return result.value as T;
}

/** Formats issues one per line (`  - path: message`), as every Tapline options error prints them. */
export function formatOptionIssues(issues: readonly OptionIssue[]): string {
  return issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n");
}

/** Prefixes each issue's path (`maxAttempts` under `retry` becomes `retry.maxAttempts`). */
export function prefixOptionIssues(prefix: string, issues: readonly OptionIssue[]): OptionIssue[] {
  return issues.map((i) => ({ ...i, path: i.path === "(options)" ? prefix : joinPath(prefix, i.path) }));
}

function joinPath(prefix: string, path: string): string {
  return path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`;
}

type PathItem = PropertyKey | StandardSchemaV1.PathSegment;
interface RawIssue extends StandardSchemaV1.Issue {
  readonly kind?: string;
  readonly type?: string;
  readonly expected?: string | null;
  readonly received?: string;
  readonly input?: unknown;
}

function explainIssues(schema: unknown, raw: readonly StandardSchemaV1.Issue[]): OptionIssue[] {
  const out: OptionIssue[] = [];
  const seen = new Set<string>();
  for (const issue of raw as readonly RawIssue[]) {
    const items = issue.path ?? [];
    const keys = items.map(keyOf);
    const path = formatPath(keys);
    const explained = explainOne(schema, issue, items, keys);
    // valibot reports every failed validation of one value (integer, then >= 1); keep one line per value.
    const id = `${path}\u0000${explained.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ path, ...explained });
  }
  return out;
}

function explainOne(
  schema: unknown,
  issue: RawIssue,
  items: readonly PathItem[],
  keys: readonly PropertyKey[],
): Omit<OptionIssue, "path"> {
  const last = keys[keys.length - 1];
  const isValibotDefault = /^Invalid (key|type|value|length|integer|entry|option)\b|^Invalid [a-z ]+:/.test(
    issue.message,
  );
  // An unknown key: valibot's strictObject reports `expected never`.
  if (issue.type === "strict_object" && issue.expected === "never" && typeof last === "string") {
    const holders = holderOptions(schema, items);
    const known = holders && [...new Set(holders.flatMap((o) => Object.keys(o.entries ?? {})))];
    const suggestion =
      hintOf(holders, last) ??
      (known
        ? closestMatch(last, known, { maxDistance: Math.max(2, Math.floor(last.length / 3)) })
        : undefined);
    const message =
      `unknown option "${last}"` +
      (suggestion ? `; did you mean "${suggestion}"?` : "") +
      (known && known.length > 0 ? ` (known: ${known.join(", ")})` : "");
    return suggestion === undefined ? { message } : { message, suggestion };
  }
  if (
    issue.type === "strict_object" &&
    issue.received === "undefined" &&
    typeof issue.expected === "string"
  ) {
    return { message: `missing required option ${issue.expected}`, expected: stripQuotes(issue.expected) };
  }
  const value = "input" in issue ? issue.input : undefined;
  const expected = typeof issue.expected === "string" ? issue.expected : undefined;
  if (issue.kind === undefined) {
    // Another Standard Schema library: its own words.
    return withValue({ message: issue.message }, issue, expected);
  }
  if (!isValibotDefault) {
    // A schema's own message either names what is expected ("a number of milliseconds") or says it as a
    // rule ("must be a whole number"); either way, say what was given.
    const rule = /^(must|should|needs?|cannot|can't|is|are|has|have)\b/i.test(issue.message);
    const text = rule ? issue.message : `expected ${issue.message}`;
    return withValue({ message: `${text}, got ${show(value)}` }, issue, issue.message);
  }
  if (expected) {
    const choices = [...expected.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
    const suggestion =
      typeof value === "string" && choices.length > 1
        ? closestMatch(value, choices, { maxDistance: 3 })
        : undefined;
    const message = `expected ${expected}, got ${show(value)}${suggestion ? `; did you mean "${suggestion}"?` : ""}`;
    return withValue(suggestion === undefined ? { message } : { message, suggestion }, issue, expected);
  }
  const what = issue.message.replace(/^Invalid ([a-z ]+):.*$/, "$1");
  return withValue({ message: `expected ${article(what)}, got ${show(value)}` }, issue, undefined);
}

function withValue(
  base: Omit<OptionIssue, "path" | "value" | "expected">,
  issue: RawIssue,
  expected: string | undefined,
): Omit<OptionIssue, "path"> {
  const out: { -readonly [K in keyof OptionIssue]?: OptionIssue[K] } = { ...base };
  if ("input" in issue) out.value = issue.input;
  if (expected !== undefined) out.expected = expected;
  return out as Omit<OptionIssue, "path">;
}

function article(what: string): string {
  return /^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`;
}

function stripQuotes(s: string): string {
  return s.replace(/^"(.*)"$/, "$1");
}

/** A short, safe rendering of a bad value for a message. */
function show(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "function") return "a function";
  if (typeof value === "number") return String(value); // JSON would print NaN and Infinity as null
  if (typeof value === "bigint" || typeof value === "symbol") return String(value);
  if (value === undefined) return "undefined";
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function keyOf(item: PathItem): PropertyKey {
  return typeof item === "object" && item !== null ? item.key : item;
}

function formatPath(keys: readonly PropertyKey[]): string {
  if (keys.length === 0) return "(options)";
  return keys
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("");
}

// ---- Walking a valibot schema to find the keys known at a path (duck-typed: no valibot import needed). ----

interface SchemaNode {
  readonly type?: string;
  readonly entries?: Record<string, unknown>;
  readonly wrapped?: unknown;
  readonly options?: readonly unknown[];
  readonly key?: string;
  readonly item?: unknown;
  readonly items?: readonly unknown[];
  readonly value?: unknown;
  readonly getter?: (input: unknown) => unknown;
  readonly pipe?: readonly unknown[];
}

function unwrap(node: unknown, input: unknown): SchemaNode | undefined {
  let current = node as SchemaNode | undefined;
  for (let i = 0; i < 32 && current && typeof current === "object"; i++) {
    if (current.entries) return current;
    if (current.wrapped) current = current.wrapped as SchemaNode;
    else if (current.type === "lazy" && current.getter) current = current.getter(input) as SchemaNode;
    else return current;
  }
  return current;
}

/** The object schemas a value at this node may match (a union or variant has several). */
function objectOptions(node: unknown, input: unknown): SchemaNode[] {
  const n = unwrap(node, input);
  if (!n) return [];
  if (n.entries) return [n];
  if ((n.type === "variant" || n.type === "union") && n.options) {
    const all = n.options.flatMap((o) => objectOptions(o, input));
    if (n.type === "variant" && n.key && input && typeof input === "object") {
      const tag = (input as Record<string, unknown>)[n.key];
      const match = all.filter((o) => literalOf(o.entries?.[n.key as string]) === tag);
      if (match.length > 0) return match;
    }
    return all;
  }
  return [];
}

function literalOf(node: unknown): unknown {
  const n = unwrap(node, undefined) as (SchemaNode & { literal?: unknown }) | undefined;
  return n?.literal;
}

function childOf(node: unknown, item: PathItem): unknown {
  const key = keyOf(item);
  const input =
    typeof item === "object" && item !== null && "input" in item
      ? (item as { input: unknown }).input
      : undefined;
  const n = unwrap(node, input);
  if (!n) return undefined;
  if (n.type === "array" && n.item) return n.item;
  if (n.type === "tuple" && n.items && typeof key === "number") return n.items[key];
  if (n.type === "record" && n.value) return n.value;
  for (const option of objectOptions(n, input)) {
    const child = option.entries?.[String(key)];
    if (child) return child;
  }
  return undefined;
}

/**
 * A schema's own hint for a key users get wrong in a way no spelling distance finds (`retries` for
 * `defaults.maxAttempts`): `v.pipe(v.strictObject({...}), v.metadata({ didYouMean: { retries: "..." } }))`.
 */
function hintOf(holders: readonly SchemaNode[] | undefined, key: string): string | undefined {
  for (const holder of holders ?? []) {
    for (const item of holder.pipe ?? []) {
      const hint = (item as { metadata?: { didYouMean?: Record<string, unknown> } }).metadata?.didYouMean?.[
        key
      ];
      if (typeof hint === "string") return hint;
    }
  }
  return undefined;
}

function holderOptions(schema: unknown, items: readonly PathItem[]): SchemaNode[] | undefined {
  let node: unknown = schema;
  for (const item of items.slice(0, -1)) {
    node = childOf(node, item);
    if (!node) return undefined;
  }
  // The object holding the unknown key, so a variant picks the case its tag names.
  const last = items[items.length - 1];
  const holder =
    last && typeof last === "object" && "input" in last ? (last as { input: unknown }).input : undefined;
  const options = objectOptions(node, holder);
  return options.length === 0 ? undefined : options;
}
