import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { RouteInput } from "./dispatcher.ts";
import { normalizeRoute } from "./dispatcher.ts";
import { AlertConfigError, type AlertConfigIssue } from "./errors.ts";
import { type AlertRuleInput, normalizeRules } from "./rules.ts";
import type { InhibitRuleInput, SilenceInput } from "./silences.ts";
import { parseInhibitRules } from "./silences.ts";

/** The content of a rule file (YAML or JSON). */
export interface AlertConfigFile {
  readonly rules: AlertRuleInput[];
  readonly route?: RouteInput;
  readonly inhibit?: InhibitRuleInput[];
  readonly silences?: SilenceInput[];
}

const TOP_KEYS = new Set(["rules", "route", "inhibit", "silences"]);

/**
 * Reads and checks a YAML or JSON rule file (`{ rules, route?, inhibit?, silences? }`; a bare list is taken as
 * `rules`). Throws an `AlertConfigError` naming the file and every bad field with its path, e.g.
 * `rules[1].levels.warning.threshold: required: a finite number`.
 *
 * @example
 * const config = await loadAlertConfig("alerts.yaml");
 * const manager = createAlertManager({ ...config, handlers: [consoleHandler()] });
 */
export async function loadAlertConfig(file: string): Promise<AlertConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new AlertConfigError(
      [{ path: "", message: `cannot read the rule file: ${(error as Error).message}` }],
      file,
      { cause: error },
    );
  }
  return parseAlertConfig(text, file);
}

/** @internal Synchronous variant for `createAlertManager({ rules: "file.yaml" })` (options are checked at creation). */
export function loadAlertConfigSync(file: string): AlertConfigFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new AlertConfigError(
      [{ path: "", message: `cannot read the rule file: ${(error as Error).message}` }],
      file,
      { cause: error },
    );
  }
  return parseAlertConfig(text, file);
}

/**
 * Parses and checks the text of a rule file (YAML, of which JSON is a subset). `file` only names it in errors.
 */
export function parseAlertConfig(text: string, file = "<rules>"): AlertConfigFile {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new AlertConfigError(
      [{ path: "", message: `not valid YAML/JSON: ${(error as Error).message.split("\n")[0]}` }],
      file,
      { cause: error },
    );
  }
  if (Array.isArray(doc)) doc = { rules: doc };
  const issues: AlertConfigIssue[] = [];
  if (typeof doc !== "object" || doc === null) {
    throw new AlertConfigError(
      [
        {
          path: "",
          message: "expected a mapping with `rules:` (and optional `route:`, `inhibit:`, `silences:`)",
        },
      ],
      file,
    );
  }
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d))
    if (!TOP_KEYS.has(key))
      issues.push({ path: key, message: `unknown field (known: ${[...TOP_KEYS].join(", ")})` });
  if (d.rules === undefined) issues.push({ path: "rules", message: "required: a list of rules" });
  normalizeRules(d.rules, "rules", issues);
  if (d.route !== undefined) normalizeRoute(d.route, "route", issues);
  parseInhibitRules(d.inhibit, "inhibit", issues);
  if (d.silences !== undefined && !Array.isArray(d.silences))
    issues.push({ path: "silences", message: "expected a list of silences" });
  if (issues.length > 0) throw new AlertConfigError(issues, file);
  return d as unknown as AlertConfigFile;
}
