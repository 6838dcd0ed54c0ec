/**
 * The reporter's choices: a report the sidecar refused (422) is final and
 * never queued; one it could not take now (429, 503, no answer) is queued and
 * retried with backoff, never sooner than the sidecar's Retry-After. Backoff
 * runs on fake timers; the sidecar answers are the real sidecar's where a
 * test can provoke them (a 422, a 503 from a locked database).
 */
import Database from "better-sqlite3";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LIMITS, parseFeedback, type FeedbackPayload } from "../../src/feedback/index.js";
import { Outbox } from "../../proxy/outbox.js";
import { parseUnsentLines } from "../../src/delivery/unsent.js";
import { type DeliveryResult, Reporter, type ReporterOptions, sidecarDeliverer } from "../../proxy/reporter.js";
import { request } from "../helpers/http.js";
import { piiSamples, secretSamples } from "../helpers/secrets.js";
import { startServe } from "../helpers/serve.js";
import { tempDir } from "./helpers.js";

const payload = (n = 1): FeedbackPayload => {
  const parsed = parseFeedback({ what_i_needed: `capability ${n}`, what_i_tried: "echo", gap_type: "missing_tool" });
  if (!parsed.ok) throw new Error("the test payload must be valid");
  return parsed.payload;
};

/** A deliverer that answers from a script, one entry per attempt (the last repeats). */
function scripted(answers: DeliveryResult[]) {
  const calls: string[] = [];
  return {
    calls,
    deliverer: {
      deliver: async (_p: FeedbackPayload, key: string): Promise<DeliveryResult> => {
        calls.push(key);
        return answers[Math.min(calls.length - 1, answers.length - 1)]!;
      },
    },
  };
}

function reporterWith(deliverer: ReporterOptions["deliverer"], extra: Partial<ReporterOptions> = {}) {
  const outbox = new Outbox(join(tempDir(), "outbox.log"));
  const logs: string[] = [];
  const reporter = new Reporter({ deliverer, outbox, log: (m) => logs.push(m), timeoutMs: 1000, ...extra });
  return { reporter, outbox, logs };
}

const unreachable: DeliveryResult = { ok: false, retryable: true, message: "could not reach the sidecar" };

afterEach(() => {
  vi.useRealTimers();
});

describe("Reporter: refused reports are final", () => {
  it("does not queue a report the sidecar refused, and says why", async () => {
    vi.useFakeTimers();
    const s = scripted([
      { ok: false, retryable: false, message: "sidecar answered 422: Invalid input: gap_type: bad" },
    ]);
    const { reporter, outbox } = reporterWith(s.deliverer);
    const result = await reporter.submit(payload(), "k1");
    expect(result).toEqual({
      recorded: false,
      kept: false,
      refused: "sidecar answered 422: Invalid input: gap_type: bad",
    });
    expect(outbox.read()).toEqual([]);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(s.calls).toEqual(["k1"]);
  });

  it("gets a 422 from a real sidecar for a report it cannot accept, and keeps nothing", async () => {
    const sidecar = await startServe();
    try {
      const { reporter, outbox } = reporterWith(sidecarDeliverer(sidecar.url, undefined));
      // What a proxy of another contract version might send: the sidecar's own validation refuses it.
      const bad = { ...payload(), gap_type: "no_such_type" } as unknown as FeedbackPayload;
      const result = await reporter.submit(bad, "k-bad");
      expect(result.recorded).toBe(false);
      expect(result).toMatchObject({
        kept: false,
        refused: expect.stringMatching(/^sidecar answered 422: .*gap_type/),
      });
      expect(outbox.read()).toEqual([]);
      expect(existsSync(outbox.path)).toBe(false);
    } finally {
      await sidecar.stop();
    }
  });
});

