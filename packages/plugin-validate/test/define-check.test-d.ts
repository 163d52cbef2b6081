// defineCheck's types: options inferred from the schema, those with a default optional in the factory, the
// input typed by kind.
import * as v from "valibot";
import { expectTypeOf, test } from "vitest";
import { type Check, type CheckFactory, defineCheck, type ProbeStream } from "../src/index.ts";

test("the factory takes the schema's options, defaulted ones optional; run gets the kind's facts", () => {
  const ratio = defineCheck({
    kind: "video",
    name: "ratio",
    options: v.strictObject({ ratio: v.string(), tolerance: v.number() }),
    defaults: { tolerance: 0.01 },
    run({ video }, options) {
      expectTypeOf(video).toEqualTypeOf<ProbeStream>();
      expectTypeOf(options).toEqualTypeOf<Readonly<{ ratio: string; tolerance: number }>>();
    },
  });
  expectTypeOf(ratio({ ratio: "9:16" })).toEqualTypeOf<Check<"video">>();
  // @ts-expect-error ratio has no default
  ratio();
  // @ts-expect-error ratio has no default
  ratio({ tolerance: 0.1 });
  expectTypeOf(ratio).toEqualTypeOf<
    CheckFactory<"video", { ratio: string; tolerance: number }, "tolerance">
  >();
  const plain = defineCheck({ kind: "text", name: "plain", run: ({ text }) => void text.length });
  expectTypeOf(plain()).toEqualTypeOf<Check<"text">>();
});
