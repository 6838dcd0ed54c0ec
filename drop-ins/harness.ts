/**
 * The one scenario every drop-in is held to, run against the real sidecar
 * (`patchworkmcp serve` from this repo) and the language's own test runner:
 *
 *  1. up:     the native test builds a server with the real MCP SDK + the drop-in,
 *             checks tools/list and instructions equal drop-ins/spec, calls the
 *             tool through the SDK's client, delivers once through a "flaky"
 *             sidecar (503 after storing = lost ack, then 429, then success), sends
 *             every other valid spec vector and every invalid one. Here we read every stored field back
 *             through the REST API and check the retries reused one Idempotency-Key.
 *             It also sends one report through the SDK with only the required fields
 *             (user_goal "context-check"): the stored report must carry the context
 *             the server knows (tools registered, its version, the client's name, a
 *             session id). And it sends every drop-ins/spec/echo.json vector to a
 *             loopback endpoint answering in the sidecar's wire format with that
 *             vector's `gap` (the real sidecar's gaps are another branch), checking
 *             the reply byte for byte; the real sidecar's answers without a gap give
 *             the plain "recorded" reply (checked exactly everywhere).
 *  2. down:   the sidecar is stopped; the native test calls the tool again and
 *             sends to an always-503 endpoint. Both must end in the outbox
 *             (FEEDBACK_OUTBOX, the proxy's format), after exactly 3 attempts
 *             (2 retries) for the 503 case, with no PATCHWORKMCP_UNSENT_FEEDBACK
 *             line on stderr (that is only the fallback when the outbox fails).
 *  3. replay: the sidecar restarts on the same database; `patchworkmcp replay`
 *             of that outbox stores each entry exactly once, also when run twice.
 *  4. outbox: the sidecar is away (a relay that drops connections); a long-lived
 *             native process reports once (kept in a fresh outbox) and waits until
 *             its background re-sender has emptied the outbox; the relay then lets
 *             requests through to the sidecar. The report is stored exactly once,
 *             also after a replay of the outbox as it was while waiting.
 *
 * The sidecar requires an API key, so each drop-in must send FEEDBACK_API_KEY as a
 * Bearer token. Native tests get FEEDBACK_SIDECAR_URL, FEEDBACK_API_KEY,
 * FEEDBACK_OUTBOX, PWM_FLAKY_URL, PWM_DOWN_URL, PWM_ECHO_URL and PWM_SPEC_DIR in
 * their environment, and name their MCP client CLIENT_INFO; session_id tells the
 * reports apart.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REPO_ROOT, startServe, tempDir, type ServeProcess } from "../test/helpers/serve.js";

export const SPEC_DIR = resolve(import.meta.dirname, "spec");
export const UNSENT_MARKER = "PATCHWORKMCP_UNSENT_FEEDBACK";

/** The sidecar runs with an API key, so every drop-in must send it (FEEDBACK_API_KEY). */
export const API_KEY = "pwm-dropin-test-key";
const auth = { authorization: `Bearer ${API_KEY}` };

/** Native tests send every valid vector but "full" with session_id = this prefix + its name. */
export const VECTOR_SESSION_PREFIX = "vector:";

export const SESSIONS = {
  delivered: "session-7f3a",
  retried: "retry-after-lost-ack",
  sidecarDown: "sidecar-down",
  always503: "always-503",
  outbox: "outbox-resend",
} as const;

/** Every native test names its MCP client so; the context report's client_type must be "name/version". */
export const CLIENT_INFO = { name: "pwm-dropin-client", version: "1.2.3" } as const;
/** user_goal of the report each native test sends with only the required fields, through its SDK. */
export const CONTEXT_GOAL = "context-check";
/** Prefix of session_id of the reports each native test sends through the original API's snippets. */
export const MIGRATION_SESSION_PREFIX = "migration:";
/** Prefix of session_id for each echo.json vector sent to PWM_ECHO_URL. */
export const ECHO_SESSION_PREFIX = "echo:";

interface Vectors {
  stored_fields: string[];
  valid: Array<{ name: string; input: Record<string, unknown>; stored: Record<string, unknown> }>;
}

