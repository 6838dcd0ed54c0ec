/**
 * The README's configuration tables and the CLI's own help say the same thing:
 * every env var a verb reads is shown by `--help` and listed in its table, and
 * `mcp --help` names every report tool. Needs `npm run build`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPORT_TOOLS } from "../../src/mcp/tools/index.js";
import { CLI, REPO_ROOT } from "../helpers/serve.js";
import { readDoc } from "./blocks.js";

const help = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

/** Env vars in commander's help: `(env: NAME)`, possibly wrapped onto the next line. */
const helpEnv = (text: string) => new Set([...text.matchAll(/env:\s+([A-Z0-9_]+)/g)].map((m) => m[1]!));

/** The env-var column (the second) of the table under a README heading. */
function readmeEnv(heading: string): Set<string> {
  const readme = readDoc("README.md");
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README heading ${heading}`).toBeGreaterThan(0);
  const rest = readme.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  const env = new Set<string>();
  for (const row of section.split("\n").filter((l) => l.startsWith("|"))) {
    const cells = row.split(/(?<!\\)\|/);
    for (const m of (cells[2] ?? "").matchAll(/`([A-Z][A-Z0-9_]+)`/g)) env.add(m[1]!);
  }
  return env;
}

describe("the README's tables match --help", () => {
  const tables: [verb: string, heading: string][] = [
    ["serve", "### `serve`"],
    ["mcp", "### `mcp`"],
    ["proxy", "### `proxy`"],
    ["draft", "### `draft`"],
    ["migrate", "### `migrate`"],
    ["replay", "### Clients (`replay`, drop-ins, proxy)"],
  ];

  it.each(tables)("%s: the same env vars", (verb, heading) => {
    const documented = readmeEnv(heading);
    const shown = helpEnv(help(verb, "--help"));
    expect(documented.size).toBeGreaterThan(0);
    expect(
      [...shown].filter((e) => !documented.has(e)),
      `in \`${verb} --help\` but not in the README`,
    ).toEqual([]);
    // The Clients table also covers drop-ins and the proxy, so only the verb's own tables must be complete.
    if (verb !== "replay")
      expect(
        [...documented].filter((e) => !shown.has(e)),
        `in the README but not in \`${verb} --help\``,
      ).toEqual([]);
  });

  it("mcp --help names every report tool", () => {
    const text = help("mcp", "--help").replace(/\s+/g, " ");
    const missing = REPORT_TOOLS.map((t) => t.definition.name).filter(
      (name) => name !== "feedback" && !text.includes(name),
    );
    expect(missing).toEqual([]);
  });

  it("--version prints the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(help("--version").trim()).toBe(pkg.version);
  });
});
