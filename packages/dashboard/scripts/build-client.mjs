// Bundles the page (preact + htm + uPlot, src/client/) into dist/client/: one script and one style sheet,
// minified, no CDN. Run by `pnpm build` after tsdown; the server reads dist/client/.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "rolldown";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "client");

/** Builds the bundle; resolves to the sizes (bytes, raw and gzipped). */
export async function buildClient() {
  await mkdir(out, { recursive: true });
  await build({
    input: join(root, "src/client/main.ts"),
    platform: "browser",
    logLevel: "warn",
    output: { file: join(out, "app.js"), format: "esm", minify: true, sourcemap: false },
  });
  const require = createRequire(join(root, "package.json"));
  const uplotCss = await readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const ownCss = await readFile(join(root, "src/client/style.css"), "utf8");
  await writeFile(join(out, "app.css"), `${uplotCss}\n${ownCss}`);
  const js = await readFile(join(out, "app.js"));
  const css = await readFile(join(out, "app.css"));
  return { js: js.length, css: css.length, gzipped: gzipSync(js).length + gzipSync(css).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildClient();
  console.log(`dist/client: app.js ${sizes.js} B, app.css ${sizes.css} B, ${sizes.gzipped} B gzipped`);
}
