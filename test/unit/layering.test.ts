/**
 * Imports point down only: nothing the stdio MCP server, the contract, the
 * store, auth or ingestion can reach (following relative imports, static and
 * dynamic, through any folder) is part of the HTTP app or express. Read with
 * the TypeScript compiler's own import scanner over the source files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

/** Layers that must not reach the web front end. */
const GUARDED = ["mcp", "feedback", "store", "auth", "ingest", "net"];
const FORBIDDEN_DIR = join(SRC, "http");
const isForbiddenPackage = (specifier: string) => specifier === "express" || specifier.startsWith("express/");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
}

/** A relative `.js` specifier back to the `.ts` source it compiles from. */
function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier).replace(/\.js$/, ".ts");
}

/** The first path from `entry` to a forbidden module, as a readable chain, or undefined. */
function forbiddenChain(entry: string): string | undefined {
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): string | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    const here = [...chain, relative(ROOT, file)];
    if (file.startsWith(`${FORBIDDEN_DIR}/`)) return here.join(" → ");
    for (const specifier of importsOf(file)) {
      if (isForbiddenPackage(specifier)) return [...here, specifier].join(" → ");
      if (specifier.startsWith(".")) {
        const found = walk(resolveRelative(file, specifier), here);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(entry, []);
}

describe("layering", () => {
  it("finds a path to express when there is one (the check can fail)", () => {
    expect(forbiddenChain(join(SRC, "ui/serve.ts"))).toBe("src/ui/serve.ts → express");
    expect(forbiddenChain(join(SRC, "commands/serve.ts"))).toMatch(/^src\/commands\/serve\.ts → src\/http\//);
  });

  for (const layer of GUARDED) {
    it(`src/${layer} imports nothing from src/http or express`, () => {
      const files = sourceFiles(join(SRC, layer));
      expect(files.length).toBeGreaterThan(0);
      const offenders = files.map(forbiddenChain).filter((c): c is string => c !== undefined);
      expect(offenders).toEqual([]);
    });
  }

  it("the stdio mcp command's imports do not reach src/http or express", () => {
    for (const entry of ["commands/mcp.ts", "mcp/stdio.ts", "version.ts"])
      expect(forbiddenChain(join(SRC, entry))).toBeUndefined();
  });
});
