/**
 * Native check of feedback-tool.ts with a real McpServer and a real SDK Client over
 * the SDK's in-memory transport. Run as a child process by dropin.test.ts, from this
 * folder (the installed SDK + zod 4) and from a copy in compat/dropin/ (the oldest
 * SDK claimed + zod 3): `node --import tsx dropin-check.ts up|down`. Exit code 0 = pass.
 * See drop-ins/harness.ts for the phases and the environment it gets.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  FEEDBACK_INPUT_SCHEMA,
  FEEDBACK_REPLY_INVALID,
  FEEDBACK_REPLY_QUEUED,
  FEEDBACK_REPLY_RECORDED,
  FEEDBACK_SERVER_INSTRUCTIONS,
  FEEDBACK_TOOL_NAME,
  feedbackToolDefinition,
  registerFeedbackTool,
  sendFeedback,
  type FeedbackOptions,
} from "./feedback-tool.js";

const specDir = process.env.PWM_SPEC_DIR ?? join(import.meta.dirname, "..", "spec");
const spec = <T>(name: string): T => JSON.parse(readFileSync(join(specDir, name), "utf8")) as T;
const tool = spec<Record<string, unknown> & { inputSchema: Record<string, unknown> }>("tool.json");
const { instructions } = spec<{ instructions: string }>("instructions.json");
const replies = spec<Record<string, string>>("replies.json");
const vectors = spec<{
  valid: Array<{ name: string; input: Record<string, unknown> }>;
  invalid: Array<{ name: string; input: unknown; issues: Array<{ field: string; message: string }> }>;
}>("vectors.json");
const full = vectors.valid.find((v) => v.name === "full")!.input;
const fast = (sidecarUrl?: string): FeedbackOptions => ({ sidecarUrl, backoffMs: 5, maxRetryAfterMs: 50 });
const recorded = new RegExp(
  `^${replies.recorded!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace("\\{id\\}", "(\\d+)")}$`,
);

async function connect(): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = new McpServer(
    { name: "billing-server", version: "2.4.1" },
    { instructions: FEEDBACK_SERVER_INSTRUCTIONS },
  );
  server.tool("list_invoices", "List invoices.", async () => ({ content: [{ type: "text", text: "[]" }] }));
  registerFeedbackTool(server, "billing-server", fast());
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "dropin-check", version: "1.0.0" });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return { client, close: () => client.close() };
}

async function callFeedbackResult(args: Record<string, unknown>): Promise<{ text: string; isError: boolean }> {
  const { client, close } = await connect();
  const result = (await client.callTool({ name: FEEDBACK_TOOL_NAME, arguments: args })) as {
    content: Array<{ type: string; text: string }>;
    isError?: boolean;
  };
  await close();
  assert.equal(result.content.length, 1);
  return { text: result.content[0]!.text, isError: result.isError === true };
}

async function callFeedback(args: Record<string, unknown>): Promise<string> {
  const { text, isError } = await callFeedbackResult(args);
  assert.equal(isError, false, text);
  return text;
}

/** A loopback endpoint that answers every POST 429 with a long Retry-After, as the daily byte cap does. */
async function always429(retryAfter: string): Promise<{ url: string; attempts: () => number; close: () => void }> {
  let attempts = 0;
  const server = createServer((req, res) => {
    attempts++;
    req.resume().on("end", () => {
      res
        .writeHead(429, { "retry-after": retryAfter, "content-type": "application/json" })
        .end('{"error":{"code":"daily_byte_limit","message":"over today\'s cap"}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts: () => attempts,
    close: () => server.close(),
  };
}

async function up(): Promise<void> {
  // The exported definition and texts are exactly the spec's.
  assert.deepEqual(feedbackToolDefinition(), tool);
  assert.deepEqual(FEEDBACK_INPUT_SCHEMA, tool.inputSchema);
  assert.equal(FEEDBACK_SERVER_INSTRUCTIONS, instructions);
  assert.equal(FEEDBACK_REPLY_RECORDED, replies.recorded);
  assert.equal(FEEDBACK_REPLY_QUEUED, replies.queued);
  assert.equal(FEEDBACK_REPLY_INVALID, replies.invalid);

  // What a real client sees through McpServer: the spec's entry. The SDK's zod → JSON
  // Schema step adds `$schema` (and, with zod 3, `additionalProperties: false`) at the
  // top level; everything else (enums, bounds, descriptions, required) must be identical.
  const { client, close } = await connect();
  assert.equal(client.getInstructions(), instructions);
  const found = (await client.listTools()).tools.find((t) => t.name === FEEDBACK_TOOL_NAME);
  assert.ok(found, "feedback is listed");
  const listed = JSON.parse(JSON.stringify(found)) as Record<string, unknown>; // as it crosses a real wire
  const { $schema: _schema, additionalProperties, ...inputSchema } = listed.inputSchema as Record<string, unknown>;
  assert.ok(additionalProperties === undefined || additionalProperties === false);
  const { execution: _execution, ...rest } = listed;
  assert.deepEqual({ ...rest, inputSchema }, tool);
  await close();

  const reply = await callFeedback(full);
  assert.match(reply, recorded);

  const retried = await sendFeedback({ ...full, session_id: "retry-after-lost-ack" }, fast(process.env.PWM_FLAKY_URL));
  assert.ok(retried.delivered && retried.status === 200 && recorded.test(retried.reply), JSON.stringify(retried));

  for (const v of vectors.valid) {
    if (v.name === "full") continue;
    const result = await sendFeedback({ ...v.input, session_id: `vector:${v.name}` });
    assert.ok(result.delivered && recorded.test(result.reply), `${v.name}: ${JSON.stringify(result)}`);
  }

  let checked = 0;
  for (const v of vectors.invalid) {
    if (typeof v.input !== "object" || v.input === null || Array.isArray(v.input)) continue;
    const result = await sendFeedback(v.input, fast());
    const details = v.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
    assert.equal(result.reply, replies.invalid!.replace("{details}", details), v.name);
    assert.ok(!result.delivered && !result.unsent && result.invalid === true);
    checked++;
  }
  assert.ok(checked >= 8);

  // Through the SDK, an invalid report is an error the agent can fix, as the proxy answers it.
  // (An empty-after-trim field passes the SDK's own zod check and is refused by the sidecar.)
  const empty = vectors.invalid.find((v) => v.name === "empty_required")!;
  const refused = await callFeedbackResult(empty.input as Record<string, unknown>);
  const emptyDetails = empty.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  assert.deepEqual(refused, { text: replies.invalid!.replace("{details}", emptyDetails), isError: true });

  // A 429 asking for an hour is not waited out: the report is kept (one stderr line) at once.
  const limited = await always429("3600");
  const kept: string[] = [];
  const stderrWrite = process.stderr.write;
  process.stderr.write = ((chunk: unknown) => {
    kept.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const result = await sendFeedback(
      { ...full, session_id: "rate-limited" },
      { ...fast(limited.url), maxRetryAfterMs: 5000 },
    );
    assert.ok(result.unsent && !result.delivered && !result.invalid && result.status === 429, JSON.stringify(result));
    assert.equal(result.reply, replies.queued);
  } finally {
    process.stderr.write = stderrWrite;
    limited.close();
  }
  assert.equal(limited.attempts(), 1);
  assert.equal(kept.length, 1);
  const line = JSON.parse(kept[0]!.slice(kept[0]!.indexOf(" ") + 1)) as Record<string, unknown>;
  assert.ok(kept[0]!.startsWith("PATCHWORKMCP_UNSENT_FEEDBACK ") && line.session_id === "rate-limited");
}

async function down(): Promise<void> {
  assert.equal(await callFeedback({ ...full, session_id: "sidecar-down" }), replies.queued);
  const result = await sendFeedback({ ...full, session_id: "always-503" }, fast(process.env.PWM_DOWN_URL));
  assert.ok(result.unsent && !result.delivered && result.status === 503, JSON.stringify(result));
  assert.equal(result.reply, replies.queued);
}

// Nothing may reach stdout (it would corrupt a stdio transport): record any write.
const stdoutWrites: string[] = [];
process.stdout.write = ((chunk: unknown) => {
  stdoutWrites.push(String(chunk));
  return true;
}) as typeof process.stdout.write;

const phase = process.argv[2];
await (phase === "up" ? up() : phase === "down" ? down() : Promise.reject(new Error(`unknown phase ${phase}`)));
assert.deepEqual(stdoutWrites, [], "nothing was written to stdout");
process.stderr.write(`dropin-check ${phase}: passed\n`);
