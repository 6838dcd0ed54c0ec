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
 *  2. down:   the sidecar is stopped; the native test calls the tool again and
 *             sends to an always-503 endpoint. Both must end in one
 *             PATCHWORKMCP_UNSENT_FEEDBACK line each on stderr, after exactly
 *             3 attempts (2 retries) for the 503 case.
 *  3. replay: the sidecar restarts on the same database; `patchworkmcp replay`
 *             of that stderr stores each line exactly once, also when run twice.
 *
 * The sidecar requires an API key, so each drop-in must send FEEDBACK_API_KEY as a
 * Bearer token. Native tests get FEEDBACK_SIDECAR_URL, FEEDBACK_API_KEY,
 * PWM_FLAKY_URL, PWM_DOWN_URL and PWM_SPEC_DIR in their environment; session_id
 * tells the reports apart.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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
} as const;

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

/**
 * A sidecar that loses acks: attempt 1 stores the report upstream and then
 * answers 503, attempt 2 answers 429, attempt 3 forwards and relays the answer.
 */
async function flakyEndpoint(upstream: () => string): Promise<FakeEndpoint> {
  const attempts: Attempt[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    attempts.push({
      idempotencyKey: req.headers["idempotency-key"] as string | undefined,
      authorization: req.headers.authorization,
      body,
    });
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
    attempts.push({
      idempotencyKey: req.headers["idempotency-key"] as string | undefined,
      authorization: req.headers.authorization,
      body,
    });
    res.writeHead(503, { "retry-after": "0" }).end("unavailable");
  });
  return { url: await listen(server), attempts, server };
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

function unsentLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .filter((l) => l.includes(UNSENT_MARKER))
    .map((l) => {
      expect(l.startsWith(`${UNSENT_MARKER} `), "the unsent line starts with the marker").toBe(true);
      return JSON.parse(l.slice(UNSENT_MARKER.length + 1)) as Record<string, unknown>;
    });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NativeRunner = (phase: "up" | "down", env: Record<string, string>) => Promise<RunResult>;

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
    let downStderr = "";
    const env = (): Record<string, string> => ({
      FEEDBACK_SIDECAR_URL: sidecarUrl,
      FEEDBACK_API_KEY: API_KEY,
      PWM_FLAKY_URL: flaky.url,
      PWM_DOWN_URL: down.url,
      PWM_SPEC_DIR: SPEC_DIR,
    });
    const show = (r: RunResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

    beforeAll(async () => {
      sidecar = await startServe({ env: { FEEDBACK_API_KEY: API_KEY } });
      sidecarUrl = sidecar.url;
      flaky = await flakyEndpoint(() => sidecarUrl);
      down = await downEndpoint();
    });
    afterAll(async () => {
      await sidecar?.stop();
      flaky?.server.close();
      down?.server.close();
    });

    it("registers the spec's tool, delivers through the SDK with every field intact, and retries idempotently", async () => {
      const result = await runNative("up", env());
      expect(result.code, show(result)).toBe(0);
      expect(result.stderr, "nothing is unsent while the sidecar is up").not.toContain(UNSENT_MARKER);

      const reports = await allReports(sidecarUrl);
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
      expect(reports).toHaveLength(2 + others.length);
    });

    it("writes one replayable stderr line per undeliverable report after 2 retries", async () => {
      const code = await sidecar!.stop();
      expect(code).not.toBeNull();
      const result = await runNative("down", env());
      expect(result.code, show(result)).toBe(0);
      downStderr = result.stderr;
      const lines = unsentLines(result.stderr);
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

    it("replays the unsent lines into exactly one report each, also when replayed twice", async () => {
      expect(downStderr).toContain(UNSENT_MARKER);
      sidecar = await startServe({ dbPath: sidecar!.dbPath, env: { FEEDBACK_API_KEY: API_KEY } });
      sidecarUrl = sidecar.url;
      const file = join(tempDir("pwm-replay-"), "stderr.log");
      writeFileSync(file, downStderr);
      for (let i = 0; i < 2; i++) {
        const replay = await run(process.execPath, [CLI, "replay", file, "--sidecar-url", sidecarUrl], {
          env: { FEEDBACK_API_KEY: API_KEY },
        });
        expect(replay.code, show(replay)).toBe(0);
        expect(replay.stderr).toContain("replay: 2 delivered, 0 failed");
      }
      const reports = await allReports(sidecarUrl);
      expect(reports).toHaveLength(4 + vectors.valid.length - 1);
      for (const session of [SESSIONS.sidecarDown, SESSIONS.always503]) {
        const mine = reports.filter((r) => r.session_id === session);
        expect(mine, session).toHaveLength(1);
        expect(pick(mine[0]!)).toEqual({ ...full.stored, session_id: session });
      }
    });
  });
}
