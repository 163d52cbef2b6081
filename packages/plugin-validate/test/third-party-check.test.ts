// A third-party check (examples/validate-check-example) installed from packed tarballs next to the packed core
// and plugin, run on real videos made with ffmpeg: standalone and in a pipeline.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { integrationSkipReason } from "./fixtures.ts";

const skip = await integrationSkipReason();
const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const packages = ["packages/core", "packages/plugin-validate", "examples/validate-check-example"];
let scratch: string | undefined;

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// The scratch project's script: two videos checked with the installed check, standalone and in a pipeline.
const SCRIPT = `
import { createTapline } from "@tapline/core";
import { silentLogger } from "@tapline/core/kit";
import { createValidator, validate, validateVideo } from "@tapline/plugin-validate";
import { aspectRatio } from "tapline-validate-check-aspect-ratio";

const [portrait, landscape] = process.argv.slice(2);
const vertical = aspectRatio({ ratio: "9:16" });
const ids = (r) => r.findings.filter((f) => f.severity === "error").map((f) => f.check);
const standalone = {
  portrait: ids(await validateVideo(portrait, { requireAudio: false }, { checks: [vertical] })),
  landscape: (await validateVideo(landscape, { requireAudio: false }, { checks: [vertical] })).findings.filter((f) => f.check === "video.aspect_ratio"),
  validator: ids(await createValidator({ checks: [vertical] }).validateFile(landscape, { profile: { name: "quiet", video: { requireAudio: false } } })),
};
let badOptions;
try { aspectRatio({ ratio: "9:16", tolerence: 0.1 }); } catch (e) { badOptions = [e.code, e.issues[0].suggestion]; }

const app = createTapline({ logger: silentLogger, plugins: [validate({ profile: { name: "quiet", video: { requireAudio: false } } })] });
const p = app.pipeline("render").step("render", async (path, ctx) => { ctx.artifact(path, { kind: "video" }); return path; }, { validate: [vertical] }).build();
const ok = await p.run(portrait);
const bad = await p.run(landscape);
await app.close();
process.stdout.write(JSON.stringify({ standalone, badOptions, pipeline: [ok.status, bad.status, bad.steps[0].findings.map((f) => f.check)] }));
`;

describe.skipIf(skip !== undefined)(
  `a third-party check installed from packed tarballs${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    it("checks a 1080x1920 and a 1920x1080 video through the public API", { timeout: 240_000 }, async () => {
      scratch = await mkdtemp(join(tmpdir(), "tapline check scratch "));
      const packs = join(scratch, "packs");
      await Promise.all(
        packages.map((pkg) =>
          execa(join(root, "node_modules/.bin/tsdown"), [], { cwd: join(root, pkg), preferLocal: true }),
        ),
      );
      await Promise.all(
        packages.map((pkg) =>
          execa("npx", ["-y", "pnpm@12.21.0", "pack", "--pack-destination", packs], { cwd: join(root, pkg) }),
        ),
      );
      const tarballs = (await readdir(packs)).filter((f) => f.endsWith(".tgz"));
      expect(tarballs).toHaveLength(3);
      const project = join(scratch, "project");
      await execa("mkdir", ["-p", project]);
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({ name: "scratch", private: true, type: "module" }),
      );
      await writeFile(join(project, "main.mjs"), SCRIPT);
      const video = (size: string, name: string) =>
        execa(
          "ffmpeg",
          [
            ...[
              "-hide_banner",
              "-loglevel",
              "error",
              "-f",
              "lavfi",
              "-i",
              `testsrc2=size=${size}:rate=30:d=1`,
            ],
            ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
            name,
          ],
          { cwd: project },
        );
      await Promise.all([
        video("1080x1920", "portrait.mp4"),
        video("1920x1080", "landscape.mp4"),
        execa(
          "npm",
          [
            "install",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--loglevel=error",
            ...tarballs.map((t) => join(packs, t)),
          ],
          { cwd: project },
        ),
      ]);
      const { stdout } = await execa(process.execPath, ["main.mjs", "portrait.mp4", "landscape.mp4"], {
        cwd: project,
        timeout: 60_000,
      });
      const out = JSON.parse(stdout);
      expect(out.standalone.portrait).toEqual([]);
      expect(out.standalone.landscape).toEqual([
        expect.objectContaining({
          check: "video.aspect_ratio",
          severity: "error",
          message: "1920x1080 is not 9:16 (1.7778 vs 0.5625)",
          value: 1.7778,
          limit: "9:16",
        }),
      ]);
      expect(out.standalone.validator).toEqual(["video.aspect_ratio"]);
      expect(out.badOptions).toEqual(["TAPLINE_ERR_VALIDATE_OPTIONS", "tolerance"]);
      expect(out.pipeline).toEqual(["success", "failed", ["video.aspect_ratio"]]);
    });
  },
);
