/**
 * Native check of feedback-tool.ts with a real McpServer and a real SDK Client. Run as
 * a child process by dropin.test.ts from this folder (the installed SDK 1.x + zod 4),
 * from compat/dropin/ (the oldest 1.x claimed + zod 3) and from compat-v2/dropin/
 * (SDK 2.x, also serving 2026-07-28):
 *   node --import tsx dropin-check.ts up|down|outbox ./sdk-v1.js|./sdk-v2.js
 * Exit code 0 = pass. See drop-ins/harness.ts for the phases and the environment.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ft from "./feedback-tool.js";
import {
  FEEDBACK_INPUT_SCHEMA,
  FEEDBACK_REPLY_INVALID,
  FEEDBACK_REPLY_QUEUED,
  FEEDBACK_REPLY_RECORDED,
  FEEDBACK_SERVER_INSTRUCTIONS,
  FEEDBACK_TOOL_NAME,
  deliverFeedback,
  feedbackToolDefinition,
  knownGapSentence,
  readOutbox,
  registerFeedbackTool,
  type FeedbackOptions,
} from "./feedback-tool.js";

interface Connected {
  instructions: string | undefined;
  protocolVersion: string | undefined;
  listTools(): Promise<{ tools: Array<Record<string, unknown> & { name: string }> }>;
  callTool(
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ content: Array<{ type: string; text?: string }>; isError?: boolean }>;
  close(): Promise<void>;
}
interface Sdk {
  major: number;
  billingServer(instructions: string): ft.McpServerLike;
  connect(server: ft.McpServerLike, clientInfo: { name: string; version: string }): Promise<Connected>;
  connectModern?: (
    factory: () => ft.McpServerLike,
    clientInfo: { name: string; version: string },
  ) => Promise<Connected>;
}
interface Migration {
  optionA(): ft.McpServerLike;
  optionB?: () => ft.McpServerLike;
  withOptions(sidecarUrl: string, apiKey: string): ft.McpServerLike;
}

const phase = process.argv[2];
const sdk = (await import(process.argv[3] ?? "./sdk-v1.js")) as Sdk;
const migration = (await import(sdk.major >= 2 ? "./migration-v2.js" : "./migration-v1.js")) as Migration;

const CLIENT_INFO = { name: "pwm-dropin-client", version: "1.2.3" };
const specDir = process.env.PWM_SPEC_DIR ?? join(import.meta.dirname, "..", "spec");
const spec = <T>(name: string): T => JSON.parse(readFileSync(join(specDir, name), "utf8")) as T;
const tool = spec<Record<string, unknown> & { inputSchema: Record<string, unknown> }>("tool.json");
const { instructions } = spec<{ instructions: string }>("instructions.json");
const replies = spec<Record<string, string>>("replies.json");
const echo = spec<{ vectors: Array<{ name: string; gap: ft.KnownGap; sentence: string; reply: string }> }>("echo.json");
const vectors = spec<{
  valid: Array<{ name: string; input: Record<string, unknown> }>;
  invalid: Array<{ name: string; input: unknown; issues: Array<{ field: string; message: string }> }>;
}>("vectors.json");
const full = vectors.valid.find((v) => v.name === "full")!.input;
const privacy = spec<{
  scrubbed_fields: string[];
  last_resort: ft.PrivacyMode;
  texts: Array<{ name: string; mode: ft.PrivacyMode; input: string; output: string }>;
  reports: Array<{ name: string; mode: ft.PrivacyMode; input: Record<string, unknown>; kept: Record<string, unknown> }>;
}>("privacy.json");
const fast = (sidecarUrl?: string): FeedbackOptions => ({
  sidecarUrl,
  backoffMs: 5,
  maxRetryAfterMs: 50,
  outboxRetryMs: 50,
});
const recorded = new RegExp(
  `^${replies.recorded!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace("\\{id\\}", "(\\d+)")}$`,
);
const required = { what_i_needed: full.what_i_needed, what_i_tried: full.what_i_tried, gap_type: full.gap_type };

async function withBilling<T>(work: (c: Connected) => Promise<T>, options: FeedbackOptions = fast()): Promise<T> {
  const server = sdk.billingServer(FEEDBACK_SERVER_INSTRUCTIONS);
  registerFeedbackTool(server, "billing-server", options);
  const connected = await sdk.connect(server, CLIENT_INFO);
  try {
    return await work(connected);
  } finally {
    await connected.close();
  }
}

async function call(c: Connected, args: Record<string, unknown>, name = FEEDBACK_TOOL_NAME) {
  const result = await c.callTool(name, args);
  assert.equal(result.content.length, 1);
  return { text: result.content[0]!.text ?? "", isError: result.isError === true };
}

async function callFeedback(args: Record<string, unknown>, options?: FeedbackOptions): Promise<string> {
  const { text, isError } = await withBilling((c) => call(c, args), options);
  assert.equal(isError, false, text);
  return text;
}

/** The spec's tools/list entry, as a client sees it. 1.x derives the schema from zod and adds
 * `$schema` (with zod 3 also `additionalProperties: false`) at the top level; the rest is identical. */
