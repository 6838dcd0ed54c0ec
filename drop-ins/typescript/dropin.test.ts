/**
 * The TypeScript drop-in (feedback-tool.ts) with the official SDK: the installed 1.x
 * release (with zod 4), the oldest 1.x the docs claim (1.13.0 with zod 3, in compat/)
 * and 2.x (`@modelcontextprotocol/server` 2.4.0, in compat-v2/, also serving
 * 2026-07-28); both compat folders are installed by scripts/setup/33-typescript-compat.sh.
 * For each compat SDK the drop-in is copied into <compat>/dropin/ exactly as a user
 * copies it, so its imports resolve to that SDK. Each copy is type-checked too, with
 * the original README's snippets (migration-v*.ts) and the example servers.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../test/helpers/serve.js";
import { describeDropin, run } from "../harness.js";

const here = import.meta.dirname;
const compat = join(here, "compat", "dropin");
const compatV2 = join(here, "compat-v2", "dropin");
const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");

function checkIn(dir: string, adapter: string) {
  return (phase: string, env: Record<string, string>) =>
    run(process.execPath, ["--import", "tsx", "dropin-check.ts", phase, adapter], { cwd: dir, env });
}

/** The version of `pkg` that `dir`'s imports resolve to. */
function versionOf(dir: string, pkg: string, entry: string): string {
  let at = dirname(createRequire(join(dir, "x.js")).resolve(`${pkg}${entry}`));
  for (;;) {
    const file = join(at, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
      if (manifest.name === pkg) return manifest.version;
    }
    if (dirname(at) === at) throw new Error(`no package.json of ${pkg} above ${dir}`);
    at = dirname(at);
  }
}

const shared = ["feedback-tool.ts", "dropin-check.ts"];
mkdirSync(compat, { recursive: true });
for (const file of [...shared, "sdk-v1.ts", "migration-v1.ts"]) copyFileSync(join(here, file), join(compat, file));
mkdirSync(compatV2, { recursive: true });
for (const file of [...shared, "sdk-v2.ts", "migration-v2.ts", "example-server-v2.ts"]) {
  copyFileSync(join(here, file), join(compatV2, file));
}

const typecheck = (dir: string, files: string[]) =>
  run(
    process.execPath,
    [
      tsc,
      "--noEmit",
      "--strict",
      "--target",
      "es2022",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--skipLibCheck",
      "--types",
      "node",
      "--typeRoots",
      join(REPO_ROOT, "node_modules", "@types"),
      ...files,
    ],
    { cwd: dir },
  );

describe("TypeScript drop-in compiles", () => {
  it.each([
    // The stdio example servers (run by drop-ins/stdio.test.ts) are checked here too.
    ["the installed SDK 1.x", here, ["feedback-tool.ts", "example-server.ts", "migration-v1.ts", "sdk-v1.ts"]],
    ["the oldest claimed SDK 1.x", compat, ["feedback-tool.ts", "migration-v1.ts", "sdk-v1.ts"]],
    ["SDK 2.x", compatV2, ["feedback-tool.ts", "migration-v2.ts", "sdk-v2.ts", "example-server-v2.ts"]],
  ])("type-checks under strict mode against %s", async (_label, dir, files) => {
    const result = await typecheck(dir, files);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("is tested against three SDK releases", () => {
    expect(versionOf(compat, "@modelcontextprotocol/sdk", "/server/mcp.js")).toBe("1.13.0");
    expect(versionOf(here, "@modelcontextprotocol/sdk", "/server/mcp.js")).not.toBe("1.13.0");
    expect(versionOf(compatV2, "@modelcontextprotocol/server", "")).toMatch(/^2\./);
  });
});

describeDropin(
  `TypeScript (@modelcontextprotocol/sdk ${versionOf(here, "@modelcontextprotocol/sdk", "/server/mcp.js")}, zod 4)`,
  checkIn(here, "./sdk-v1.js"),
);
describeDropin("TypeScript (@modelcontextprotocol/sdk 1.13.0, zod 3)", checkIn(compat, "./sdk-v1.js"));
describeDropin(
  `TypeScript (@modelcontextprotocol/server ${versionOf(compatV2, "@modelcontextprotocol/server", "")}, 2025-11-25 and 2026-07-28)`,
  checkIn(compatV2, "./sdk-v2.js"),
);
