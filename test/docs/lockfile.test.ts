/**
 * `npm install` of this checkout is clean: no locked package declares an engine
 * range the running Node is outside of (npm's EBADENGINE warning), and every
 * package with an install script is listed in package.json "allowScripts"
 * (npm 11 warns about the others, and is to stop running them).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/serve.js";

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  hasInstallScript?: boolean;
}

const read = <T>(file: string) => JSON.parse(readFileSync(join(REPO_ROOT, file), "utf8")) as T;
const lock = read<{ packages: Record<string, LockEntry> }>("package-lock.json");
const pkg = read<{ allowScripts?: Record<string, boolean> }>("package.json");

type Partial3 = [number, number | undefined, number | undefined];

function partial(text: string): Partial3 {
  const [a, b, c] = text.replace(/^v/, "").split(".");
  const n = (s: string | undefined) => (s === undefined || s === "x" || s === "*" || s === "" ? undefined : Number(s));
  return [n(a) ?? 0, n(b), n(c)];
}

function cmp(v: [number, number, number], p: Partial3): number {
  for (let i = 0; i < 3; i++) {
    const d = v[i]! - (p[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Whether version `v` is in an npm engines range (the forms engines fields use: ||, >=, ^, ~, x-ranges). */
export function satisfies(version: string, range: string): boolean {
  const v = partial(version).map((x) => x ?? 0) as [number, number, number];
  return range.split("||").some((set) =>
    set
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1")
      .split(/\s+/)
      .filter(Boolean)
      .every((comp) => {
        const [, op = "", rest = ""] = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comp)!;
        if (rest === "*" || rest === "x" || rest === "") return true;
        const p = partial(rest);
        const c = cmp(v, p);
        switch (op) {
          case ">=":
            return c >= 0;
          case ">":
            return c > 0;
          case "<=":
            return c <= 0;
          case "<":
            return c < 0;
          case "^":
            return c >= 0 && v[0] === p[0];
          case "~":
            return c >= 0 && v[0] === p[0] && (p[1] === undefined || v[1] === p[1]);
          default:
            return p.every((x, i) => x === undefined || x === v[i]);
        }
      }),
  );
}

describe("a clean npm install", () => {
  it("no locked package wants another Node than this one", () => {
    const outside = Object.entries(lock.packages)
      .filter(([path, e]) => path && !Array.isArray(e.engines) && e.engines?.node)
      .filter(([, e]) => !satisfies(process.version, (e.engines as { node: string }).node))
      .map(([path, e]) => `${path}@${e.version}: node ${(e.engines as { node: string }).node}`);
    expect(outside, `engine ranges that exclude ${process.version}`).toEqual([]);
  });

  it("every install script is declared in allowScripts", () => {
    const allowed = pkg.allowScripts ?? {};
    const uncovered = Object.entries(lock.packages)
      .filter(([, e]) => e.hasInstallScript)
      .map(([path, e]) => ({ name: path.replace(/^.*node_modules\//, ""), version: e.version }))
      .filter(({ name, version }) => allowed[name] !== true && allowed[`${name}@${version}`] !== true)
      .map(({ name, version }) => `${name}@${version}`);
    expect(uncovered).toEqual([]);
  });

  it("reads engine ranges the way npm does", () => {
    expect(satisfies("v20.20.2", ">=22")).toBe(false);
    expect(satisfies("v20.20.2", ">= 20")).toBe(true);
    expect(satisfies("v20.20.2", "^20.19.0 || >=22.12.0")).toBe(true);
    expect(satisfies("v20.18.0", "^20.19.0 || >=22.12.0")).toBe(false);
    expect(satisfies("v20.20.2", "20.x || 22.x")).toBe(true);
    expect(satisfies("v20.20.2", "10.* || >= 12.*")).toBe(true);
    expect(satisfies("v20.20.2", "^10 || ^12 || ^13.7 || ^14 || >=15.0.1")).toBe(true);
    expect(satisfies("v20.20.2", "~18.1")).toBe(false);
    expect(satisfies("v20.20.2", "*")).toBe(true);
  });
});
