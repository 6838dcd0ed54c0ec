/**
 * The delivery queue across processes: a sidecar SIGKILLed with alerts queued delivers them after
 * it restarts; two sidecars on one PostgreSQL database never both send one delivery.
 */
import { afterEach, expect, it } from "vitest";
import { alertStore, FeedbackStore } from "../../src/store/index.js";
import { closedPort, type HttpReceiver, startHttpReceiver, until } from "../helpers/alert-receivers.js";
import { request, validReport } from "../helpers/http.js";
import { onPostgres, type ServeProcess, startServe, tempDir, testDbPath } from "../helpers/serve.js";

const running: ServeProcess[] = [];
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
  for (const r of receivers.splice(0)) await r.close();
});

const FAST = {
  PATCHWORKMCP_ALERT_INTERVAL_MS: "50",
  PATCHWORKMCP_ALERT_RETRY_BASE_MS: "100",
  PATCHWORKMCP_ALERT_MAX_ATTEMPTS: "50",
};

it("delivers alerts queued before a SIGKILL once the sidecar is back", async () => {
  const port = await closedPort();
  const dbPath = testDbPath();
  const first = await startServe({ dbPath, env: FAST });
  running.push(first);
  const dest = await request(`${first.url}/api/alerts/destinations`, {
    body: { kind: "webhook", url: `http://127.0.0.1:${port}/hook` },
  });
  expect(dest.status).toBe(201);
  const destinationId = dest.body.destination.id as number;
  await request(`${first.url}/api/alerts/rules`, { body: { kind: "new_gap", destination_id: destinationId } });
  for (const need of ["Export invoices as CSV", "Rotate API tokens from the admin tool", "Search customers by email"])
    expect(
      (
        await request(`${first.url}/api/feedback`, {
          body: validReport({ what_i_needed: need, server_name: "billing" }),
        })
      ).status,
    ).toBe(201);
  // Queued, tried against the closed port at least once, and not delivered.
  await until(async () => {
    const res = await request(`${first.url}/api/alerts/deliveries?state=pending`);
    return res.body.items.length === 3 && res.body.items.every((d: { attempts: number }) => d.attempts >= 1)
      ? true
      : undefined;
  }, "three failed attempts");
  await first.kill();
  running.splice(0);

  const receiver = await startHttpReceiver(port);
  receivers.push(receiver);
  // The same .env (beside the SQLite file, or the first sidecar's working directory on PostgreSQL).
  const second = await startServe({ dbPath, env: FAST, envDir: first.envDir });
  running.push(second);
  const got = await receiver.waitFor(3);
  expect(new Set(got.map((r) => r.json.type))).toEqual(new Set(["new_gap"]));
  expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(3);
  await until(async () => {
    const res = await request(`${second.url}/api/alerts/deliveries?state=delivered`);
    return res.body.items.length === 3 ? true : undefined;
  }, "three delivered");
});

it.runIf(onPostgres())("never lets two sidecars on one PostgreSQL database send one delivery", async () => {
  const dbPath = testDbPath();
  const cwd = tempDir("pwm-alerts-two-");
  const receiver = await startHttpReceiver();
  receivers.push(receiver);
  const a = await startServe({ dbPath, env: FAST, envDir: cwd });
  running.push(a);
  const dest = await request(`${a.url}/api/alerts/destinations`, { body: { kind: "webhook", url: receiver.url } });
  const destinationId = dest.body.destination.id as number;
  // Both sidecars read the destination's secrets from the same .env (serve's working directory).
  const b = await startServe({ dbPath, env: FAST, envDir: cwd });
  running.push(b);
  // The queue filled from outside, as an engine would: 60 alerts for both to race for.
  const store = FeedbackStore.open(dbPath);
  try {
    alertStore(store).enqueue(
      Array.from({ length: 60 }, (_, i) => ({
        event_id: `msg_race_${i}`,
        destination_id: destinationId,
        rule_id: null,
        kind: "test",
        gap_id: null,
        payload: {
          type: "test",
          id: `msg_race_${i}`,
          rule_id: null,
          created_at: new Date().toISOString(),
          summary: "race",
          gap: null,
        },
      })),
    );
  } finally {
    store.close();
  }
  await receiver.waitFor(60);
  await until(async () => {
    const res = await request(`${a.url}/api/alerts/deliveries?state=delivered&limit=500`);
    return res.body.items.length === 60 ? true : undefined;
  }, "sixty delivered");
  const ids = receiver.received.map((r) => r.headers["webhook-id"]);
  expect(ids.length).toBe(60);
  expect(new Set(ids).size).toBe(60);
});
