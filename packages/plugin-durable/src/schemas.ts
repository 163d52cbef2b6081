import { parseDuration } from "@tapline/core/kit";
import * as v from "valibot";
import type { DurableOptions } from "./options.ts";
import type { DurableStore } from "./store.ts";

const STORE_METHODS = [
  "createRun",
  "getRun",
  "updateRun",
  "acquireLease",
  "getUnit",
  "putUnit",
  "prune",
] as const;

const duration = (min: number) =>
  v.custom<NonNullable<DurableOptions["keep"]>>(
    (x) => (parseDuration(x) ?? -1) >= min,
    `must be a duration of at least ${min} ms: ms (a number) or text such as "30s", "1h", "7d"`,
  );

/** @internal */
export const DurableSchema = v.optional(
  v.strictObject({
    store: v.optional(
      v.custom<DurableStore>(
        (s) =>
          !!s &&
          typeof s === "object" &&
          STORE_METHODS.every((m) => typeof (s as Record<string, unknown>)[m] === "function"),
        `must be a DurableStore (sqliteStore(), or an object with ${STORE_METHODS.join(", ")}...)`,
      ),
    ),
    keep: v.optional(duration(1000)),
    maxOutputBytes: v.optional(
      v.pipe(v.number(), v.integer("must be a whole number of bytes"), v.minValue(1024, "must be ≥ 1024")),
    ),
    verifyArtifacts: v.optional(v.picklist(["hash", "size"], 'must be "hash" or "size"')),
    leaseTtl: v.optional(duration(1000)),
    sync: v.optional(v.picklist(["normal", "full"], 'must be "normal" or "full"')),
  }),
  {},
) satisfies v.GenericSchema<DurableOptions | undefined, DurableOptions>;