export function loadVectors(): Vectors {
  return JSON.parse(readFileSync(join(SPEC_DIR, "vectors.json"), "utf8")) as Vectors;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a child process to completion, capturing both streams. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

interface Attempt {
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  body: string;
}

interface FakeEndpoint {
  url: string;
  attempts: Attempt[];
  server: Server;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((r) => {
    let body = "";
    req
      .setEncoding("utf8")
      .on("data", (d: string) => (body += d))
      .on("end", () => r(body));
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** What a double saw of one POST: the headers that matter and the raw body. */
function attemptOf(req: IncomingMessage, body: string): Attempt {
  return {
    idempotencyKey: req.headers["idempotency-key"] as string | undefined,
    authorization: req.headers.authorization,
    body,
  };
}

/**
 * A sidecar that loses acks: attempt 1 stores the report upstream and then
 * answers 503, attempt 2 answers 429, attempt 3 forwards and relays the answer.
 */
async function flakyEndpoint(upstream: () => string): Promise<FakeEndpoint> {
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    attempts.push(attemptOf(req, body));
    const n = attempts.length;
    const forward = () =>
      fetch(`${upstream()}/api/feedback`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": String(req.headers["idempotency-key"] ?? ""),
          authorization: String(req.headers.authorization ?? ""),
        },
        body,
      });
    if (n === 2) {
      res
        .writeHead(429, { "retry-after": "0", "content-type": "application/json" })
        .end('{"error":{"code":"rate_limited","message":"slow down"}}');
      return;
    }
    const answer = await forward();
    const text = await answer.text();
    if (n === 1) {
      res.writeHead(503, { "retry-after": "0" }).end("ack lost");
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
  });
  return { url: await listen(server), attempts, server };
}

/** Always 503 with Retry-After: 0. */
async function downEndpoint(): Promise<FakeEndpoint> {
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    attempts.push(attemptOf(req, body));
    res.writeHead(503, { "retry-after": "0" }).end("unavailable");
  });
  return { url: await listen(server), attempts, server };
}

interface EchoVector {
  name: string;
  gap: Record<string, unknown>;
  sentence: string;
  reply: string;
}

export function loadEcho(): { report_id: number; vectors: EchoVector[] } {
  return JSON.parse(readFileSync(join(SPEC_DIR, "echo.json"), "utf8")) as { report_id: number; vectors: EchoVector[] };
}

/**
 * Answers POST /api/feedback as the sidecar does when a report joins a known gap:
 * 201 {"id", "status": "recorded", "gap"}, the gap being the echo.json vector named
 * by the report's session_id ("echo:<name>"). A loopback double of the wire format, so
 * each language meets every vector (every status, padded, blank and absent notes) without
 * an admin preparing a real gap per vector; the real sidecar's echo is checked end to end
 * by test/proxy/delivery.test.ts and test/gaps/deferred.test.ts.
 */
async function echoEndpoint(): Promise<FakeEndpoint> {
  const { report_id, vectors } = loadEcho();
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    attempts.push(attemptOf(req, body));
    let session = "";
    try {
      session = String((JSON.parse(body) as { session_id?: unknown }).session_id ?? "");
    } catch {
      // answered below
    }
    const vector = vectors.find((v) => `${ECHO_SESSION_PREFIX}${v.name}` === session);
    if (!vector) {
      res.writeHead(422, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: {
            code: "validation_failed",
            message: "no echo vector",
            details: [{ field: "session_id", message: `no echo vector ${session}` }],
          },
        }),
      );
      return;
    }
    res
      .writeHead(201, { "content-type": "application/json" })
      .end(JSON.stringify({ id: report_id, status: "recorded", gap: vector.gap }));
  });
  return { url: await listen(server), attempts, server };
}

/** Forwards to the sidecar while `open()`; otherwise drops each connection, as a sidecar that is not running would. */
async function relayEndpoint(upstream: () => string, open: () => boolean): Promise<FakeEndpoint> {
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    attempts.push(attemptOf(req, body));
    if (!open()) {
      req.socket.destroy();
      return;
    }
    const answer = await fetch(`${upstream()}${req.url ?? "/"}`, {
      method: req.method,
      headers: {
        "content-type": "application/json",
        "idempotency-key": String(req.headers["idempotency-key"] ?? ""),
        authorization: String(req.headers.authorization ?? ""),
      },
      body: req.method === "POST" ? body : undefined,
    });
    res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
  });
  return { url: await listen(server), attempts, server };
}

/** Poll `check` until it holds (a condition wait, not a sleep). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Report extends Record<string, unknown> {
  id: number;
  session_id: string | null;
}

async function allReports(url: string): Promise<Report[]> {
  const res = await fetch(`${url}/api/feedback?limit=200`, { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Report[] }).items;
}

/** The entries of an outbox file: one `PATCHWORKMCP_UNSENT_FEEDBACK {json}` line each, nothing else. */
export function outboxLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      expect(l.startsWith(`${UNSENT_MARKER} `), "each outbox line starts with the marker").toBe(true);
      return JSON.parse(l.slice(UNSENT_MARKER.length + 1)) as Record<string, unknown>;
    });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Phase = "up" | "down" | "outbox";
export type NativeRunner = (phase: Phase, env: Record<string, string>) => Promise<RunResult>;