describe("Reporter: reports that could not be delivered now are queued and retried", () => {
  it("retries with doubling backoff until the sidecar answers, then empties the outbox", async () => {
    vi.useFakeTimers();
    const s = scripted([unreachable, unreachable, unreachable, { ok: true, id: 7 }]);
    const { reporter, outbox } = reporterWith(s.deliverer, { retryBaseMs: 1000, retryMaxMs: 60_000 });
    expect(await reporter.submit(payload(), "k1")).toEqual({ recorded: false, kept: true });
    expect(outbox.read().map((e) => e.idempotencyKey)).toEqual(["k1"]);
    // Attempts at 1 s, then 1 s later, then 2 s later (the third succeeds).
    await vi.advanceTimersByTimeAsync(999);
    expect(s.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(s.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1999);
    expect(s.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toEqual(["k1", "k1", "k1", "k1"]);
    expect(outbox.read()).toEqual([]);
    reporter.stop();
  });

  it("writes a report it can keep nowhere to stderr for replay, scrubbed of secrets and personal data", async () => {
    // The outbox's folder is a file: appending fails, and the report's only copy is the log line.
    const blocker = join(tempDir(), "not-a-folder");
    writeFileSync(blocker, "");
    const logs: string[] = [];
    const reporter = new Reporter({
      deliverer: scripted([unreachable]).deliverer,
      outbox: new Outbox(join(blocker, "outbox.log")),
      log: (m) => logs.push(m),
      timeoutMs: 1000,
      retryBaseMs: 600_000,
    });
    const token = `ghp_${"a1B2".repeat(9)}`;
    const leaky = {
      ...payload(),
      what_i_tried: `called it with token ${token}`,
      user_goal: "mail jane.doe@example.com",
    };
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await reporter.submit(leaky, "k-nowhere")).toEqual({ recorded: false, kept: true });
    } finally {
      spy.mockRestore();
      reporter.stop();
    }
    expect(logs.at(-1)).toMatch(/outbox could not be written either .*scrubbed/);
    const { entries } = parseUnsentLines(written.join(""));
    expect(entries.map((e) => e.idempotencyKey)).toEqual(["k-nowhere"]);
    const replayed = JSON.stringify(entries[0]!.payload);
    expect(replayed).not.toContain(token);
    expect(replayed).not.toContain("jane.doe@example.com");
    expect(entries[0]!.payload.what_i_needed).toBe(leaky.what_i_needed);
  });

  it("waits out a 429's Retry-After when it is longer than the backoff", async () => {
    vi.useFakeTimers();
    const s = scripted([
      { ok: false, retryable: true, message: "sidecar answered 429", retryAfterMs: 30_000 },
      { ok: true, id: 3 },
    ]);
    const { reporter, outbox } = reporterWith(s.deliverer, { retryBaseMs: 1000 });
    expect(await reporter.submit(payload(), "k429")).toEqual({ recorded: false, kept: true });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(s.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toHaveLength(2);
    expect(outbox.read()).toEqual([]);
    reporter.stop();
  });

  it("keeps to Retry-After on outbox retries too, and cuts a huge one to retryMaxMs", async () => {
    vi.useFakeTimers();
    const s = scripted([
      unreachable,
      { ok: false, retryable: true, message: "sidecar answered 503", retryAfterMs: 10 * 3600_000 },
      { ok: true, id: 4 },
    ]);
    const { reporter, outbox } = reporterWith(s.deliverer, { retryBaseMs: 1000, retryMaxMs: 120_000 });
    await reporter.submit(payload(), "k503");
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.calls).toHaveLength(2); // the retry got the 503
    await vi.advanceTimersByTimeAsync(119_999);
    expect(s.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toHaveLength(3);
    expect(outbox.read()).toEqual([]);
    reporter.stop();
  });

  it("gets a 503 with Retry-After from a real sidecar whose database is locked, and queues the report", async () => {
    const sidecar = await startServe();
    const lock = new Database(sidecar.dbPath);
    try {
      lock.exec("BEGIN EXCLUSIVE");
      const delivered = await sidecarDeliverer(sidecar.url, undefined).deliver(payload(), "k-locked", 20_000);
      expect(delivered).toMatchObject({ ok: false, retryable: true, retryAfterMs: 1000 });
      expect((delivered as { message: string }).message).toMatch(/^sidecar answered 503: /);

      const s = scripted([delivered]);
      const { reporter, outbox } = reporterWith(s.deliverer);
      expect(await reporter.submit(payload(), "k-locked")).toEqual({ recorded: false, kept: true });
      expect(outbox.read().map((e) => e.idempotencyKey)).toEqual(["k-locked"]);
      reporter.stop();
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
      await sidecar.stop();
    }
  }, 30_000);
});

describe("Reporter: --privacy before the outbox and the wire", () => {
  const [, token] = secretSamples(3).find(([rule]) => rule === "github")!;
  const [, email] = piiSamples(3).find(([rule]) => rule === "email")!;
  const leaky = (): FeedbackPayload => ({
    ...payload(),
    what_i_tried: `called it with token ${token}`,
    user_goal: `mail ${email}`,
  });

  /** A deliverer that keeps what it is handed and cannot deliver it now. */
  function down(scrubs?: boolean) {
    const handed: FeedbackPayload[] = [];
    return {
      handed,
      deliverer: {
        ...(scrubs === undefined ? {} : { scrubs }),
        deliver: async (p: FeedbackPayload): Promise<DeliveryResult> => {
          handed.push(p);
          return unreachable;
        },
      },
    };
  }

  it("scrubs a report (default secrets+pii) before it is sent or kept, and logs which rules fired", async () => {
    const d = down();
    const { reporter, outbox, logs } = reporterWith(d.deliverer, { retryBaseMs: 600_000 });
    expect(await reporter.submit(leaky(), "k-scrub")).toEqual({ recorded: false, kept: true });
    reporter.stop();
    expect(d.handed[0]).toMatchObject({
      what_i_tried: "called it with token [secret:github]",
      user_goal: "mail [email]",
    });
    const line = readFileSync(outbox.path, "utf8");
    expect(line).not.toContain(token);
    expect(line).not.toContain(email);
    expect(outbox.read()[0]!.payload).toMatchObject({
      what_i_tried: "called it with token [secret:github]",
      user_goal: "mail [email]",
    });
    expect(logs).toContain(
      "report k-scrub: --privacy secrets+pii replaced github ×1 in what_i_tried; email ×1 in user_goal before it left the proxy",
    );
  });

  it("secrets leaves personal data; off keeps the report as written (the sidecar scrubs it on arrival)", async () => {
    const secrets = reporterWith(down().deliverer, { privacy: "secrets", retryBaseMs: 600_000 });
    await secrets.reporter.submit(leaky(), "k-secrets");
    secrets.reporter.stop();
    expect(secrets.outbox.read()[0]!.payload).toMatchObject({
      what_i_tried: "called it with token [secret:github]",
      user_goal: `mail ${email}`,
    });
    const d = down();
    const off = reporterWith(d.deliverer, { privacy: "off", retryBaseMs: 600_000 });
    await off.reporter.submit(leaky(), "k-off");
    off.reporter.stop();
    expect(d.handed[0]).toMatchObject({ what_i_tried: `called it with token ${token}` });
    expect(off.outbox.read()[0]!.payload).toMatchObject({ user_goal: `mail ${email}` });
    expect(off.logs.join("\n")).not.toContain("replaced");
  });

  it("hands a deliverer that scrubs itself (--db) the report as written, and still keeps it scrubbed", async () => {
    const d = down(true);
    const { reporter, outbox } = reporterWith(d.deliverer, { retryBaseMs: 600_000 });
    await reporter.submit(leaky(), "k-db");
    reporter.stop();
    expect(d.handed[0]!.what_i_tried).toBe(`called it with token ${token}`);
    expect(readFileSync(outbox.path, "utf8")).not.toContain(token);
    expect(outbox.read()[0]!.payload.what_i_tried).toBe("called it with token [secret:github]");
  });

  it("scrubs outbox lines again on the way out (a shared outbox may hold another proxy's raw lines)", async () => {
    vi.useFakeTimers();
    const handed: FeedbackPayload[] = [];
    const { reporter, outbox } = reporterWith({
      deliver: async (p) => {
        handed.push(p);
        return { ok: true, id: handed.length };
      },
    });
    await outbox.append({ payload: { ...leaky() }, idempotencyKey: "k-raw" });
    reporter.start();
    await vi.advanceTimersByTimeAsync(10);
    await reporter.flush();
    expect(handed.map((p) => p.what_i_tried)).toEqual(["called it with token [secret:github]"]);
    expect(outbox.read()).toEqual([]);
    reporter.stop();
  });

  it("cuts a field a placeholder pushed past its limit, so a real sidecar still takes the report", async () => {
    const sidecar = await startServe();
    try {
      const tried = `${"a".repeat(LIMITS.what_i_tried - 11)} password=x`;
      expect(tried).toHaveLength(LIMITS.what_i_tried);
      const { reporter } = reporterWith(sidecarDeliverer(sidecar.url, undefined));
      const result = await reporter.submit({ ...payload(), what_i_tried: tried }, "k-long");
      expect(result).toMatchObject({ recorded: true });
      const stored = await request(`${sidecar.url}/api/feedback/${(result as { id: number }).id}`);
      expect(stored.body.what_i_tried).toHaveLength(LIMITS.what_i_tried);
      expect(stored.body.what_i_tried).toMatch(/ password=\[$/);
    } finally {
      await sidecar.stop();
    }
  });
});
