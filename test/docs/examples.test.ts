/**
 * The docs run as written. Every ```sh block of README.md and docs/*.md marked
 * `<!-- runnable -->` runs in bash against a real sidecar started from the built
 * CLI; a `# {json}` or `# includes {json}` line after a command checks what it
 * printed. Blocks that cannot run here (GitHub, a GUI client, global installs)
 * stay unmarked, but every JSON block must parse and every `npx` in a client
 * config must carry `-y` (npm 11 cancels the install prompt when there is no
 * terminal, which is how clients start servers). Needs `npm run build`.
 */
import { spawn } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, type ServeProcess, startServe, tempDir } from "../helpers/serve.js";
import { allBlocks, type CodeBlock, docFiles, jsonValues, runnableMarkers, stripJsonComments } from "./blocks.js";

const blocks = allBlocks();
const runnable = blocks.filter((b) => b.runnable);
const where = (b: CodeBlock) => `${b.file}:${b.line}`;

/** `# {…}` (the output has exactly this shape) or `# includes {…}` (at least this). */
const EXPECT_LINE = /^# (includes )?([[{].*[\]}])\s*$/;

interface Segment {
  script: string;
  expect?: { mode: "exact" | "includes"; value: unknown; line: string };
}

/** Cut a block at its expectation lines: each segment's stdout is what the next expectation checks. */
export function segments(content: string): Segment[] {
  const out: Segment[] = [];
  let lines: string[] = [];
  for (const line of content.split("\n")) {
    const m = EXPECT_LINE.exec(line);
    if (!m) {
      lines.push(line);
      continue;
    }
    out.push({
      script: lines.join("\n"),
      expect: { mode: m[1] ? "includes" : "exact", value: JSON.parse(m[2]!), line },
    });
    lines = [];
  }
  out.push({ script: lines.join("\n") });
  return out;
}

/**
 * Where `actual` departs from `expected`, or undefined. Exact: objects have the same
 * keys and arrays the same length; includes: the keys and leading elements shown.
 * Scalars are always equal.
 */
export function mismatch(
  actual: unknown,
  expected: unknown,
  mode: "exact" | "includes",
  path = "$",
): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path} is ${JSON.stringify(actual)}, not an array`;
    if (mode === "exact" ? actual.length !== expected.length : actual.length < expected.length)
      return `${path} has ${actual.length} elements, the doc shows ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(actual[i], expected[i], mode, `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual))
      return `${path} is ${JSON.stringify(actual)}, not an object`;
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    if (mode === "exact") {
      const extra = Object.keys(a).filter((k) => !(k in e));
      if (extra.length) return `${path} has keys the doc does not show: ${extra.join(", ")}`;
    }
    for (const k of Object.keys(e)) {
      if (!(k in a)) return `${path}.${k} is missing`;
      const m = mismatch(a[k], e[k], mode, `${path}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  return Object.is(actual, expected)
    ? undefined
    : `${path} is ${JSON.stringify(actual)}, the doc shows ${JSON.stringify(expected)}`;
}

/** The machine's curl, found on PATH before the test's own bin dir is put in front. */
function realCurl(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, "curl"), constants.X_OK);
      return join(dir, "curl");
    } catch {}
  }
  throw new Error("the runnable examples need curl on PATH");
}

/**
 * A bin dir for the examples: `patchworkmcp` runs the built CLI, and `curl` runs the
 * real one with `--fail-with-body` (an HTTP error fails the block) and the docs'
 * `localhost:8099` pointed at the test sidecar.
 */
function binDir(root: string, port: number): string {
  const bin = join(root, "bin");
  mkdirSync(bin);
  const write = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  write("patchworkmcp", `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  write(
    "curl",
    [
      "#!/usr/bin/env bash",
      "args=()",
      'for a in "$@"; do',
      `  a=\${a//localhost:8099/127.0.0.1:${port}}`,
      `  a=\${a//127.0.0.1:8099/127.0.0.1:${port}}`,
      '  args+=("$a")',
      "done",
      `exec '${realCurl()}' --fail-with-body "\${args[@]}"`,
      "",
    ].join("\n"),
  );
  return bin;
}

