/** Retries with exponential backoff and jitter, on a clock the test moves (no waiting). */
import { afterAll, beforeAll, expect, it } from "vitest";
import { AlertDeliverer, backoffMs, DestinationSecrets, newSigningSecret } from "../../src/alerts/index.js";
import { alertStore, FeedbackStore } from "../../src/store/index.js";
import { type HttpReceiver, startHttpReceiver } from "../helpers/alert-receivers.js";
import { onPostgres, tempDir, testDbPath } from "../helpers/serve.js";

let receiver: HttpReceiver;
let store: FeedbackStore;
const cwd = process.cwd();
beforeAll(async () => {
  // With PostgreSQL the .env is the working directory's: a fresh one, never the repository.
  if (onPostgres()) process.chdir(tempDir("pwm-alerts-backoff-"));
  receiver = await startHttpReceiver();
  store = FeedbackStore.open(testDbPath());
});
afterAll(async () => {
  store?.close();
  await receiver?.close();
  process.chdir(cwd);
});

it("doubles the delay per attempt, keeps a random half of it, and caps it", () => {
  expect([1, 2, 3, 4].map((a) => backoffMs(a, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
  expect([1, 2, 3, 4].map((a) => backoffMs(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  expect(backoffMs(20, 1000, 60_000, () => 0.5)).toBe(45_000);
});

it("does not send a failed delivery again before its backoff has passed, and gives up after maxAttempts", async () => {
  let now = Date.parse("2030-01-01T00:00:00Z");
  const alerts = alertStore(store);
  const d = alerts.addDestination({ kind: "webhook", name: null, target: "x", config: {} });
  const secrets = new DestinationSecrets(store, {});
  secrets.set(d.id, { URL: receiver.url, SECRET: newSigningSecret() });
  alerts.enqueue(
    [
      {
        event_id: "msg_b",
        destination_id: d.id,
        rule_id: null,
        kind: "test",
        gap_id: null,
        payload: { type: "test", id: "msg_b", summary: "x", gap: null },
      },
    ],
    now,
  );
  receiver.answer(503);
  const deliverer = new AlertDeliverer(store, secrets, {
    maxAttempts: 3,
    baseDelayMs: 1000,
    maxDelayMs: 60_000,
    now: () => now,
    random: () => 1,
  });
  expect(await deliverer.runOnce()).toBe(1);
  expect(alerts.deliveries({ limit: 1 })[0]).toMatchObject({
    state: "pending",
    attempts: 1,
    next_attempt_at: new Date(now + 1000).toISOString(),
  });
  now += 999;
  expect(await deliverer.runOnce()).toBe(0);
  now += 1;
  expect(await deliverer.runOnce()).toBe(1);
  expect(alerts.deliveries({ limit: 1 })[0]).toMatchObject({
    attempts: 2,
    next_attempt_at: new Date(now + 2000).toISOString(),
  });
  now += 2000;
  expect(await deliverer.runOnce()).toBe(1);
  expect(alerts.deliveries({ limit: 1 })[0]).toMatchObject({ state: "dead", attempts: 3 });
  now += 3_600_000;
  expect(await deliverer.runOnce()).toBe(0);
  expect(receiver.received).toHaveLength(3);
  // Every attempt carried the same webhook-id.
  expect(new Set(receiver.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set(["msg_b"]));
});
