#!/usr/bin/env node
/**
 * Build the dashboard into dist/ui/: esbuild bundles src/ui/app (TypeScript
 * and CSS) into content-hashed files under dist/ui/assets/, and index.html is
 * written with their names. Everything is served from the sidecar itself; no
 * CDN at run time. Type-checking is `tsc -p src/ui/app` (run by `npm run build`).
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src/ui/app");
const out = join(root, "dist/ui");
const assets = join(out, "assets");

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: "linked",
  target: ["es2022", "chrome111", "firefox113", "safari17"],
  outdir: assets,
  entryNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
};

const [app, boot] = await Promise.all([
  build({ ...common, entryPoints: { app: join(src, "main.ts"), style: join(src, "styles.css") }, format: "esm" }),
  // The theme boot script is a classic (blocking) script so the stored theme applies before first paint.
  build({ ...common, entryPoints: { boot: join(src, "boot.ts") }, format: "iife" }),
]);

/** The public URL of the output built from `entry`. */
function outputFor(result, entry) {
  const want = relative(root, join(src, entry));
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint === want || meta.entryPoint === `${want}`) return `/assets/${basename(file)}`;
  }
  throw new Error(`build-ui: no output for ${entry}`);
}

const favicon = readFileSync(join(src, "favicon.svg"));
const faviconName = `favicon-${createHash("sha256").update(favicon).digest("hex").slice(0, 8)}.svg`;
copyFileSync(join(src, "favicon.svg"), join(assets, faviconName));

const names = {
  script: outputFor(app, "main.ts"),
  style: outputFor(app, "styles.css"),
  boot: outputFor(boot, "boot.ts"),
  favicon: `/assets/${faviconName}`,
};
const html = readFileSync(join(src, "index.html"), "utf8").replace(/\{\{(\w+)\}\}/g, (whole, key) => {
  if (!(key in names)) throw new Error(`build-ui: index.html has an unknown placeholder ${whole}`);
  return names[key];
});
writeFileSync(join(out, "index.html"), html);
process.stderr.write(`build-ui: dist/ui (${Object.values(names).join(", ")})\n`);
