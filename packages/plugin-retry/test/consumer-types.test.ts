import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

// Issue #11: a consumer with `skipLibCheck: false` and no DOM lib got errors from effect's own declarations
// (`Cannot find name 'CryptoKey'`) because the main entry's declarations imported effect. This compiles tiny
// consumers against the BUILT declarations (no "@tapline/source" condition), the way npm users see them.
const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const coreDir = join(pkgDir, "../core");
const built = existsSync(join(pkgDir, "dist/index.d.mts")) && existsSync(join(coreDir, "dist/index.d.mts"));
const root = join(pkgDir, ".consumer-check");

function consumer(name: string, lib: string[], source: string): readonly ts.Diagnostic[] {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules/@tapline"), { recursive: true });
  symlinkSync(pkgDir, join(dir, "node_modules/@tapline/plugin-retry"), "dir");
  symlinkSync(coreDir, join(dir, "node_modules/@tapline/core"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  writeFileSync(join(dir, "index.ts"), source);
  const options: ts.CompilerOptions = {
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    target: ts.ScriptTarget.ES2023,
    lib: lib.map((l) => `lib.${l.toLowerCase()}.d.ts`),
    types: ["node"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    typeRoots: [join(pkgDir, "../../node_modules/@types")],
  };
  const program = ts.createProgram([join(dir, "index.ts")], options);
  return ts.getPreEmitDiagnostics(program);
}

const format = (ds: readonly ts.Diagnostic[]) =>
  ds.map((d) => {
    const where = d.file ? `${relative(pkgDir, d.file.fileName)}: ` : "";
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });

describe.skipIf(!built)(
  "published declarations (needs `pnpm run build` first; skipped when dist/ is missing)",
  () => {
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it("only the effect subpath's declarations import effect", () => {
      const importers = readdirSync(join(pkgDir, "dist"))
        .filter(
          (f) =>
            f.endsWith(".d.mts") &&
            /(?:from|import)\s*\(?\s*"effect[/"]/.test(readFileSync(join(pkgDir, "dist", f), "utf8")),
        )
        .sort();
      expect(importers).toEqual(["effect.d.mts"]);
    });

    it("only the redis subpath's declarations import ioredis (users without Redis never need it)", () => {
      const importers = readdirSync(join(pkgDir, "dist"))
        .filter(
          (f) =>
            (f.endsWith(".d.mts") || f.endsWith(".mjs")) &&
            /(?:from|import)\s*\(?\s*"ioredis[/"]/.test(readFileSync(join(pkgDir, "dist", f), "utf8")),
        )
        .sort();
      expect(importers).toEqual(["redis.d.mts", "redis.mjs"]);
    });

    it("the redis subpath type-checks with skipLibCheck: false and no DOM", () => {
      const diagnostics = consumer(
        "with-redis",
        ["ES2024"],
        `import { Redis } from "ioredis";
import { keyedBreakers } from "@tapline/plugin-retry";
import { type RedisBreakerStore, redisBreakerStore } from "@tapline/plugin-retry/redis";
const store: RedisBreakerStore = redisBreakerStore({ url: "redis://127.0.0.1:6379", prefix: "app:" });
redisBreakerStore({ connection: new Redis({ lazyConnect: true }), onStatusChange: (s) => s.reason });
export const group = keyedBreakers({ name: "tts", store });
`,
      );
      expect(format(diagnostics)).toEqual([]);
    });

    it("the main entry type-checks with skipLibCheck: false, lib ES2024 and no DOM (no effect types leak)", () => {
      const diagnostics = consumer(
        "no-dom",
        ["ES2024"],
        `import { createTapline } from "@tapline/core";
import { type EffectSchedule, circuitBreaker, retry, retryPolicy } from "@tapline/plugin-retry";
const policy = retryPolicy({ maxAttempts: 3, backoff: { kind: "exponential", base: 50 } });
const breaker = circuitBreaker({ openDuration: 1_000 });
const app = createTapline({ plugins: [retry({ defaults: { maxAttempts: 2 } })] });
declare const schedule: EffectSchedule;
retryPolicy({ backoff: schedule });
export { app, breaker, policy };
`,
      );
      expect(format(diagnostics)).toEqual([]);
    });

    it("the effect subpath type-checks where effect's own types resolve (DOM lib), and a real Schedule is accepted", () => {
      const diagnostics = consumer(
        "with-effect",
        ["ES2024", "DOM"],
        `import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import { circuitBreaker, retryPolicy } from "@tapline/plugin-retry";
import { exponentialBackoff, withRetry } from "@tapline/plugin-retry/effect";
const policy = retryPolicy({ backoff: Schedule.spaced("10 millis"), maxAttempts: 3 });
circuitBreaker({ openDuration: exponentialBackoff({ base: 1_000 }) });
retryPolicy({ backoff: exponentialBackoff({ base: 10 }).pipe(Schedule.upTo({ times: 3 })) });
export const program: Effect.Effect<number, Error> = Effect.succeed(1).pipe(withRetry(policy));
`,
      );
      expect(format(diagnostics)).toEqual([]);
    });
  },
);
