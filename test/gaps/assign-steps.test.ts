/**
 * The live assignment's steps (GapStore.assignPending) when ingestion keeps cutting them short:
 * a step that yields after one report leaves the rest it read and signed for the next step, and
 * the result is the same grouping as one uninterrupted step; a watermark another connection
 * moved meanwhile is respected (nothing assigned twice). And (SQLite) the manual checkpoints serve's
 * background connections use.
 */
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { gapConsistency } from "../helpers/gaps.js";
import { onPostgres, openRawDb, testDbPath } from "../helpers/serve.js";

const NEEDS = ["Filter invoices by a date range", "Export customers as CSV", "Refund part of a payment"];
const report = (i: number) => ({
  server_name: "billing",
  tool_name: `tool_${i % 3}`,
  gap_type: "missing_parameter",
  what_i_needed: `${NEEDS[i % 3]} for run ${1000 + i}`,
  what_i_tried: `Called tool_${i % 3} with page=${i}`,
  session_id: `s-${i}`,
});

function storeWith(n: number): { store: FeedbackStore; path: string } {
  const path = testDbPath("pwm-assign-");
  const store = FeedbackStore.open(path, { grouping: "deferred" });
  store.insertMany(Array.from({ length: n }, (_, i) => ({ payload: report(i) as never })));
  return { store, path };
}

/** Report ids grouped by gap, as a comparable set of sets. */
function partition(path: string): string[] {
  const db = openRawDb(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT gap_id, id FROM reports ORDER BY id").all() as { gap_id: number; id: number }[];
    const byGap = new Map<number, number[]>();
    for (const r of rows) byGap.set(r.gap_id, [...(byGap.get(r.gap_id) ?? []), r.id]);
    return [...byGap.values()].map((ids) => ids.join(",")).sort();
  } finally {
    db.close();
  }
}

describe("assignment steps cut short by ingestion", () => {
  it("go on from where the last one stopped and group as one uninterrupted step does", () => {
    const cut = storeWith(30);
    const whole = storeWith(30);
    try {
      const steps: number[] = [];
      for (;;) {
        const step = cut.store.gaps.assignPending({ yieldTo: () => true });
        if (step.processed === 0) break;
        steps.push(step.processed);
      }
      expect(steps).toEqual(Array.from({ length: 30 }, () => 1));
      expect(whole.store.gaps.assignPending({ maxMs: 60_000 })).toMatchObject({ processed: 30, assignedUpTo: 30 });
      expect(partition(cut.path)).toEqual(partition(whole.path));
      expect(partition(cut.path)).toHaveLength(3);
      expect(gapConsistency(cut.path)).toMatchObject({ reports: 30, unassigned: 0, inDeadGap: 0, mismatched: 0 });
    } finally {
      cut.store.close();
      whole.store.close();
    }
  });

  it("skip what another connection assigned meanwhile", () => {
    const { store, path } = storeWith(20);
    const other = FeedbackStore.open(path, { grouping: "deferred" });
    try {
      expect(store.gaps.assignPending({ yieldTo: () => true })).toMatchObject({ processed: 1, assignedUpTo: 1 });
      // The other connection moves the watermark past reports the first one has prepared.
      expect(other.gaps.assignPending({ maxReports: 9, maxMs: 60_000 })).toMatchObject({
        processed: 9,
        assignedUpTo: 10,
      });
      expect(store.gaps.assignPending({ maxMs: 60_000 })).toMatchObject({ processed: 10, assignedUpTo: 20 });
      expect(gapConsistency(path)).toMatchObject({ reports: 20, unassigned: 0, inDeadGap: 0, mismatched: 0 });
      expect(gapConsistency(path).counted).toBe(20);
    } finally {
      other.close();
      store.close();
    }
  });
});

describe.skipIf(onPostgres())("manual checkpoints (SQLite)", () => {
  it("leave the WAL to checkpoint(), which copies it back; automatic ones copy as they go", () => {
    const write = (store: FeedbackStore) => {
      for (let b = 0; b < 10; b++)
        store.insertMany(Array.from({ length: 500 }, (_, i) => ({ payload: report(b * 500 + i) as never })));
    };
    const manualPath = testDbPath("pwm-checkpoint-");
    const autoPath = testDbPath("pwm-checkpoint-auto-");
    const manual = FeedbackStore.open(manualPath, { grouping: "deferred", checkpoints: "manual" });
    const auto = FeedbackStore.open(autoPath, { grouping: "deferred" });
    try {
      const empty = statSync(manualPath).size;
      write(manual);
      write(auto);
      // Over 1000 WAL pages each: only the automatic connection has copied pages into its file.
      expect(statSync(`${manualPath}-wal`).size).toBeGreaterThan(1000 * 4096);
      expect(statSync(manualPath).size).toBe(empty);
      expect(statSync(autoPath).size).toBeGreaterThan(empty + 1_000_000);
      manual.checkpoint();
      expect(statSync(manualPath).size).toBeGreaterThan(empty + 1_000_000);
    } finally {
      manual.close();
      auto.close();
    }
  });
});
