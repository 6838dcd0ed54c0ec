/**
 * Ingestion limits against a real `patchworkmcp serve`: the per-key (or
 * per-address) token bucket and the daily byte cap per server, on the fast
 * path (`application/json`) and through express (`application/merge+json`)
 * alike.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { request, validReport } from "../helpers/http.js";
import { CLI, startServe, tempDir, type ServeProcess, testDbPath } from "../helpers/serve.js";
import { connectStdioProxy, fixtureCommand, freePort, textOf, waitFor } from "../proxy/helpers.js";
import { parseUnsentLines } from "../../src/delivery/unsent.js";
import { FEEDBACK_REPLIES } from "../../src/feedback/index.js";

const running: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
async function serve(options: Parameters<typeof startServe>[0]): Promise<ServeProcess> {
  const s = await startServe(options);
  running.push(s);
  return s;
}

const FAST = "application/json";
const EXPRESS = "application/merge+json";
const post = (s: ServeProcess, body: unknown, contentType: string, key?: string) =>
  request(`${s.url}/api/feedback`, {
    rawBody: JSON.stringify(body),
    headers: { "content-type": contentType },
    ...(key ? { key } : {}),
  });
const count = async (s: ServeProcess, key?: string) =>
  (await request(`${s.url}/api/stats`, key ? { key } : {})).body.total as number;

describe("rate limit", () => {
  it("answers 429 with Retry-After once an address has spent its burst, on either path", async () => {
    // One token every 100 s: nothing refills while the test runs.
    const s = await serve({ args: ["--rate-limit", "0.01", "--rate-limit-burst", "3"] });
    const statuses = [];
    for (const type of [FAST, EXPRESS, FAST]) statuses.push((await post(s, validReport(), type)).status);
    expect(statuses).toEqual([201, 201, 201]);
    for (const type of [EXPRESS, FAST]) {
      const refused = await post(s, validReport(), type);
      expect(refused.status, type).toBe(429);
      expect(refused.body.error.code).toBe("rate_limited");
      expect(refused.body.error.message).toMatch(/Too many reports from this address: at most 3 at once/);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect(await count(s)).toBe(3);
    // Reading is not ingestion: it is not limited.
    expect((await request(`${s.url}/api/feedback`)).status).toBe(200);
  });

  it("gives each API key its own bucket", async () => {
    const master = "rate-limit-master-key-000001";
    const dbPath = testDbPath();
    const created = spawnSync(
      process.execPath,
      [CLI, "keys", "create", "--scope", "ingest", "--db", dbPath, "--create"],
      {
        encoding: "utf8",
      },
    );
    expect(created.status, created.stderr).toBe(0);
    const ingestKey = created.stdout
      .trim()
      .split(/\s+/)
      .find((w) => w.startsWith("pwm_"))!;
    const s = await serve({
      dbPath,
      args: ["--rate-limit", "0.01", "--rate-limit-burst", "2"],
      env: { FEEDBACK_API_KEY: master },
    });
    for (const type of [FAST, EXPRESS]) expect((await post(s, validReport(), type, ingestKey)).status).toBe(201);
    const refused = await post(s, validReport(), FAST, ingestKey);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/from this API key/);
    // Same address, another key: untouched.
    expect((await post(s, validReport(), EXPRESS, master)).status).toBe(201);
    // An unknown key is a 401, and spends nobody's tokens.
    expect((await post(s, validReport(), FAST, "pwm_000000000000_notavalidsecretatallxx")).status).toBe(401);
    expect((await post(s, validReport(), FAST, master)).status).toBe(201);
  });

  it("is off with --rate-limit 0", async () => {
    const s = await serve({ env: { FEEDBACK_RATE_LIMIT: "0", FEEDBACK_RATE_LIMIT_BURST: "1" } });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => post(s, validReport(), FAST)));
    expect(statuses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
  });
});

describe("daily byte cap per server", () => {
  it("refuses a server's reports past the cap until the next UTC day, also after a restart", async () => {
    const dbPath = testDbPath();
    const args = ["--max-bytes-per-server-day", "3kb"];
    let s = await serve({ dbPath, args });
    const big = (server_name: string) => validReport({ server_name, what_i_tried: "x".repeat(1000) });
    const statuses = [];
    for (const type of [FAST, EXPRESS, FAST, EXPRESS]) statuses.push((await post(s, big("alpha"), type)).status);
    // Each report is a little over 1 KB: two fit in 3 KB, the third would not.
    expect(statuses).toEqual([201, 201, 429, 429]);
    const refused = await post(s, big("alpha"), FAST);
    expect(refused.body.error.code).toBe("daily_byte_limit");
    expect(refused.body.error.message).toMatch(/server "alpha" have reached today's storage cap of 3 KB/);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // Another server has its own budget, and a small report still fits alpha's.
    expect((await post(s, big("beta"), EXPRESS)).status).toBe(201);
    expect((await post(s, validReport({ server_name: "alpha" }), FAST)).status).toBe(201);
    // An invalid report is a 422 as ever, and costs nothing.
    expect((await post(s, { server_name: "alpha" }, FAST)).status).toBe(422);
    await s.stop();
    running.length = 0;

    // A restart counts what is already stored today.
    s = await serve({ dbPath, args });
    expect((await post(s, big("alpha"), EXPRESS)).status).toBe(429);
    expect((await post(s, big("beta"), FAST)).status).toBe(201);
    expect(await count(s)).toBe(5);
  });

  it("explains a bad size", () => {
    const res = spawnSync(process.execPath, [CLI, "serve", "--max-bytes-per-server-day", "lots"], {
      encoding: "utf8",
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('"lots" is not a size');
  });
});

describe("clients keep a 429'd report for later", () => {
  it("the proxy puts it in its outbox and delivers it once the sidecar takes it", async () => {
    const port = await freePort();
    const outbox = join(tempDir(), "outbox.log");
    // One report, then nothing for 10 s: the 429's Retry-After, which the proxy keeps to before it retries.
    let sidecar = await serve({ args: ["--port", String(port), "--rate-limit", "0.1", "--rate-limit-burst", "1"] });
    const p = await connectStdioProxy({
      proxyArgs: ["--sidecar-url", sidecar.url, "--outbox", outbox, "--delivery-timeout", "10000"],
      upstream: fixtureCommand(),
    });
    try {
      const first = await p.client.callTool({ name: "feedback", arguments: validReport({ session_id: "first" }) });
      expect(textOf(first)).toMatch(/recorded \(report 1\)/);
      const limited = await p.client.callTool({ name: "feedback", arguments: validReport({ session_id: "limited" }) });
      expect(textOf(limited)).toBe(FEEDBACK_REPLIES.queued());
      expect(limited.isError).toBeFalsy();
      const { entries } = parseUnsentLines(readFileSync(outbox, "utf8"));
      expect(entries.map((e) => e.payload.session_id)).toEqual(["limited"]);
      expect(p.stderr()).toMatch(/sidecar answered 429: Too many reports from this address/);

      // The same sidecar without the limit: the proxy's background retry delivers it, once.
      await sidecar.stop();
      running.length = 0;
      sidecar = await serve({ dbPath: sidecar.dbPath, args: ["--port", String(port), "--rate-limit", "0"] });
      await waitFor(() => readFileSync(outbox, "utf8").trim() === "", 30_000, "the outbox to empty");
      const stored = await request(`${sidecar.url}/api/feedback?session_id=limited`);
      expect(stored.body.items).toHaveLength(1);
    } finally {
      await p.close();
    }
  });
});
