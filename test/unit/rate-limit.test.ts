/** The ingestion limits' arithmetic, with an injected clock, and the byte count against a real SQLite file. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SERVE_LIMIT_DEFAULTS } from "../../src/commands/serve.js";
import { parseBytes } from "../../src/commands/options.js";
import { parseFeedback } from "../../src/feedback/index.js";
import { ApiError } from "../../src/http/errors.js";
import { clientAddress, DailyByteBudget, DEFAULT_INGEST_LIMITS, TokenBuckets } from "../../src/http/rate-limit.js";
import { FeedbackStore, reportBytes, storedBytesSince } from "../../src/store/index.js";

const clock = (start: number) => {
  const c = { t: start, now: () => c.t };
  return c;
};

describe("token buckets", () => {
  it("lets a burst through, then one report per 1/rate seconds, each client on its own", () => {
    const c = clock(0);
    const buckets = new TokenBuckets(2, 3, c.now);
    expect([1, 2, 3].map(() => buckets.take("a"))).toEqual([0, 0, 0]);
    expect(buckets.take("a")).toBe(1); // 0.5 s to the next token: Retry-After rounds up
    expect(buckets.take("b")).toBe(0);
    c.t += 500;
    expect(buckets.take("a")).toBe(0);
    expect(buckets.take("a")).toBe(1);
    c.t += 60_000; // refills to the burst, never beyond
    expect([1, 2, 3, 4].map(() => buckets.take("a"))).toEqual([0, 0, 0, 1]);
  });

  it("says how long to wait at a slow rate", () => {
    const buckets = new TokenBuckets(0.01, 1, clock(0).now);
    expect(buckets.take("a")).toBe(0);
    expect(buckets.take("a")).toBe(100);
  });

  it("forgets idle clients instead of growing without bound", () => {
    const c = clock(0);
    const buckets = new TokenBuckets(10, 5, c.now);
    for (let i = 0; i < 10_000; i++) buckets.take(`client-${i}`);
    c.t += 1000; // every bucket is full again
    buckets.take("newcomer");
    expect(buckets.size).toBe(1);
  });
});

describe("daily byte budget", () => {
  const DAY = 86_400_000;
  it("refuses past the cap until the next UTC day, counting only what was stored", () => {
    const c = clock(10 * DAY + 3_600_000); // 01:00 UTC
    const budget = new DailyByteBudget(100, () => new Map([["alpha", 40]]), c.now);
    const settle = budget.reserve("alpha", 50);
    // In flight: still counted, so concurrent reports cannot all slip under the cap.
    expect(() => budget.reserve("alpha", 20)).toThrow(ApiError);
    settle(false); // an idempotent replay stores nothing
    const again = budget.reserve("alpha", 60);
    again(true);
    let refusal: unknown;
    try {
      budget.reserve("alpha", 1);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).status).toBe(429);
    expect((refusal as ApiError).code).toBe("daily_byte_limit");
    expect((refusal as ApiError).headers).toEqual({ "Retry-After": String(23 * 3600) });
    expect(() => budget.reserve("beta", 100)).not.toThrow();
    c.t = 11 * DAY; // midnight UTC: a new day, read again from the database
    expect(() => budget.reserve("alpha", 60)).not.toThrow();
  });

  it("re-reads the database every minute, so other processes' writes count", () => {
    const c = clock(0);
    let stored = 0;
    const budget = new DailyByteBudget(100, () => new Map([["alpha", stored]]), c.now);
    budget.reserve("alpha", 10)(true);
    stored = 95; // another sidecar on the same database wrote the rest
    expect(() => budget.reserve("alpha", 10)).not.toThrow();
    c.t += 60_000;
    expect(() => budget.reserve("alpha", 10)).toThrow(/storage cap of 100 bytes/);
  });
});

it("counts a report's bytes exactly as the database sums them", () => {
  const store = FeedbackStore.open(join(mkdtempSync(join(tmpdir(), "pwm-bytes-")), "feedback.db"));
  const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s !== "");
  let expected = 0;
  fc.assert(
    fc.property(
      fc.record(
        {
          what_i_needed: text,
          what_i_tried: text,
          gap_type: fc.constantFrom("missing_tool", "other"),
          server_name: fc.constant("counted"),
          suggestion: text,
          user_goal: text,
          tool_name: text,
          tools_available: fc.array(text, { maxLength: 4 }),
          client_type: text,
        },
        { requiredKeys: ["what_i_needed", "what_i_tried", "gap_type", "server_name"] },
      ),
      (input) => {
        const parsed = parseFeedback(input);
        if (!parsed.ok) return;
        expected += reportBytes(parsed.payload);
        store.insertReport(parsed.payload);
      },
    ),
    { numRuns: 60 },
  );
  expect(expected).toBeGreaterThan(0);
  expect(storedBytesSince(store, "1970-01-01T00:00:00.000Z").get("counted")).toBe(expected);
  expect(storedBytesSince(store, "2999-01-01T00:00:00.000Z").size).toBe(0);
  store.close();
});

it("treats an IPv6 /64 as one client", () => {
  expect(clientAddress("::ffff:10.1.2.3")).toBe("10.1.2.3");
  expect(clientAddress("10.1.2.3")).toBe("10.1.2.3");
  expect(clientAddress("2001:db8:0:1::5")).toBe(clientAddress("2001:0db8:0000:0001:ffff:1:2:3"));
  expect(clientAddress("2001:db8:0:2::5")).not.toBe(clientAddress("2001:db8:0:1::5"));
  expect(clientAddress("::1")).toBe("0:0:0:0::/64");
});

it("serve's defaults are the limits' defaults", () => {
  expect({
    ratePerSecond: SERVE_LIMIT_DEFAULTS.rateLimit,
    burst: SERVE_LIMIT_DEFAULTS.rateLimitBurst,
    maxBytesPerServerDay: parseBytes(SERVE_LIMIT_DEFAULTS.maxBytesPerServerDay),
  }).toEqual(DEFAULT_INGEST_LIMITS);
});
