// The write gate (src/store/sql/write-gate.ts) between real threads: mutual exclusion, ingestion
// first, a holder that never lets go, nesting.
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { WriteGate } from "../../src/store/sql/write-gate.js";

const FIXTURE = new URL("../fixtures/gate-worker.mjs", import.meta.url);

interface Role {
  priority?: boolean;
  iterations?: number;
  holdMs?: number;
  slot?: number;
}

function thread(gate: WriteGate, shared: SharedArrayBuffer, role: Role): { worker: Worker; seen: Promise<string> } {
  const worker = new Worker(FIXTURE, {
    workerData: { gate: gate.buffer, shared, priority: false, iterations: 0, holdMs: 0, slot: 0, ...role },
  });
  return { worker, seen: new Promise((resolve) => worker.once("message", resolve)) };
}

const message = (w: Worker, wanted: string): Promise<void> =>
  new Promise((resolve) => {
    const on = (m: string): void => {
      if (m !== wanted) return;
      w.off("message", on);
      resolve();
    };
    w.on("message", on);
  });

describe("WriteGate", () => {
  it("lets one thread at a time in: no update of a shared counter is lost", async () => {
    const gate = new WriteGate();
    const shared = new SharedArrayBuffer(8 * 4);
    const threads = [0, 1, 2].map(() => thread(gate, shared, { iterations: 300 }));
    await Promise.all(threads.map((t) => once(t.worker, "exit")));
    expect(new Int32Array(shared)[0]).toBe(900);
  });

  it("lets a waiting ingest batch in before a background writer that asked after it", async () => {
    const gate = new WriteGate();
    const shared = new SharedArrayBuffer(8 * 4);
    const cells = new Int32Array(shared);
    // A background transaction holds the gate …
    const holder = thread(gate, shared, { holdMs: 300, slot: 0 });
    await message(holder.worker, "holding");
    // … an ingest batch waits for it, then another background writer.
    const ingest = thread(gate, shared, { priority: true, holdMs: 50, slot: 1 });
    await ingest.seen;
    await expect.poll(() => gate.contended, { timeout: 2000, interval: 5 }).toBe(true);
    const background = thread(gate, shared, { holdMs: 50, slot: 2 });
    await background.seen;
    await Promise.all([holder, ingest, background].map((t) => once(t.worker, "exit")));
    expect([cells[1], cells[2], cells[3]]).toEqual([1, 2, 3]);
    expect(gate.contended).toBe(false);
  });

  it("passes a holder that never lets go after maxWaitMs (SQLite's own lock still decides)", () => {
    const buffer = new SharedArrayBuffer(8);
    new Int32Array(buffer)[0] = 1; // held by a thread that is gone
    const gate = new WriteGate(buffer, true, 100);
    expect(gate.hold(() => "ran")).toBe("ran");
    // It did not take the gate, so it does not free it either.
    expect(new Int32Array(buffer)[0]).toBe(1);
  });

  it("runs a nested hold on the same thread at once, and frees the gate after the outer one", () => {
    const gate = new WriteGate();
    const inner = gate.hold(() => gate.hold(() => new Int32Array(gate.buffer)[0]));
    expect(inner).toBe(1);
    expect(new Int32Array(gate.buffer)[0]).toBe(0);
    expect(() =>
      gate.hold(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(new Int32Array(gate.buffer)[0]).toBe(0);
  });
});