function runBash(
  script: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

/** The block as one bash script: each segment's stdout goes to out/<n> for its expectation. */
function instrument(parts: Segment[], outDir: string): string {
  const lines = ["set -e -o pipefail"];
  parts.forEach((part, n) => {
    // `:` keeps a segment of only comments a valid group.
    lines.push("{ :", part.script, `} > '${join(outDir, String(n))}'`);
  });
  return lines.join("\n");
}

describe("runnable examples", () => {
  let serve: ServeProcess | undefined;
  afterEach(async () => {
    await serve?.stop();
    serve = undefined;
  });

  it("the README has runnable examples, and every marker marks an sh block", () => {
    expect(runnable.filter((b) => b.file === "README.md").length).toBeGreaterThan(0);
    for (const b of runnable) expect(["sh", "bash"], `${where(b)} is marked runnable`).toContain(b.lang);
    for (const file of docFiles()) {
      const marked = new Set(runnable.filter((b) => b.file === file).map((b) => b.line));
      for (const line of runnableMarkers(file))
        expect(marked.has(line + 1), `${file}:${line}: the marker must sit right above a fence`).toBe(true);
    }
  });

  it.each(runnable.map((b) => [where(b), b] as const))("%s runs as written", async (_name, block) => {
    const root = tempDir("pwm-docs-");
    const work = join(root, "work");
    const outDir = join(root, "out");
    mkdirSync(work);
    mkdirSync(outDir);
    serve = await startServe({ dbPath: join(root, "sidecar.db") });
    const bin = binDir(root, serve.port);
    const parts = segments(block.content);
    const { code, stderr } = await runBash(instrument(parts, outDir), {
      cwd: work,
      env: {
        PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: root,
        LANG: "C.UTF-8",
        TMPDIR: root,
        FEEDBACK_SIDECAR_URL: serve.url,
      },
    });
    const outputs = parts.map((_, n) => {
      try {
        return readFileSync(join(outDir, String(n)), "utf8");
      } catch {
        return undefined;
      }
    });
    expect(code, `${where(block)} exited ${code}\nstderr:\n${stderr}\nstdout:\n${outputs.join("\n")}`).toBe(0);
    parts.forEach((part, n) => {
      if (!part.expect) return;
      const text = outputs[n] ?? "";
      // The last JSON value printed since the previous expectation: the command right above.
      let actual: unknown;
      try {
        actual = jsonValues(text).at(-1);
      } catch {}
      if (actual === undefined)
        throw new Error(`${where(block)}: the command before "${part.expect.line}" printed no JSON:\n${text}`);
      expect(mismatch(actual, part.expect.value, part.expect.mode), `${where(block)}: ${part.expect.line}`).toBe(
        undefined,
      );
    });
  });
});

describe("blocks that cannot run here are still valid", () => {
  const json = blocks.filter((b) => b.lang === "json" || b.lang === "jsonc");

  it("there are JSON blocks to check", () => {
    expect(json.length).toBeGreaterThan(3);
  });

  it.each(json.map((b) => [where(b), b] as const))("%s parses", (_name, block) => {
    const text = block.lang === "jsonc" ? stripJsonComments(block.content) : block.content;
    const values = jsonValues(text);
    expect(values.length).toBeGreaterThan(0);
    if (block.lang === "json") expect(values.length, "a ```json block holds one JSON value").toBe(1);
  });

  it("every npx in a client config or command line says -y", () => {
    const offenders: string[] = [];
    for (const b of blocks) {
      const text = b.lang === "json" || b.lang === "jsonc" ? stripJsonComments(b.content) : b.content;
      // `"npx", "pkg"` in a JSON args list, `"command": "npx", "args": ["pkg"`, or `npx pkg` in a shell line.
      const flat = text.replace(/"command":\s*"npx",\s*"args":\s*\[/g, '"npx", ');
      for (const m of flat.matchAll(/\bnpx\b"?,?\s*"?([^\s",\]]+)/g)) {
        const next = m[1]!;
        // Tools of this repository's own checkout (devDependencies) never prompt.
        if (["-y", "--yes", "vitest", "tsc", "biome", "tsx"].includes(next)) continue;
        offenders.push(`${where(b)}: npx ${next}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe("expectation helpers", () => {
  it("exact shapes catch extra and missing keys, includes only missing ones", () => {
    expect(mismatch({ status: "ok", db: "open" }, { status: "ok" }, "exact")).toMatch(/keys the doc does not show: db/);
    expect(mismatch({ status: "ok", db: "open" }, { status: "ok" }, "includes")).toBeUndefined();
    expect(mismatch({ items: [] }, { items: [{ id: 1 }] }, "includes")).toMatch(/0 elements/);
    expect(mismatch({ id: 2 }, { id: 1 }, "exact")).toMatch(/\$\.id is 2/);
  });

  it("segments end at expectation lines", () => {
    const parts = segments('curl -s x\n# {"a":1}\n# a comment\ncurl y\n# includes [1]\n');
    expect(parts.map((p) => p.expect?.mode)).toEqual(["exact", "includes", undefined]);
    expect(parts[1]!.script).toContain("curl y");
  });
});