/** Declare the three-phase scenario for one drop-in. Tests run in order and share the sidecar. */
export function describeDropin(label: string, runNative: NativeRunner): void {
  describe(`${label} drop-in against the real sidecar`, () => {
    const vectors = loadVectors();
    const full = vectors.valid.find((v) => v.name === "full")!;
    const pick = (r: Record<string, unknown>) => Object.fromEntries(vectors.stored_fields.map((f) => [f, r[f]]));
    let sidecar: ServeProcess | undefined;
    let sidecarUrl = "";
    let flaky: FakeEndpoint;
    let down: FakeEndpoint;
    let echo: FakeEndpoint;
    let relay: FakeEndpoint;
    let relayOpen = false;
    const dir = tempDir("pwm-dropin-");
    const outbox = join(dir, "outbox.log");
    const env = (): Record<string, string> => ({
      FEEDBACK_SIDECAR_URL: sidecarUrl,
      FEEDBACK_API_KEY: API_KEY,
      FEEDBACK_OUTBOX: outbox,
      PWM_FLAKY_URL: flaky.url,
      PWM_DOWN_URL: down.url,
      PWM_ECHO_URL: echo.url,
      PWM_SPEC_DIR: SPEC_DIR,
    });
    const show = (r: RunResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

    beforeAll(async () => {
      sidecar = await startServe({ env: { FEEDBACK_API_KEY: API_KEY } });
      sidecarUrl = sidecar.url;
      flaky = await flakyEndpoint(() => sidecarUrl);
      down = await downEndpoint();
      echo = await echoEndpoint();
      relay = await relayEndpoint(
        () => sidecarUrl,
        () => relayOpen,
      );
    });
    afterAll(async () => {
      await sidecar?.stop();
      for (const endpoint of [flaky, down, echo, relay]) endpoint?.server.close();
    });

    it("registers the spec's tool, delivers through the SDK with every field intact, and retries idempotently", async () => {
      const result = await runNative("up", env());
      expect(result.code, show(result)).toBe(0);
      expect(result.stderr, "nothing is unsent while the sidecar is up").not.toContain(UNSENT_MARKER);

      const everything = await allReports(sidecarUrl);
      // The original API's snippets (their set differs per SDK): each delivered exactly once.
      const migrated = everything.filter((r) => String(r.session_id).startsWith(MIGRATION_SESSION_PREFIX));
      expect(migrated.length, "the native test ran the original API's snippets").toBeGreaterThan(0);
      expect(new Set(migrated.map((r) => r.session_id)).size).toBe(migrated.length);
      const reports = everything.filter((r) => !String(r.session_id).startsWith(MIGRATION_SESSION_PREFIX));
      const delivered = reports.filter((r) => r.session_id === SESSIONS.delivered);
      expect(delivered).toHaveLength(1);
      expect(pick(delivered[0]!)).toEqual(full.stored);

      // Lost ack, then 429, then success: three attempts, one key, one report.
      expect(flaky.attempts).toHaveLength(3);
      const keys = new Set(flaky.attempts.map((a) => a.idempotencyKey));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(UUID);
      expect(flaky.attempts.every((a) => a.authorization === auth.authorization)).toBe(true);
      const retried = reports.filter((r) => r.session_id === SESSIONS.retried);
      expect(retried).toHaveLength(1);
      expect(pick(retried[0]!)).toEqual({ ...full.stored, session_id: SESSIONS.retried });

      // Every other valid spec vector, sent through the drop-in's send function, is stored
      // exactly as the spec says (the native test tags each with session_id "vector:<name>").
      const others = vectors.valid.filter((v) => v.name !== "full");
      for (const v of others) {
        const session = `${VECTOR_SESSION_PREFIX}${v.name}`;
        const mine = reports.filter((r) => r.session_id === session);
        expect(mine, v.name).toHaveLength(1);
        expect(pick(mine[0]!), v.name).toEqual({ ...v.stored, session_id: session });
      }

      // The report sent with only the required fields carries what the server knows.
      // (A native test may add others, e.g. TypeScript on SDK 2.x over 2026-07-28, user_goal "context-check-…".)
      expect(reports.filter((r) => r.user_goal === CONTEXT_GOAL)).toHaveLength(1);
      for (const c of everything.filter((r) => String(r.user_goal).startsWith(CONTEXT_GOAL))) {
        expect([...(c.tools_available as string[])].sort(), String(c.user_goal)).toEqual(["feedback", "list_invoices"]);
        expect(c.server_version, String(c.user_goal)).toBe("2.4.1");
        expect(c.server_name).toBe("billing-server");
        expect(c.client_type, String(c.user_goal)).toBe(`${CLIENT_INFO.name}/${CLIENT_INFO.version}`);
        expect(c.session_id).toEqual(expect.any(String));
        expect((c.session_id as string).length).toBeGreaterThan(0);
      }
      expect(reports).toHaveLength(3 + others.length);

      // Every echo vector reached the known-gap double (the native test checked each reply).
      const sessions = echo.attempts.map((a) => (JSON.parse(a.body) as { session_id: string }).session_id);
      expect(sessions.sort()).toEqual(
        loadEcho()
          .vectors.map((v) => `${ECHO_SESSION_PREFIX}${v.name}`)
          .sort(),
      );
      expect(existsSync(outbox) ? readFileSync(outbox, "utf8") : "", "nothing was kept while the sidecar was up").toBe(
        "",
      );
    });

    it("keeps each undeliverable report in the outbox (the proxy's format) after 2 retries", async () => {
      const code = await sidecar!.stop();
      expect(code).not.toBeNull();
      const result = await runNative("down", env());
      expect(result.code, show(result)).toBe(0);
      expect(result.stderr, "the outbox was written, so no fallback line").not.toContain(`${UNSENT_MARKER} {`);
      const lines = outboxLines(outbox);
      expect(lines.map((l) => l.session_id).sort()).toEqual([SESSIONS.always503, SESSIONS.sidecarDown].sort());
      expect(down.attempts).toHaveLength(3);
      expect(new Set(down.attempts.map((a) => a.idempotencyKey)).size).toBe(1);
      expect(down.attempts.every((a) => a.authorization === auth.authorization)).toBe(true);
      const line503 = lines.find((l) => l.session_id === SESSIONS.always503)!;
      expect(line503.idempotency_key).toBe(down.attempts[0]!.idempotencyKey);
      for (const line of lines) {
        expect(line.idempotency_key).toMatch(UUID);
        const { idempotency_key: _key, ...payload } = line;
        expect(pick({ ...full.stored, ...payload })).toEqual({ ...full.stored, session_id: line.session_id });
      }
    });

    it("replays the outbox into exactly one report each, also when replayed twice", async () => {
      expect(outboxLines(outbox)).toHaveLength(2);
      sidecar = await startServe({ dbPath: sidecar!.dbPath, env: { FEEDBACK_API_KEY: API_KEY } });
      sidecarUrl = sidecar.url;
      const file = join(dir, "outbox-copy.log");
      copyFileSync(outbox, file);
      for (let i = 0; i < 2; i++) {
        const replay = await run(process.execPath, [CLI, "replay", file, "--sidecar-url", sidecarUrl], {
          env: { FEEDBACK_API_KEY: API_KEY },
        });
        expect(replay.code, show(replay)).toBe(0);
        expect(replay.stderr).toContain("replay: 2 delivered, 0 failed");
      }
      const reports = (await allReports(sidecarUrl)).filter(
        (r) => !String(r.session_id).startsWith(MIGRATION_SESSION_PREFIX),
      );
      expect(reports).toHaveLength(5 + vectors.valid.length - 1);
      for (const session of [SESSIONS.sidecarDown, SESSIONS.always503]) {
        const mine = reports.filter((r) => r.session_id === session);
        expect(mine, session).toHaveLength(1);
        expect(pick(mine[0]!)).toEqual({ ...full.stored, session_id: session });
      }
    });

    it("re-sends the outbox in the background once the sidecar is back, exactly once", async () => {
      const fresh = join(dir, "outbox-resend.log");
      const native = runNative("outbox", { ...env(), FEEDBACK_SIDECAR_URL: relay.url, FEEDBACK_OUTBOX: fresh });
      let exited = false;
      void native.finally(() => {
        exited = true;
      });
      await until("the report is kept in the outbox", () => exited || outboxLines(fresh).length === 1);
      expect(exited, "the native process waits for the re-send").toBe(false);
      const kept = outboxLines(fresh)[0]!;
      expect(kept.session_id).toBe(SESSIONS.outbox);
      const copy = join(dir, "outbox-resend-copy.log");
      copyFileSync(fresh, copy);
      // The sidecar comes back: the relay lets the re-sender's requests through.
      const refusedBefore = relay.attempts.length;
      relayOpen = true;
      const result = await native;
      expect(result.code, show(result)).toBe(0);
      expect(relay.attempts.length).toBeGreaterThan(refusedBefore);
      expect(new Set(relay.attempts.map((a) => a.idempotencyKey))).toEqual(new Set([kept.idempotency_key]));
      expect(outboxLines(fresh)).toEqual([]);
      const replay = await run(process.execPath, [CLI, "replay", copy, "--sidecar-url", sidecarUrl], {
        env: { FEEDBACK_API_KEY: API_KEY },
      });
      expect(replay.code, show(replay)).toBe(0);
      expect(replay.stderr).toContain("(already recorded)");
      const mine = (await allReports(sidecarUrl)).filter((r) => r.session_id === SESSIONS.outbox);
      expect(mine).toHaveLength(1);
      expect(pick(mine[0]!)).toEqual({ ...full.stored, session_id: SESSIONS.outbox });
    });
  });
}
