import { readFile, stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { isTaplineError } from "@tapline/core";
import { formatOptionIssues } from "@tapline/core/kit";
import type { Profile, ValidationResult } from "@tapline/plugin-validate";
import { parse as parseYaml } from "yaml";
import { cliError, isCliError, usage } from "../errors.ts";
import { type CliIo, palette } from "../io.ts";
import { loadValidate } from "../readers.ts";
import { type Command, defineCommand } from "./command.ts";

const HELP = `Usage: tapline validate <files...> [--profile <name|file>] [--thorough] [--json]

Checks audio, video, text and subtitle files with @tapline/plugin-validate (ffprobe/ffmpeg for media); the
validator is chosen by each file's extension and content.

Options:
  --profile <name|file>
                     expectations to check against: a built-in profile (default, youtube-shorts,
                     instagram-reels, tiktok, podcast, ebu-r128), or a YAML or JSON file holding a
                     profile as defineProfile() takes it ({ name, audio, video, text, subtitles })
  --thorough         also decode the media (loudness, silences, black or frozen frames): slower
  --json             print one JSON document: an array of
                     { "file", "kind", "valid", "findings": [{ "check", "severity", "message" }] }
  -h, --help         show this help

Exit status: 0 when every file is valid, 1 when any file has an error finding, 2 on a usage error
(unknown option, no files).`;

/** A `--profile` value naming a file rather than a built-in profile. */
const isProfileFile = (value: string): boolean => /\.(ya?ml|json)$/i.test(value) || /[\\/]/.test(value);

/** Largest profile file read: a profile is a few hundred bytes. */
const MAX_PROFILE_BYTES = 1024 * 1024;

/**
 * Reads a profile file (YAML or JSON, parsed with `yaml`) and checks it with the schema of
 * `defineProfile()`: an unknown or mistyped key is an error naming the file, the path and the closest key.
 * Without `name`, the file's base name is the profile's name.
 */
async function loadProfileFile(
  path: string,
  shown: string,
  validate: Awaited<ReturnType<typeof loadValidate>>,
): Promise<Profile> {
  const fail = (message: string, cause?: unknown) =>
    cliError(
      "TAPLINE_ERR_CLI_CONFIG",
      `tapline validate: profile file ${shown}: ${message}`,
      cause === undefined ? undefined : { cause },
    );
  let text: string;
  try {
    // stat first: a FIFO or device given as --profile must not block or never end.
    const s = await stat(path);
    if (!s.isFile()) throw fail("is not a regular file");
    if (s.size > MAX_PROFILE_BYTES)
      throw fail(`is ${s.size} bytes, over ${MAX_PROFILE_BYTES}: not a profile`);
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isCliError(error)) throw error;
    throw fail(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      error,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    const what = extname(path).toLowerCase() === ".json" ? "JSON" : "YAML";
    throw fail(`is not valid ${what}: ${(error as Error).message}`, error);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw fail("must be a mapping: { name, audio, video, text, subtitles }");
  const named = "name" in data ? data : { name: basename(path, extname(path)), ...data };
  try {
    return validate.defineProfile(undefined, named as Profile);
  } catch (error) {
    if (isTaplineError(error, "TAPLINE_ERR_VALIDATE_OPTIONS"))
      throw fail(`invalid profile:\n${formatOptionIssues(error.issues)}`, error);
    throw error;
  }
}

/** `tapline validate`: the validate plugin on any files. */
export const validateCommand: Command = defineCommand({
  name: "validate",
  summary: "check audio/video/text/subtitle files (optionally against a profile)",
  help: HELP,
  options: { profile: { type: "string" }, thorough: { type: "boolean" } },
  positionals: true,
  async run({ values, positionals, io, print }) {
    if (positionals.length === 0)
      throw usage("tapline validate: no files given (tapline validate <files...>; see --help)");
    if (values.profile !== undefined && values.profile.trim() === "")
      throw usage("tapline validate: --profile needs a name");
    const validate = await loadValidate();
    const { validateFile, PROFILES } = validate;
    let profile: string | Profile | undefined = values.profile;
    if (values.profile !== undefined && isProfileFile(values.profile)) {
      profile = await loadProfileFile(resolve(io.cwd, values.profile), values.profile, validate);
    } else if (values.profile !== undefined && !Object.hasOwn(PROFILES, values.profile)) {
      throw usage(
        `tapline validate: unknown validation profile "${values.profile}" (known: ${Object.keys(PROFILES).join(", ")}); or give a profile file (.yaml, .yml, .json)`,
      );
    }
    const options = {
      ...(profile !== undefined && { profile }),
      ...(values.thorough && { thorough: true }),
    };
    const results: ValidationResult<object>[] = [];
    for (const file of positionals) {
      // One at a time: ffmpeg already uses the cores, and the output keeps the order given.
      results.push(await validateFile(resolve(io.cwd, file), options));
    }
    const failed = results.some((r) => !r.valid || r.findings.some((f) => f.severity === "error"));
    return print(
      failed ? 1 : 0,
      () =>
        results.map((r, i) => ({
          file: positionals[i],
          kind: r.kind,
          valid: r.valid,
          findings: r.findings.map((f) => ({ check: f.check, severity: f.severity, message: f.message })),
        })),
      () => formatResults(results, positionals, io),
    );
  },
});

function formatResults(
  results: readonly ValidationResult<object>[],
  files: readonly string[],
  io: CliIo,
): string {
  const c = palette(io.stdout, io.env);
  const lines: string[] = [];
  for (const [i, r] of results.entries()) {
    lines.push(`${r.valid ? c.green("✓ valid  ") : c.red("✗ invalid")} ${files[i]} ${c.dim(`(${r.kind})`)}`);
    for (const f of r.findings) {
      const sev =
        f.severity === "error"
          ? c.red("error  ")
          : f.severity === "warning"
            ? c.yellow("warning")
            : c.dim("info   ");
      lines.push(`    ${sev} ${f.check}: ${f.message}`);
    }
  }
  const bad = results.filter((r) => !r.valid).length;
  lines.push(
    "",
    bad === 0
      ? c.green(`${results.length} file(s) valid`)
      : c.red(`${bad} of ${results.length} file(s) invalid`),
  );
  return `${lines.join("\n")}\n`;
}
