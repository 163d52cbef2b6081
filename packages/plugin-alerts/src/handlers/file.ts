import { appendFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type AlertHandler, defineAlertHandler } from "../handler.ts";
import { FileOptionsSchema, parseConfig } from "../schemas.ts";
import { toWebhookV4 } from "../wire.ts";

/** Options of {@link fileHandler}. */
export interface FileHandlerOptions {
  /** The JSON-lines file to append to; its folder is created. */
  readonly path: string;
  /** Handler name. Default `file`. */
  readonly name?: string;
}

/**
 * Appends each notification to a JSON-lines file, one Alertmanager webhook v4 body per line (the shape
 * existing tooling already reads).
 *
 * @example
 * fileHandler({ path: ".tapline/notifications.jsonl" })
 */
export function fileHandler(input: FileHandlerOptions): AlertHandler {
  const options = parseConfig(FileOptionsSchema, input, { subject: "fileHandler()" }) as FileHandlerOptions;
  const path = resolve(options.path);
  const name = options.name ?? "file";
  let made = false;
  return defineAlertHandler({
    name,
    retries: 2,
    async send(notification) {
      if (!made) {
        await mkdir(dirname(path), { recursive: true });
        made = true;
      }
      await appendFile(path, `${JSON.stringify(toWebhookV4(notification, { receiver: name }))}\n`);
    },
  });
}
