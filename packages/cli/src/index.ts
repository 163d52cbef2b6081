export { parseSince } from "./args.ts";
export type { Command } from "./commands/command.ts";
export { KNOWN_PLUGINS, loadConfig, type PluginEntry, type RunConfig } from "./config.ts";
export { type CliError, type CliErrorCode, EXIT_CODES } from "./errors.ts";
export type { CliIo, CliStream } from "./io.ts";
export { COMMANDS, main } from "./main.ts";
export { serialiseError, serialiseReport } from "./report.ts";
export { VERSION } from "./version.ts";
