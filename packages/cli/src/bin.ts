#!/usr/bin/env node
import { processIo } from "./io.ts";
import { main } from "./main.ts";

// Ctrl-C once cancels the runs in flight (they end with status "cancelled"); twice exits at once.
const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  if (++interrupts > 1) process.exit(130);
  controller.abort(new Error(`received ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.exitCode = await main(process.argv.slice(2), { ...processIo(), signal: controller.signal });
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
