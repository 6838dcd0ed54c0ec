/**
 * The package version, read once from package.json (the one place it is
 * written). Found by walking up from this module, which sits at src/ when run
 * through tsx and at dist/src/ when built.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "patchworkmcp" && typeof pkg.version === "string") return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("patchworkmcp: cannot find its package.json to read the version from");
    dir = parent;
  }
}

export const VERSION: string = readVersion();
