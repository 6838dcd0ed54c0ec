/**
 * The alert engine evaluates outside any transaction, holding no lock, then writes in one
 * short transaction. What happens in between must not double or break anything: another engine (a
 * second connection to the same SQLite file, as a second sidecar would be) finishing the same
 * batch first, or the rule being deleted. The hook is the engine's clock, which the evaluation
 * reads while it builds a payload.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AlertEngine, AlertService, ruleInputSchema } from "../../src/alerts/index.js";
import type { FeedbackPayload } from "../../src/feedback/index.js";
import { alertStore, FeedbackStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/serve.js";
import { validReport } from "../helpers/http.js";

const PUBLIC_URL = "http://localhost:8099";
let stores: FeedbackStore[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  stores = [];
});

/** A file with one report in a new gap and a new_gap rule for its server; two connections to it. */
function setUp(): { a: FeedbackStore; b: FeedbackStore; ruleId: number } {
  const path = join(tempDir("pwm-engine-"), "feedback.db");
  // Deferred grouping, as in serve: a gap the live grouping creates is a new gap.
  const a = FeedbackStore.open(path, { grouping: "deferred" });
  const b = FeedbackStore.open(path, { grouping: "deferred" });
  stores.push(a, b);
  const service = new AlertService(a, { publicUrl: PUBLIC_URL });
  const { destination } = service.addDestination({ kind: "webhook", url: "http://127.0.0.1:9/hook", name: null });
  const rule = service.addRule(
    ruleInputSchema.parse({ kind: "new_gap", destination_id: destination.id, server_name: "phase-server" }),
  );
  a.insertReport(validReport({ server_name: "phase-server" }) as unknown as FeedbackPayload);
  a.gaps.assignPending();
  return { a, b, ruleId: rule.id };
}

const deliveries = (s: FeedbackStore) => s.db.prepare("SELECT event_id FROM alert_deliveries").all();

/** An engine whose clock runs `between` once, the second time the step reads it (inside the evaluation). */
function engineWith(store: FeedbackStore, between: () => void): AlertEngine {
  let reads = 0;
  return new AlertEngine(store, {
    publicUrl: PUBLIC_URL,
    now: () => {
      if (++reads === 2) between();
      return Date.now();
    },
  });
}

describe("an alert engine step", () => {
  it("queues a new gap's alert once, with its cooldown taken and the watermarks moved", () => {
    const { a, ruleId } = setUp();
    const r = new AlertEngine(a, { publicUrl: PUBLIC_URL }).step();
    expect(r).toMatchObject({ queued: 1, history: 1, more: false });
    expect(deliveries(a)).toHaveLength(1);
    expect(alertStore(a).coolingDown(ruleId, 1, Date.now())).toBe(true);
    expect(alertStore(a).state().history_upto).toBeGreaterThan(0);
    expect(new AlertEngine(a, { publicUrl: PUBLIC_URL }).step().queued).toBe(0);
  });

  it("writes nothing when another engine finished the same batch between its evaluation and its write", () => {
    const { a, b } = setUp();
    let other = -1;
    const first = engineWith(a, () => {
      other = new AlertEngine(b, { publicUrl: PUBLIC_URL }).step().queued;
    });
    const r = first.step();
    expect(other).toBe(1);
    expect(r).toMatchObject({ queued: 0, more: true });
    expect(deliveries(a)).toHaveLength(1);
    // The next step starts from where the other engine ended: nothing left.
    expect(new AlertEngine(a, { publicUrl: PUBLIC_URL }).step()).toMatchObject({ queued: 0, more: false });
    expect(deliveries(a)).toHaveLength(1);
  });

  it("drops the delivery of a rule deleted between its evaluation and its write, and still moves on", () => {
    const { a, b, ruleId } = setUp();
    const r = engineWith(a, () => {
      new AlertService(b, { publicUrl: PUBLIC_URL }).deleteRule(ruleId);
    }).step();
    expect(r).toMatchObject({ queued: 0, history: 1, more: false });
    expect(deliveries(a)).toHaveLength(0);
    expect(alertStore(a).state().history_upto).toBeGreaterThan(0);
  });
});
