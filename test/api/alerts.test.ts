/**
 * Alerts end to end against an in-process sidecar on a real database (SQLite file or
 * PostgreSQL): destinations and rules over REST, the engine behind its watermarks, signed
 * webhooks verified by a loopback receiver, the Slack double, a real SMTP server, dead letters.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/alerts/index.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { alertStore } from "../../src/store/index.js";
import {
  closedPort,
  type HttpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
  until,
} from "../helpers/alert-receivers.js";
import { request, validReport } from "../helpers/http.js";
import { onPostgres, tempDir, testDbPath } from "../helpers/serve.js";

let server: RunningServer;
let receiver: HttpReceiver;
const cwd = process.cwd();

beforeAll(async () => {
  // With PostgreSQL the .env is the working directory's: a fresh one, never the repository.
  if (onPostgres()) process.chdir(tempDir("pwm-alerts-cwd-"));
  server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dbPath: testDbPath(),
    log: () => undefined,
    limits: { ratePerSecond: 0, burst: 1, maxBytesPerServerDay: 0 },
    publicUrl: "https://feedback.example.test",
    alerts: { intervalMs: 40, maxAttempts: 2, baseDelayMs: 20 },
  });
  receiver = await startHttpReceiver();
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
  process.chdir(cwd);
});

const api = (path: string, init: Parameters<typeof request>[1] = {}) =>
  request(`${server.url}/api/alerts${path}`, init);
const store = () => server.context.store;
let created: number[] = [];
afterEach(async () => {
  for (const id of created) await api(`/destinations/${id}`, { method: "DELETE" });
  created = [];
  receiver.answer(200);
  receiver.received.length = 0;
});

async function webhook(url = receiver.url): Promise<{ id: number; secret: string }> {
  const res = await api("/destinations", { body: { kind: "webhook", url, name: "ops" } });
  expect(res.status, res.text).toBe(201);
  created.push(res.body.destination.id);
  return { id: res.body.destination.id, secret: res.body.secret };
}

async function rule(body: Record<string, unknown>): Promise<number> {
  const res = await api("/rules", { body });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

let serverSeq = 0;
const uniqueServer = () => `srv-${process.pid}-${++serverSeq}`;
const report = (server_name: string, extra: Record<string, unknown> = {}) =>
  request(`${server?.url}/api/feedback`, { body: validReport({ server_name, ...extra }) });

describe("destinations and rules over REST", () => {
  it("shows a webhook's secret once, keeps it and the URL in .env, and masks both afterwards", async () => {
    const { id, secret } = await webhook();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const list = await api("/destinations");
    const d = list.body.items.find((x: { id: number }) => x.id === id);
    expect(d.target).toBe(`http://127.0.0.1:${receiver.port}/…`);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(JSON.stringify(list.body)).not.toContain("secret-token");
    expect(d.secrets.secret).toMatchObject({ set: true, env: `PATCHWORKMCP_ALERT_${id}_SECRET` });
    const envDir = onPostgres() ? process.cwd() : dirname(store().path);
    const env = readFileSync(join(envDir, ".env"), "utf8");
    expect(env).toContain(`PATCHWORKMCP_ALERT_${id}_SECRET='${secret}'`);
    expect(env).toContain(`PATCHWORKMCP_ALERT_${id}_URL='${receiver.url}'`);
  });

  it("refuses bad URLs, unknown destinations and thresholds out of range with a 4xx naming the problem", async () => {
    const bad = async (body: Record<string, unknown>, status: number, code: string, message: RegExp) => {
      const res = await api("/destinations", { body });
      expect(res.status, res.text).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
    };
    await bad({ kind: "webhook", url: "not a url" }, 422, "invalid_url", /not a valid URL/);
    await bad(
      { kind: "slack", url: "ftp://hooks.example/x" },
      422,
      "unsupported_url_scheme",
      /http:\/\/ or https:\/\//,
    );
    await bad({ kind: "webhook", url: "https://u:p@hooks.example/x" }, 422, "url_has_credentials", /credentials/);
    await bad(
      { kind: "email", url: "https://mail.example", from: "a@b.example", to: ["c@d.example"] },
      422,
      "unsupported_url_scheme",
      /smtp:\/\//,
    );
    await bad({ kind: "pager", url: "https://x.example" }, 422, "validation_failed", /kind must be/);
    const r1 = await api("/rules", { body: { kind: "new_gap", destination_id: 999_999 } });
    expect(r1.status).toBe(422);
    expect(r1.body.error).toMatchObject({
      code: "unknown_destination",
      message: "There is no alert destination 999999.",
    });
    const { id } = await webhook();
    const r2 = await api("/rules", { body: { kind: "blocked_share", destination_id: id, threshold: 140 } });
    expect(r2.status).toBe(422);
    expect(r2.body.error.message).toMatch(/threshold: threshold must be a percentage above 0 and at most 100/);
    const r3 = await api("/rules", { body: { kind: "sessions", destination_id: id, threshold: 3, window: "soon" } });
    expect(r3.status).toBe(422);
    expect(r3.body.error.message).toMatch(/window must be a duration/);
    expect((await api("/rules/77777", { method: "DELETE" })).body.error.code).toBe("rule_not_found");
    expect((await api("/destinations/abc", { method: "DELETE" })).body.error.code).toBe("invalid_id");
  });

  it("names the unreachable or refusing receiver in a test send's error", async () => {
    const down = await webhook(`http://127.0.0.1:${await closedPort()}/hook`);
    const res = await api(`/destinations/${down.id}/test`, { method: "POST" });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("destination_unreachable");
    expect(res.body.error.message).toMatch(/^Could not reach 127\.0\.0\.1:\d+: the connection was refused/);
    receiver.answer(500);
    const refusing = await webhook();
    const r2 = await api(`/destinations/${refusing.id}/test`, { method: "POST" });
    expect(r2.status).toBe(502);
    expect(r2.body.error).toMatchObject({ code: "destination_refused" });
    expect(r2.body.error.message).toMatch(/answered HTTP 500/);
  });
});

describe("signed webhooks", () => {
  it("signs the Standard Webhooks way: the right secret verifies, a wrong one does not", async () => {
    const { id, secret } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: id, server_name: srv });
    expect((await report(srv)).status).toBe(201);
    const [got] = await receiver.waitFor(1);
    const headers = {
      id: String(got!.headers["webhook-id"]),
      timestamp: String(got!.headers["webhook-timestamp"]),
      signature: String(got!.headers["webhook-signature"]),
    };
    expect(headers.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyWebhook(secret, headers, got!.body)).toBe(true);
    expect(verifyWebhook(`whsec_${Buffer.from("not the secret").toString("base64")}`, headers, got!.body)).toBe(false);
    expect(verifyWebhook(secret, headers, got!.body.replace("new_gap", "regression"))).toBe(false);
    expect(got!.json).toMatchObject({ type: "new_gap", id: headers.id, summary: `New gap on ${srv}` });
    expect(got!.json.gap.url).toMatch(/^https:\/\/feedback\.example\.test\/#\/g\/\d+$/);
    expect(got!.json.gap).toMatchObject({ reports: 1, sessions: 1, server_name: srv });
    expect(typeof got!.json.gap.score).toBe("number");
    // Only the title of the agent's words travels, never what_i_tried.
    expect(got!.body).not.toContain("returned 500 rows");
  });

  it("signs with both secrets after a rotation, and each verifies", async () => {
    const { id, secret: old } = await webhook();
    const rotated = await api(`/destinations/${id}/rotate-secret`, { method: "POST" });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    expect(Date.parse(rotated.body.previous_valid_until)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    expect((await api(`/destinations/${id}/test`, { method: "POST" })).status).toBe(200);
    const [got] = await receiver.waitFor(1);
    const headers = {
      id: String(got!.headers["webhook-id"]),
      timestamp: String(got!.headers["webhook-timestamp"]),
      signature: String(got!.headers["webhook-signature"]),
    };
    expect(headers.signature.split(" ")).toHaveLength(2);
    expect(verifyWebhook(fresh, headers, got!.body)).toBe(true);
    expect(verifyWebhook(old, headers, got!.body)).toBe(true);
  });
});

describe("rules", () => {
  it("sends one message for 100 retries of one report, then one when a second session crosses the threshold", async () => {
    const { id } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: id, server_name: srv });
    await rule({ kind: "sessions", destination_id: id, server_name: srv, threshold: 2, window: "1h" });
    await rule({ kind: "blocked_share", destination_id: id, server_name: srv, threshold: 50, min_reports: 3 });
    for (let i = 0; i < 100; i++)
      expect((await report(srv, { session_id: "s-1", resolution: "partial" })).status).toBe(201);
    await until(
      () => (alertStore(store()).state().reports_upto >= store().gaps.progress().latest_id ? true : undefined),
      "the engine",
    );
    await until(
      () =>
        alertStore(store())
          .deliveries({ limit: 500 })
          .every((d) => d.state !== "pending")
          ? true
          : undefined,
      "deliveries",
    );
    const types = () => receiver.received.map((r) => r.json.type).sort();
    expect(types()).toEqual(["new_gap"]);
    await report(srv, { session_id: "s-2", resolution: "partial" });
    await receiver.waitFor(2);
    expect(types()).toEqual(["new_gap", "sessions"]);
    expect(receiver.received[1]!.json.facts).toMatchObject({ sessions_in_window: 2, threshold: 2, window_s: 3600 });
  });

  it("alerts on a blocked share crossing the threshold once, not on every report above it", async () => {
    const { id } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "blocked_share", destination_id: id, server_name: srv, threshold: 50, min_reports: 3 });
    for (let i = 0; i < 3; i++) await report(srv, { session_id: `b-${i}`, resolution: "blocked" });
    await receiver.waitFor(1);
    for (let i = 3; i < 10; i++) await report(srv, { session_id: `b-${i}`, resolution: "blocked" });
    await until(
      () => (alertStore(store()).state().reports_upto >= store().gaps.progress().latest_id ? true : undefined),
      "the engine",
    );
    expect(receiver.received.map((r) => r.json.type)).toEqual(["blocked_share"]);
    expect(receiver.received[0]!.json.facts).toMatchObject({ blocked_percent: 100, threshold: 50, reports: 3 });
  });

  it("holds a second regression of one gap back for the rule's cooldown", async () => {
    const { id } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "regression", destination_id: id, server_name: srv, cooldown: "1h" });
    const first = await report(srv, { server_version: "1.0.0" });
    const gapId = await until(() => store().getReport(first.body.id)?.gap_id ?? undefined, "grouping");
    const fix = () => store().gaps.updateGap(gapId, { status: "fixed", fixed_in: "1.1.0" }, "test");
    fix();
    await report(srv, { server_version: "1.2.0" });
    await receiver.waitFor(1);
    expect(receiver.received[0]!.json).toMatchObject({ type: "regression", gap: { id: gapId, status: "open" } });
    fix();
    await report(srv, { server_version: "1.3.0" });
    await until(
      () =>
        store()
          .gaps.listHistory(gapId)
          .filter((h) => h.action === "regressed").length === 2
          ? true
          : undefined,
      "the second regression",
    );
    await until(
      () =>
        alertStore(store()).state().history_upto >=
        Math.max(
          ...store()
            .gaps.listHistory(gapId)
            .map((h) => h.id),
        )
          ? true
          : undefined,
      "the engine",
    );
    expect(receiver.received).toHaveLength(1);
  });

  it("sends an automatic action from gap history once to each destination covering its server", async () => {
    const a = await webhook();
    const b = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: a.id, server_name: srv });
    await rule({ kind: "regression", destination_id: a.id });
    await rule({ kind: "digest", destination_id: b.id, server_name: srv, window: "weekly" });
    const first = await report(srv);
    const gapId = await until(() => store().getReport(first.body.id)?.gap_id ?? undefined, "grouping");
    await receiver.waitFor(1); // new_gap to a
    store().gaps.history(gapId, "autonomy", "auto_draft_opened", { pr: 12 });
    await receiver.waitFor(3);
    const auto = receiver.received.filter((r) => r.json.type === "automatic_action");
    expect(auto).toHaveLength(2);
    expect(new Set(auto.map((r) => r.headers["webhook-id"]))).toEqual(new Set([auto[0]!.json.id]));
    expect(auto[0]!.json.facts).toMatchObject({ action: "auto_draft_opened" });
  });

  it("sends a digest of the top gaps when it is due, then schedules the next one a period later", async () => {
    const { id } = await webhook();
    const srv = uniqueServer();
    await report(srv, { what_i_needed: "Export invoices as CSV", session_id: "d1" });
    await report(srv, { what_i_needed: "Rotate API tokens from the admin tool", session_id: "d2" });
    const ruleId = await rule({ kind: "digest", destination_id: id, server_name: srv, window: "daily", threshold: 5 });
    await until(() => (store().gaps.progress().pending === 0 ? true : undefined), "grouping");
    alertStore(store()).setNextRun(ruleId, new Date(Date.now() - 1000).toISOString());
    const [got] = await receiver.waitFor(1);
    expect(got!.json.type).toBe("digest");
    expect(got!.json.gaps.length).toBe(2);
    const next = alertStore(store())
      .rules()
      .find((r) => r.id === ruleId)!.next_run_at!;
    expect(Date.parse(next)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
  });
});

describe("destinations", () => {
  it("escapes every agent-written string for Slack: no mention or link can be injected", async () => {
    const res = await api("/destinations", { body: { kind: "slack", url: receiver.url } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBeUndefined();
    created.push(res.body.destination.id);
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: res.body.destination.id, server_name: srv });
    const evil = `<!channel> @here <http://evil.example/x|click me> & *bold* visit www.evil.example ${"long ".repeat(40)}`;
    await report(srv, { what_i_needed: evil });
    const [got] = await receiver.waitFor(1);
    const text = JSON.stringify(got!.json);
    expect(got!.json.blocks.length).toBe(2);
    expect(text).not.toContain("<!channel>");
    expect(text).not.toContain("<http://evil");
    expect(text).not.toContain("@here");
    expect(text).not.toContain("http://evil");
    expect(text).not.toContain("www.evil");
    expect(text).toContain("&lt;!channel&gt;");
    expect(text).toContain("&amp;");
    // Our own link is the only one.
    expect(text.match(/<https?:[^>]*>/g)).toEqual([
      expect.stringMatching(/^<https:\/\/feedback\.example\.test\/#\/g\/\d+\|Open gap \d+>$/),
    ]);
    const title = got!.json.blocks[1].text.text.split("\n")[0] as string;
    expect(Array.from(title.replace(/[\u2060]/g, "")).length).toBeLessThan(200);
    expect(title).toContain("…");
  });

  it("emails through a real SMTP server, with the password kept in .env and masked", async () => {
    const smtp = await startSmtpReceiver();
    try {
      const res = await api("/destinations", {
        body: {
          kind: "email",
          url: `smtp://127.0.0.1:${smtp.port}`,
          from: "alerts@example.test",
          to: ["dev@example.test"],
          username: "mailer",
          password: "smtp-password-1234",
        },
      });
      expect(res.status, res.text).toBe(201);
      created.push(res.body.destination.id);
      expect(JSON.stringify(res.body)).not.toContain("smtp-password-1234");
      expect(res.body.destination.secrets.smtp_password).toMatchObject({ set: true, masked: "••••1234" });
      const srv = uniqueServer();
      await rule({ kind: "new_gap", destination_id: res.body.destination.id, server_name: srv });
      await report(srv, { what_i_needed: "List <b>invoices</b> by customer" });
      const [mail] = await smtp.waitFor(1);
      expect(mail!.to).toEqual(["dev@example.test"]);
      expect(mail!.raw).toMatch(/Subject: \[patchworkmcp\] New gap on srv-/);
      expect(mail!.raw).toContain("List <b>invoices</b> by customer");
      expect(mail!.raw).toMatch(/Content-Type: text\/plain/);
      expect(smtp.auths).toEqual([{ username: "mailer", password: "smtp-password-1234" }]);
    } finally {
      await smtp.close();
    }
  });

  it("keeps ingesting while a destination holds its request open", async () => {
    const { id } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: id, server_name: srv });
    receiver.answer("hold");
    await report(srv);
    await receiver.waitFor(1);
    // The delivery is in flight and unanswered; ingestion goes on regardless.
    for (let i = 0; i < 20; i++) expect((await report(srv, { session_id: `h${i}` })).status).toBe(201);
    expect(
      alertStore(store())
        .deliveries({ limit: 5 })
        .find((d) => d.destination_id === id)!.state,
    ).toBe("pending");
    receiver.release();
    await until(
      () =>
        alertStore(store())
          .deliveries({ limit: 5 })
          .find((d) => d.destination_id === id)!.state === "delivered"
          ? true
          : undefined,
      "delivered",
    );
  });
});

describe("the delivery queue", () => {
  it("turns a refused delivery into a dead letter after the attempts allowed, and retry sends it with the same id", async () => {
    receiver.answer(503);
    const { id } = await webhook();
    const srv = uniqueServer();
    await rule({ kind: "new_gap", destination_id: id, server_name: srv });
    await report(srv);
    const dead = await until(async () => {
      const res = await api("/deliveries?state=dead");
      return res.body.items.find((d: { destination_id: number }) => d.destination_id === id);
    }, "a dead letter");
    expect(dead).toMatchObject({ attempts: 2, state: "dead" });
    expect(dead.last_error).toMatch(/^destination_refused: 127\.0\.0\.1:\d+ answered HTTP 503/);
    expect(receiver.received).toHaveLength(2);
    receiver.answer(200);
    const retried = await api(`/deliveries/${dead.id}/retry`, { method: "POST" });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ state: "pending", attempts: 0 });
    await receiver.waitFor(3);
    const ids = new Set(receiver.received.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    const done = await until(async () => {
      const d = (await api("/deliveries?state=delivered")).body.items.find((x: { id: number }) => x.id === dead.id);
      return d;
    }, "delivered");
    expect(done.attempts).toBe(1);
    expect((await api(`/deliveries/${dead.id}/retry`, { method: "POST" })).body.error.code).toBe("already_delivered");
    expect((await api("/deliveries?state=lost")).status).toBe(400);
  });

  it("asks for the admin scope", async () => {
    const { createScopedKey } = await import("../../src/auth/index.js");
    const { key, info } = createScopedKey(store(), "read", "reader", () => undefined);
    try {
      const res = await api("/destinations", { key });
      expect(res.status).toBe(403);
    } finally {
      const { switchAuthMode, revokeScopedKey } = await import("../../src/auth/index.js");
      revokeScopedKey(store(), info.id, () => undefined);
      switchAuthMode(store(), "off", () => undefined);
    }
  });
});