function assertSpecTool(found: Record<string, unknown> | undefined): void {
  assert.ok(found, "feedback is listed");
  const listed = JSON.parse(JSON.stringify(found)) as Record<string, unknown>; // as it crosses a real wire
  const { $schema: _schema, additionalProperties, ...inputSchema } = listed.inputSchema as Record<string, unknown>;
  assert.ok(additionalProperties === undefined || additionalProperties === false);
  const { execution: _execution, _meta: _m, ...rest } = listed;
  assert.deepEqual({ ...rest, inputSchema }, tool);
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
  // The exported definition and texts are exactly the spec's, under both names.
  assert.deepEqual(feedbackToolDefinition(), tool);
  assert.deepEqual(FEEDBACK_INPUT_SCHEMA, tool.inputSchema);
  assert.equal(FEEDBACK_SERVER_INSTRUCTIONS, instructions);
  assert.equal(FEEDBACK_REPLY_RECORDED, replies.recorded);
  assert.equal(FEEDBACK_REPLY_QUEUED, replies.queued);
  assert.equal(FEEDBACK_REPLY_INVALID, replies.invalid);
  assert.equal(ft.TOOL_NAME, tool.name);
  assert.equal(ft.TOOL_DESCRIPTION, tool.description);
  assert.deepEqual(Object.keys(ft.TOOL_INPUT_SCHEMA).sort(), Object.keys(FEEDBACK_INPUT_SCHEMA.properties).sort());

  await withBilling(async (c) => {
    assert.equal(c.instructions, instructions);
    assertSpecTool((await c.listTools()).tools.find((t) => t.name === FEEDBACK_TOOL_NAME));
    assert.match((await call(c, full)).text, recorded);
    // Only the required fields: the drop-in fills in what the server knows (the harness reads it back).
    const context = await call(c, { ...required, user_goal: "context-check" });
    assert.match(context.text, recorded);
  });

  if (sdk.connectModern) {
    // 2026-07-28, served by the SDK's per-request handler: the same tool, the same reply.
    const modern = await sdk.connectModern(() => {
      const server = sdk.billingServer(FEEDBACK_SERVER_INSTRUCTIONS);
      registerFeedbackTool(server, "billing-server", fast());
      return server;
    }, CLIENT_INFO);
    try {
      assert.equal(modern.protocolVersion, "2026-07-28");
      assertSpecTool((await modern.listTools()).tools.find((t) => t.name === FEEDBACK_TOOL_NAME));
      const reply = await call(modern, {
        ...required,
        user_goal: "context-check-2026",
        session_id: "migration:2026-07-28",
      });
      assert.match(reply.text, recorded);
      const refused = await call(modern, { ...required, gap_type: "feature_request" });
      assert.equal(refused.isError, true, refused.text);
    } finally {
      await modern.close();
    }
  }

  const retried = await deliverFeedback(
    { ...full, session_id: "retry-after-lost-ack" },
    fast(process.env.PWM_FLAKY_URL),
  );
  assert.ok(retried.delivered && retried.status === 200 && recorded.test(retried.reply), JSON.stringify(retried));

  for (const v of vectors.valid) {
    if (v.name === "full") continue;
    const result = await deliverFeedback({ ...v.input, session_id: `vector:${v.name}` });
    assert.ok(result.delivered && recorded.test(result.reply), `${v.name}: ${JSON.stringify(result)}`);
  }

  let checked = 0;
  for (const v of vectors.invalid) {
    if (typeof v.input !== "object" || v.input === null || Array.isArray(v.input)) continue;
    const result = await deliverFeedback(v.input, fast());
    const details = v.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
    assert.equal(result.reply, replies.invalid!.replace("{details}", details), v.name);
    assert.ok(!result.delivered && !result.unsent && result.invalid === true);
    checked++;
  }
  assert.ok(checked >= 8);

  // Through the SDK, an invalid report is an error the agent can fix, as the proxy answers it.
  // (An empty-after-trim field passes the SDK's own zod check and is refused by the sidecar.)
  const empty = vectors.invalid.find((v) => v.name === "empty_required")!;
  const refused = await withBilling((c) => call(c, empty.input as Record<string, unknown>));
  const emptyDetails = empty.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  assert.deepEqual(refused, { text: replies.invalid!.replace("{details}", emptyDetails), isError: true });

  // The known-gap echo, byte for byte, from a double speaking the sidecar's wire format.
  for (const v of echo.vectors) {
    assert.equal(knownGapSentence(v.gap), v.sentence, v.name);
    const reply = await callFeedback({ ...full, session_id: `echo:${v.name}` }, fast(process.env.PWM_ECHO_URL));
    assert.equal(reply, v.reply, v.name);
  }

  // A 429 asking for an hour is not waited out: the report is kept at once (in its own outbox here).
  const limited = await always429("3600");
  const outboxPath = join(tmpdir(), `pwm-rate-limited-${process.pid}-${Date.now()}.log`);
  try {
    const result = await deliverFeedback(
      { ...full, session_id: "rate-limited" },
      { ...fast(limited.url), maxRetryAfterMs: 5000, outboxPath },
    );
    assert.ok(result.unsent && !result.delivered && !result.invalid && result.status === 429, JSON.stringify(result));
    assert.equal(result.reply, replies.queued);
    assert.deepEqual(
      readOutbox(outboxPath).map((e) => e.payload.session_id),
      ["rate-limited"],
    );
  } finally {
    limited.close();
  }
  assert.equal(limited.attempts(), 1);

  // The original API, as the original README wires it, against the real sidecar.
  const a = await sdk.connect(migration.optionA(), CLIENT_INFO);
  assert.match((await call(a, { ...full, session_id: "migration:optionA" })).text, recorded);
  await a.close();
  if (migration.optionB) {
    const b = await sdk.connect(migration.optionB(), CLIENT_INFO);
    assert.match((await call(b, { ...full, session_id: "migration:optionB" })).text, recorded);
    await b.close();
  }
  const o = await sdk.connect(
    migration.withOptions(process.env.FEEDBACK_SIDECAR_URL!, process.env.FEEDBACK_API_KEY!),
    CLIENT_INFO,
  );
  assert.match((await call(o, { ...full, session_id: "migration:withOptions" })).text, recorded);
  await o.close();
  const text = await ft.sendFeedback({ ...full, session_id: "migration:sendFeedback" }, "my-server", {
    sidecarUrl: process.env.FEEDBACK_SIDECAR_URL,
    apiKey: process.env.FEEDBACK_API_KEY,
  });
  assert.equal(typeof text, "string");
  assert.match(text, recorded);
  assert.match(await ft.sendFeedback({ ...full, session_id: "migration:sendFeedback-default" }), recorded);
}

