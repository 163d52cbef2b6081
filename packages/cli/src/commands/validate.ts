import { resolve } from "node:path";
import type { ValidationResult } from "@tapline/plugin-validate";
import { parseCommand } from "../args.ts";
import { usage } from "../errors.ts";
import { json } from "../format.ts";
import { palette } from "../io.ts";
import { loadValidate } from "../readers.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: tapline validate <files...> [--profile <name>] [--thorough] [--json]

Checks audio, video, text and subtitle files with @tapline/plugin-validate (ffprobe/ffmpeg for media); the
validator is chosen by each file's extension and content.

Options:
  --profile <name>   expectations to check against, e.g. youtube-shorts
  --thorough         also decode the media (loudness, silences, black or frozen frames): slower
  --json             print one JSON document: an array of
                     { "file", "kind", "valid", "findings": [{ "check", "severity", "message" }] }
  -h, --help         show this help

Exit status: 0 when every file is valid, 1 when any file has an error finding, 2 on a usage error
(unknown option, no files).`;

/** `tapline validate`: the validate plugin on any files. */
export const validateCommand: Command = {
  name: "validate",
  summary: "check audio/video/text/subtitle files (optionally against a profile)",
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommand(
      "validate",
      argv,
      { profile: { type: "string" }, thorough: { type: "boolean" }, json: { type: "boolean" } },
      true,
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length === 0)
      throw usage("tapline validate: no files given (tapline validate <files...>; see --help)");
    if (values.profile !== undefined && values.profile.trim() === "")
      throw usage("tapline validate: --profile needs a name");
    const { validateFile, resolveProfile, isUnknownProfileError } = await loadValidate();
    if (values.profile !== undefined) {
      try {
        resolveProfile(values.profile);
      } catch (error) {
        if (isUnknownProfileError(error))
          throw usage(`tapline validate: ${error.message.replace(/; pass a profile object.*$/, "")}`);
        throw error;
      }
    }
    const options = {
      ...(values.profile !== undefined && { profile: values.profile }),
      ...(values.thorough && { thorough: true }),
    };
    const results: ValidationResult<object>[] = [];
    for (const file of positionals) {
      // One at a time: ffmpeg already uses the cores, and the output keeps the order given.
      results.push(await validateFile(resolve(io.cwd, file), options));
    }
    const failed = results.some((r) => !r.valid || r.findings.some((f) => f.severity === "error"));
    if (values.json) {
      io.stdout.write(
        json(
          results.map((r, i) => ({
            file: positionals[i],
            kind: r.kind,
            valid: r.valid,
            findings: r.findings.map((f) => ({ check: f.check, severity: f.severity, message: f.message })),
          })),
        ),
      );
      return failed ? 1 : 0;
    }
    const c = palette(io.stdout, io.env);
    const lines: string[] = [];
    for (const [i, r] of results.entries()) {
      lines.push(
        `${r.valid ? c.green("✓ valid  ") : c.red("✗ invalid")} ${positionals[i]} ${c.dim(`(${r.kind})`)}`,
      );
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
    io.stdout.write(`${lines.join("\n")}\n`);
    return failed ? 1 : 0;
  },
};
