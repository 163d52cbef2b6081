import { createHash } from "node:crypto";
import { DevalueError, parse, stringify } from "devalue";
import { DurableValueError } from "./errors.ts";

// devalue (Svelte's serialiser, no dependencies) over superjson: it keeps Date, Map, Set, BigInt, typed
// arrays, undefined, -0, repeated and cyclic references, refuses class instances and functions with the path
// of the offending value (which goes into our error), and its output is plain JSON text (SQLite TEXT, Redis).
// Buffers come back as Buffers (a reducer); anything else non-plain is refused rather than silently mangled.
const REDUCERS = { Buffer: (v: unknown) => Buffer.isBuffer(v) && v.toString("base64") };
const REVIVERS = { Buffer: (b64: string) => Buffer.from(b64, "base64") };

/** Serialises a value for the store; throws a `DurableValueError` naming `what` and the bad path. */
export function encode(value: unknown, what: string, maxBytes: number): string {
  let text: string;
  try {
    text = stringify(value, REDUCERS);
  } catch (error) {
    const path = error instanceof DevalueError && error.path ? ` at ${error.path}` : "";
    throw new DurableValueError({ what, why: `${(error as Error).message}${path}` }, { cause: error });
  }
  if (text.length > maxBytes && Buffer.byteLength(text) > maxBytes) {
    throw new DurableValueError({
      what,
      why: `it is ${Buffer.byteLength(text)} bytes serialised, over maxOutputBytes (${maxBytes})`,
    });
  }
  return text;
}

/** The value back from its serialised text. */
export function decode(text: string): unknown {
  return parse(text, REVIVERS);
}

/** A unit's input as a hash: same input, same hash (a unit replays only for the input it was saved with). */
export function hashText(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}