async function down(): Promise<void> {
  assert.equal(await callFeedback({ ...full, session_id: "sidecar-down" }), replies.queued);
  const result = await deliverFeedback({ ...full, session_id: "always-503" }, fast(process.env.PWM_DOWN_URL));
  assert.ok(result.unsent && !result.delivered && result.status === 503, JSON.stringify(result));
  assert.equal(result.reply, replies.queued);
  assert.equal(result.outbox, process.env.FEEDBACK_OUTBOX);
  await keepsScrubbed();
}

/**
 * What is kept is scrubbed first: every privacy.json text; each report as its outbox line holds
 * it (nothing listens on port 9, so every report is kept); the stderr line of last resort, with
 * secrets+pii whatever the mode, when the outbox cannot be written (a file stands where its
 * folder would be).
 */
async function keepsScrubbed(): Promise<void> {
  assert.deepEqual([...ft.SCRUBBED_FIELDS], privacy.scrubbed_fields);
  for (const t of privacy.texts) assert.equal(ft.scrubText(t.input, t.mode).text, t.output, t.name);
  const dir = mkdtempSync(join(tmpdir(), "pwm-privacy-"));
  const keep = (input: Record<string, unknown>, outboxPath: string, mode: ft.PrivacyMode) =>
    deliverFeedback(input, {
      sidecarUrl: "http://127.0.0.1:9",
      retries: 0,
      outboxPath,
      outboxRetryMs: 3_600_000,
      privacy: mode,
    });
  for (const r of privacy.reports) {
    const path = join(dir, `${r.name}.log`);
    assert.ok((await keep(r.input, path, r.mode)).unsent, r.name);
    const [entry] = readOutbox(path);
    for (const f of privacy.scrubbed_fields) assert.equal(entry?.payload[f] ?? null, r.kept[f], `${r.name}: ${f}`);
  }
  writeFileSync(join(dir, "not-a-folder"), "");
  const report = privacy.reports[0]!;
  const stderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown) => stderr.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    await keep(report.input, join(dir, "not-a-folder", "outbox.log"), "off");
  } finally {
    process.stderr.write = write;
  }
  const line = stderr
    .join("")
    .split("\n")
    .find((l) => l.startsWith(`${ft.UNSENT_FEEDBACK_MARKER} `));
  assert.ok(line, stderr.join(""));
  const kept = JSON.parse(line.slice(ft.UNSENT_FEEDBACK_MARKER.length + 1)) as Record<string, unknown>;
  assert.equal(report.mode, privacy.last_resort);
  for (const f of privacy.scrubbed_fields) assert.equal(kept[f] ?? null, report.kept[f], `stderr line: ${f}`);
}

/** Report while the sidecar is away, then stay up until the background re-sender has emptied the outbox. */
async function outbox(): Promise<void> {
  assert.equal(await callFeedback({ ...full, session_id: "outbox-resend" }), replies.queued);
  const deadline = Date.now() + 60_000;
  while (readOutbox(process.env.FEEDBACK_OUTBOX!).length > 0) {
    assert.ok(Date.now() < deadline, "the outbox was not re-sent within 60 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Nothing may reach stdout (it would corrupt a stdio transport): record any write.
const stdoutWrites: string[] = [];
process.stdout.write = ((chunk: unknown) => {
  stdoutWrites.push(String(chunk));
  return true;
}) as typeof process.stdout.write;

const phases: Record<string, () => Promise<void>> = { up, down, outbox };
await (phases[phase ?? ""] ?? (() => Promise.reject(new Error(`unknown phase ${phase}`))))();
assert.deepEqual(stdoutWrites, [], "nothing was written to stdout");
process.stderr.write(`dropin-check ${phase}: passed\n`);
