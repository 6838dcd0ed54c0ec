/**
 * Each drop-in inside a complete stdio server, wired as docs/drop-ins.md shows and
 * run as a real child process, driven by the real TypeScript SDK client over stdio
 * against the real sidecar. The native tests (dropin.test.ts beside each drop-in)
 * check the contract in depth over in-memory transports; this one checks what only
 * a real pipe shows: nothing but protocol reaches stdout while a report is sent,
 * and the server goes on answering afterwards.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, startServe, type ServeProcess } from "../test/helpers/serve.js";
import { API_KEY, loadVectors, run, SPEC_DIR, UNSENT_MARKER } from "./harness.js";

const here = import.meta.dirname;
const goBinary = join(tempDir(), "billing-server");

interface ExampleServer {
  label: string;
  command: string;
  args: string[];
  cwd: string;
}

// The SDK 2.x example runs from a copy beside compat-v2's node_modules, as a user's server would.
const v2Dir = join(here, "typescript", "compat-v2", "dropin");
mkdirSync(v2Dir, { recursive: true });
for (const file of ["feedback-tool.ts", "example-server-v2.ts"])
  copyFileSync(join(here, "typescript", file), join(v2Dir, file));

const servers: ExampleServer[] = [
  {
    label: "TypeScript",
    command: process.execPath,
    args: ["--import", "tsx", "example-server.ts"],
    cwd: join(here, "typescript"),
  },
  {
    label: "TypeScript, SDK 2.x",
    command: process.execPath,
    args: ["--import", "tsx", "example-server-v2.ts"],
    cwd: v2Dir,
  },
  {
    label: "Python, mcp 2.x",
    command: join(here, "python", ".venv", "bin", "python"),
    args: ["example_server.py"],
    cwd: join(here, "python"),
  },
  {
    label: "Python, mcp 1.x",
    command: join(here, "python", ".venv-mcp1", "bin", "python"),
    args: ["example_server.py"],
    cwd: join(here, "python"),
  },
  { label: "Go", command: goBinary, args: [], cwd: join(here, "go") },
  {
    label: "Rust",
    command: join(here, "rust", "target", "debug", "examples", "stdio_server"),
    args: [],
    cwd: join(here, "rust"),
  },
];

const spec = <T>(name: string): T => JSON.parse(readFileSync(join(SPEC_DIR, name), "utf8")) as T;
const { instructions } = spec<{ instructions: string }>("instructions.json");
const tool = spec<{ name: string; inputSchema: { properties: Record<string, unknown>; required: string[] } }>(
  "tool.json",
);
const recorded = spec<Record<string, string>>("replies.json").recorded!;
const recordedPattern = new RegExp(
  `^${recorded.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace("\\{id\\}", "(\\d+)")}$`,
);

const vectors = loadVectors();
const full = vectors.valid.find((v) => v.name === "full")!;
const pick = (r: Record<string, unknown>) => Object.fromEntries(vectors.stored_fields.map((f) => [f, r[f]]));

const textOf = (result: unknown): string => {
  const content = (result as { content: Array<{ type: string; text?: string }> }).content;
  expect(content).toHaveLength(1);
  return content[0]!.text ?? "";
};

describe("each drop-in in a stdio server, through the TypeScript SDK client", () => {
  let sidecar: ServeProcess | undefined;

  beforeAll(async () => {
    sidecar = await startServe({ env: { FEEDBACK_API_KEY: API_KEY } });
    // Both builds are incremental over what scripts/setup/31-go.sh and 32-rust.sh made.
    const cache = join(here, "go", ".gocache");
    const go = await run("go", ["build", "-o", goBinary, "."], {
      cwd: join(here, "go"),
      env: {
        GOMODCACHE: join(cache, "mod"),
        GOCACHE: join(cache, "build"),
        GOFLAGS: "-mod=readonly -buildvcs=false",
        GOTOOLCHAIN: "local",
      },
    });
    expect(go.code, go.stderr).toBe(0);
    const cargo = await run("cargo", ["build", "--locked", "--tests", "--examples", "--quiet"], {
      cwd: join(here, "rust"),
    });
    expect(cargo.code, cargo.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await sidecar?.stop();
  });

  it.each(servers)("$label: lists and records feedback over a real pipe, and keeps serving", async (server) => {
    const session = `stdio:${server.label}`;
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      cwd: server.cwd,
      env: {
        ...(process.env as Record<string, string>),
        FEEDBACK_SIDECAR_URL: sidecar!.url,
        FEEDBACK_API_KEY: API_KEY,
      },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    // A stray stdout write shows up here as a line the client cannot parse.
    const errors: string[] = [];
    const client = new Client({ name: "stdio-check", version: "1.0.0" });
    client.onerror = (err) => errors.push(err.message);
    await client.connect(transport);
    try {
      expect(client.getInstructions()).toBe(instructions);

      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["feedback", "list_invoices"]);
      const feedback = tools.find((t) => t.name === tool.name)!;
      expect(Object.keys(feedback.inputSchema.properties ?? {}).sort()).toEqual(
        Object.keys(tool.inputSchema.properties).sort(),
      );
      expect([...(feedback.inputSchema.required ?? [])].sort()).toEqual([...tool.inputSchema.required].sort());

      expect(textOf(await client.callTool({ name: "list_invoices", arguments: {} }))).toBe("[]");
      const reply = textOf(
        await client.callTool({ name: tool.name, arguments: { ...full.input, session_id: session } }),
      );
      const id = recordedPattern.exec(reply)?.[1];
      expect(id, reply).toBeDefined();
      expect(
        textOf(await client.callTool({ name: "list_invoices", arguments: {} })),
        "still serving after a report",
      ).toBe("[]");

      const res = await fetch(`${sidecar!.url}/api/feedback/${id}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(res.status).toBe(200);
      expect(pick((await res.json()) as Record<string, unknown>)).toEqual({ ...full.stored, session_id: session });
    } finally {
      await client.close();
    }
    expect(errors, stderr).toEqual([]);
    expect(stderr).not.toContain(UNSENT_MARKER);
  });
});
