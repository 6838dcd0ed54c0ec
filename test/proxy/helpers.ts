/**
 * Helpers for the proxy tests: the built CLI as a real child, fixture servers
 * as real processes, an SDK client on either side.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fixture } from "../fixtures/build.js";
import { CLI, startListening as startListeningProcess, tempDir, type ListeningProcess } from "../helpers/serve.js";

export { CLI, tempDir };
export const NODE = process.execPath;
export const EVERYTHING = join(
  import.meta.dirname,
  "../../node_modules/@modelcontextprotocol/server-everything/dist/index.js",
);

/** `node <compiled fixture-server> …flags` as a command line. */
export const fixtureCommand = (...flags: string[]) => [NODE, fixture("fixture-server"), ...flags];

/** Env for the proxy child: no sidecar key or db inherited from the developer's shell. */
export function proxyEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("FEEDBACK_")) env[k] = v;
  // A loaded CI machine has taken over the default 3 s to store a fresh sidecar's first report; a
  // test that wants the timeout to expire passes its own.
  return { ...env, FEEDBACK_PROXY_DELIVERY_TIMEOUT_MS: "15000", ...extra };
}

/** A client that answers sampling, elicitation and roots like a real host would. */
export function newClient(name = "test-client"): Client {
  const client = new Client(
    { name, version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: "assistant",
    model: "test-model",
    content: { type: "text", text: `echo of ${JSON.stringify(req.params.messages[0]?.content)}` },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { name: "Ada" } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
  return client;
}

export interface StdioProxy {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  close: () => Promise<void>;
}

/** The proxy over stdio with an SDK client attached: `proxyArgs` before `--`, then the upstream. */
export async function connectStdioProxy(options: {
  proxyArgs: string[];
  upstream?: string[];
  env?: Record<string, string>;
  client?: Client;
}): Promise<StdioProxy> {
  const args = [CLI, "proxy", ...options.proxyArgs, ...(options.upstream ? ["--", ...options.upstream] : [])];
  const transport = new StdioClientTransport({ command: NODE, args, env: proxyEnv(options.env), stderr: "pipe" });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const client = options.client ?? newClient();
  await client.connect(transport);
  return { client, transport, stderr: () => err, close: () => client.close() };
}

export type ChildServer = ListeningProcess;

/** Start a process with the proxy's clean env and wait until it prints `listening on <url>` (or the pattern given). */
export const startListening = (
  command: string[],
  options: { env?: Record<string, string>; pattern?: RegExp } = {},
): Promise<ChildServer> =>
  startListeningProcess(command, {
    env: proxyEnv(options.env),
    ...(options.pattern ? { pattern: options.pattern } : {}),
  });

/** `patchworkmcp proxy --listen 127.0.0.1:0 …` */
export const startHttpProxy = (proxyArgs: string[], upstream?: string[], env?: Record<string, string>) =>
  startListening(
    [NODE, CLI, "proxy", "--listen", "127.0.0.1:0", ...proxyArgs, ...(upstream ? ["--", ...upstream] : [])],
    env ? { env } : {},
  );

export async function connectHttp(
  url: string,
  client: Client = newClient(),
  headers: Record<string, string> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Poll until `check` returns a value (not undefined/false), or fail after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? "").join("");
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stdio proxy spoken to as raw JSON lines (ids, exit codes and stderr all visible). */
export class RawClient {
  readonly lines: Record<string, unknown>[] = [];
  /** The same lines as received, without their newline. */
  readonly rawLines: string[] = [];
  readonly proc: ChildProcessWithoutNullStreams;
  readonly exit: Promise<number | null>;
  stderr = "";

  /** `proxyArgs` replace the default `--db`/`--outbox` in a temp dir. */
  constructor(upstream: string[], proxyArgs?: string[], env: Record<string, string> = {}) {
    const dir = tempDir();
    const flags = proxyArgs ?? ["--db", join(dir, "f.db"), "--outbox", join(dir, "o.log")];
    this.proc = spawn(NODE, [CLI, "proxy", ...flags, "--", ...upstream], { env: proxyEnv(env) });
    let buf = "";
    this.proc.stdout.setEncoding("utf8");
    this.proc.stdout.on("data", (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        this.rawLines.push(buf.slice(0, nl));
        this.lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
    });
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (d: string) => {
      this.stderr += d;
    });
    this.exit = new Promise((r) => this.proc.once("exit", (code) => r(code)));
  }

  send(msg: Record<string, unknown>): void {
    this.proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`);
  }

  response(id: number | string): Promise<Record<string, unknown>> {
    return waitFor(
      () => this.lines.find((l) => l.id === id && ("result" in l || "error" in l)),
      20_000,
      `response ${id}`,
    );
  }

  async initialize(): Promise<void> {
    this.send({
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    });
    await this.response(0);
    this.send({ method: "notifications/initialized" });
  }
}
