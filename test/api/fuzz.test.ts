/**
 * Property-based fuzzing of the ingestion endpoint against a real server:
 * whatever the body and headers, the answer is 2xx or 4xx (never 5xx, never a
 * dropped connection), and the server stays up.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GAP_TYPES } from "../../src/feedback/index.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";

let server: ServeProcess;
beforeAll(async () => {
  // 400 requests from one address: the rate limit (tested in rate-limit.test.ts) would turn most into 429s.
  server = await startServe({ args: ["--rate-limit", "0"] });
});
afterAll(async () => {
  await server?.stop();
});

const anyValue = fc.oneof(fc.jsonValue(), fc.string({ unit: "binary" }), fc.constant(null));

/** Bodies that look like feedback, with each field sometimes right and sometimes anything. */
const feedbackish = fc.record(
  {
    what_i_needed: fc.oneof(fc.string({ maxLength: 50 }), anyValue, fc.string({ minLength: 3990, maxLength: 4010 })),
    what_i_tried: fc.oneof(fc.string({ maxLength: 50 }), anyValue),
    gap_type: fc.oneof(fc.constantFrom(...GAP_TYPES), anyValue),
    resolution: fc.oneof(fc.constantFrom("blocked", "worked_around", "partial", ""), anyValue),
    tools_available: fc.oneof(fc.array(fc.string({ maxLength: 20 }), { maxLength: 600 }), fc.string(), anyValue),
    server_name: anyValue,
    session_id: anyValue,
    idempotency_key: fc.oneof(fc.string({ maxLength: 250 }), anyValue),
    __proto__: anyValue,
    constructor: anyValue,
  },
  { requiredKeys: [] },
);

/** Valid reports with arbitrary (well-typed) optional fields, so the 2xx path is fuzzed too. */
const validish = fc.record({
  what_i_needed: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim().length > 0),
  what_i_tried: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim().length > 0),
  gap_type: fc.constantFrom(...GAP_TYPES),
  suggestion: fc.option(fc.string({ maxLength: 300, unit: "grapheme" })),
  tools_available: fc.option(
    fc.oneof(fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }), fc.string({ maxLength: 60 })),
  ),
  server_name: fc.option(fc.string({ maxLength: 200 })),
  extra: fc.jsonValue(),
});

const body = fc.oneof(
  validish.map((v) => JSON.stringify(v)),
  feedbackish.map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
);

const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 260,
});

const headers = fc.record(
  {
    "content-type": fc.oneof(
      fc.constant("application/json"),
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin9",
        "text/plain",
        "application/vnd.x+json",
        "",
      ),
      headerValue,
    ),
    "idempotency-key": headerValue,
    "content-encoding": fc.constantFrom("gzip", "br", "identity", "x-unknown"),
    authorization: headerValue,
    "x-anything": headerValue,
  },
  { requiredKeys: ["content-type"] },
);

it("answers 2xx or 4xx to arbitrary bodies and headers, and stays up", async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, headers, async (payload, hdrs) => {
      const res = await fetch(`${server.url}/api/feedback`, { method: "POST", headers: hdrs, body: payload });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, text).toBeGreaterThanOrEqual(200);
      expect(res.status, text).toBeLessThan(500);
      if (res.status >= 400) {
        const parsed = JSON.parse(text) as { error: { code: string; message: string } };
        expect(parsed.error.code).toEqual(expect.any(String));
        expect(parsed.error.message).toEqual(expect.any(String));
      }
    }),
    { numRuns: 400 },
  );
  // Both outcomes were exercised, so the property was not vacuous.
  expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
  expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
  expect(server.proc.exitCode).toBeNull();
  expect(server.stderr()).not.toContain("unhandled error");
});
