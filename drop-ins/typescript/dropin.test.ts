/**
 * The TypeScript drop-in (feedback-tool.ts) with @modelcontextprotocol/sdk: the
 * installed release (with zod 4) and the oldest 1.x the docs claim (1.13.0 with
 * zod 3, in compat/, installed by scripts/setup/33-typescript-compat.sh). For the
 * old SDK the drop-in is copied into compat/dropin/ exactly as a user copies it,
 * so its imports resolve to the old SDK. Each copy is type-checked too.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../test/helpers/serve.js";
import { describeDropin, run } from "../harness.js";

const here = import.meta.dirname;
const compat = join(here, "compat", "dropin");
const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");

function checkIn(dir: string) {
  return (phase: "up" | "down", env: Record<string, string>) =>
    run(process.execPath, ["--import", "tsx", "dropin-check.ts", phase], { cwd: dir, env });
}

/** The version of the SDK that `dir`'s imports resolve to. */
function sdkVersion(dir: string): string {
  const entry = createRequire(join(dir, "x.js")).resolve("@modelcontextprotocol/sdk/server/mcp.js");
  const root = entry.slice(0, entry.indexOf("/dist/"));
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

mkdirSync(compat, { recursive: true });
for (const file of ["feedback-tool.ts", "dropin-check.ts"]) copyFileSync(join(here, file), join(compat, file));

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
    // The stdio example server (run by drop-ins/stdio.test.ts) is checked with the installed SDK.
    ["the installed SDK", here, ["feedback-tool.ts", "example-server.ts"]],
    ["the oldest claimed SDK", compat, ["feedback-tool.ts"]],
  ])("type-checks under strict mode against %s", async (_label, dir, files) => {
    const result = await typecheck(dir, files);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("is tested against two SDK releases", () => {
    expect(sdkVersion(compat)).toBe("1.13.0");
    expect(sdkVersion(here)).not.toBe("1.13.0");
  });
});

describeDropin(`TypeScript (@modelcontextprotocol/sdk ${sdkVersion(here)}, zod 4)`, checkIn(here));
describeDropin("TypeScript (@modelcontextprotocol/sdk 1.13.0, zod 3)", checkIn(compat));
