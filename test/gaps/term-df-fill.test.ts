/**
 * gap_term_df on an upgrade: migration 6 no longer counts the stored signatures
 * at start-up (minutes on a big database); migration 7 leaves the count to
 * resumable background batches, which end with exactly the counts the live
 * assignment keeps. Real SQLite files; `serve` as a real child process.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FeedbackPayload } from "../../src/feedback/index.js";
import { groupInBackground } from "../../src/gaps/backfill.js";
import { FeedbackStore } from "../../src/store/index.js";
import { dropLaterSchema } from "../helpers/downgrade.js";
import { startServe, tempDir } from "../helpers/serve.js";

const stores: FeedbackStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(path: string): FeedbackStore {
  const s = FeedbackStore.open(path);
  stores.push(s);
  return s;
}

const report = (i: number): FeedbackPayload => ({
  server_name: i % 3 ? "billing" : "crm",
  tool_name: ["list_invoices", "export_customers", "refund_payment", "find_contact"][i % 4]!,
  gap_type: "missing_parameter",
  what_i_needed: `${["Filter invoices by date", "Export customers as CSV", "Refund part of a payment", "Find a contact by email"][i % 4]} for run ${i}`,
  what_i_tried: `Called the tool with page=${i}; nothing about it`,
  suggestion: i % 2 ? "Add a parameter for it" : undefined,
  tools_available: ["list_invoices"],
  session_id: `s-${i}`,
});

type DfRow = { server_name: string; term: string; df: number };
const counts = (s: FeedbackStore): DfRow[] =>
  s.db.prepare("SELECT server_name, term, df FROM gap_term_df ORDER BY server_name, term").all() as DfRow[];

/** A grouped database, its term counts as the live assignment kept them, and the same file as migration 5 left it. */
function upgradeFixture(): { path: string; expected: DfRow[] } {
  const path = join(tempDir("pwm-term-df-"), "feedback.db");
  const s = FeedbackStore.open(path);
  s.insertMany(Array.from({ length: 40 }, (_, i) => ({ payload: report(i) })));
  const expected = counts(s);
  s.close();
  const db = new Database(path);
  db.exec("ALTER TABLE grouping_state DROP COLUMN assigned_upto");
  dropLaterSchema(db, 5);
  db.close();
  return { path, expected };
}

describe("term counts after an upgrade", () => {
  it("are not counted at start-up, then filled in resumable batches to exactly the live counts", () => {
    const { path, expected } = upgradeFixture();
    expect(expected.length).toBeGreaterThan(10);
    let s = open(path);
    expect(counts(s)).toEqual([]);
    expect(s.gaps.termCountsPending()).toBe(true);
    expect(s.gaps.fillTermCounts(7)).toBe(true);
    expect(s.gaps.fillTermCounts(7)).toBe(true);
    s.close();
    // A restart continues from the watermark instead of counting anything twice.
    s = open(path);
    while (s.gaps.fillTermCounts(7));
    expect(s.gaps.termCountsPending()).toBe(false);
    expect(counts(s)).toEqual(expected);
    expect(s.gaps.fillTermCounts(7)).toBe(false);
    expect(counts(s)).toEqual(expected);
  });

  it("are left to a regroup started before the fill ends (it counts every report itself)", () => {
    const { path, expected } = upgradeFixture();
    const s = open(path);
    s.gaps.fillTermCounts(7);
    s.gaps.startRegroup();
    expect(s.gaps.termCountsPending()).toBe(false);
    s.gaps.runPending({ batchSize: 9 });
    expect(counts(s)).toEqual(expected);
  });

  it("are not filled again on a database an earlier migration 6 already counted", () => {
    const { path, expected } = upgradeFixture();
    let s = open(path);
    while (s.gaps.fillTermCounts());
    s.close();
    const db = new Database(path);
    dropLaterSchema(db, 6);
    db.close();
    s = open(path);
    expect(s.gaps.termCountsPending()).toBe(false);
    expect(counts(s)).toEqual(expected);
  });

  it("are filled by the background pass of an in-process server", async () => {
    const { path, expected } = upgradeFixture();
    const s = open(path);
    await groupInBackground(s, { batchSize: 6 }).done;
    expect(s.gaps.termCountsPending()).toBe(false);
    expect(counts(s)).toEqual(expected);
  });

  it("are filled by serve's grouping worker while it answers", async () => {
    const { path, expected } = upgradeFixture();
    const server = await startServe({ dbPath: path });
    try {
      const res = await fetch(`${server.url}/api/gaps`);
      expect(res.status).toBe(200);
      const reader = new Database(path, { readonly: true });
      try {
        await vi.waitFor(() => expect(reader.prepare("SELECT 1 FROM gap_term_df_fill").get()).toBeUndefined(), {
          timeout: 20_000,
          interval: 50,
        });
        expect(
          reader.prepare("SELECT server_name, term, df FROM gap_term_df ORDER BY server_name, term").all(),
        ).toEqual(expected);
      } finally {
        reader.close();
      }
    } finally {
      await server.stop();
    }
  });
});
