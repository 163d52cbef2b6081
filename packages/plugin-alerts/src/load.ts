import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { RouteInput } from "./dispatcher.ts";
import { AlertConfigError } from "./errors.ts";
import type { AlertRuleInput } from "./rules.ts";
import { ConfigFileSchema, parseConfig } from "./schemas.ts";
import type { InhibitRuleInput, SilenceInput } from "./silences.ts";

/** The content of a rule file (YAML or JSON). */
export interface AlertConfigFile {
  readonly rules: AlertRuleInput[];
  readonly route?: RouteInput;
  readonly inhibit?: InhibitRuleInput[];
  readonly silences?: SilenceInput[];
}

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
      {
        issues: [{ path: "(file)", message: `cannot read the rule file: ${(error as Error).message}` }],
        subject: file,
        file,
      },
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
      {
        issues: [{ path: "(file)", message: `cannot read the rule file: ${(error as Error).message}` }],
        subject: file,
        file,
      },
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
      {
        issues: [
          { path: "(file)", message: `not valid YAML/JSON: ${(error as Error).message.split("\n")[0]}` },
        ],
        subject: file,
        file,
      },
      { cause: error },
    );
  }
  if (Array.isArray(doc)) doc = { rules: doc };
  if (typeof doc !== "object" || doc === null) {
    throw new AlertConfigError({
      issues: [
        {
          path: "(file)",
          message: "expected a mapping with `rules:` (and optional `route:`, `inhibit:`, `silences:`)",
          value: doc,
        },
      ],
      subject: file,
      file,
    });
  }
  return parseConfig(ConfigFileSchema, doc, { file }) as AlertConfigFile;
}
