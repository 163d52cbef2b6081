// The option schemas and the exported interfaces (which carry the JSDoc users read) have the same keys, so a
// field added to one and not the other fails here; the schemas are typed against the interfaces for values.
import { expectTypeOf, test } from "vitest";
import type {
  AudioExpect,
  Profile,
  StepCheckOptions,
  SubtitleExpect,
  TextExpect,
  ValidatorOptions,
  VideoExpect,
} from "../src/index.ts";
import type { ENTRIES } from "../src/options.ts";

type Keys<K extends keyof typeof ENTRIES> = keyof (typeof ENTRIES)[K];

test("each strict schema has exactly its interface's keys", () => {
  expectTypeOf<keyof AudioExpect>().toEqualTypeOf<Keys<"audio">>();
  expectTypeOf<keyof VideoExpect>().toEqualTypeOf<Keys<"video">>();
  expectTypeOf<keyof TextExpect>().toEqualTypeOf<Keys<"text">>();
  expectTypeOf<keyof SubtitleExpect>().toEqualTypeOf<Keys<"subtitles">>();
  expectTypeOf<keyof ValidatorOptions>().toEqualTypeOf<Keys<"validator">>();
  expectTypeOf<keyof StepCheckOptions>().toEqualTypeOf<Keys<"stepCheck">>();
  expectTypeOf<keyof Profile>().toEqualTypeOf<Keys<"profile">>();
});
