/**
 * The store groups exactly as the engine does: reports stored one by one get the partition of
 * groupAll's incremental pass (the store keeps per-server term df and passes it to chooseGap),
 * and `gaps regroup` ends with the partition of groupAll's merge pass (each merge in the
 * history). Also: migration 6 counts df from the signatures already stored, and a parsed profile
 * cached by one connection is not used once another connection changed the gap.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inputOf, loadCorpus } from "../../bench/gaps/evaluate.js";
import { parseFeedback } from "../../src/feedback/index.js";
import type { GapProfile } from "../../src/gaps/index.js";
import { groupAll } from "../../src/gaps/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import type { SqlDb } from "../../src/store/sql/db.js";
import { dropLaterSchema } from "../helpers/downgrade.js";
import { onPostgres, tempDir, testDbPath } from "../helpers/serve.js";

const stores: FeedbackStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
const open = (path: string): FeedbackStore => {
  const s = FeedbackStore.open(path);
  stores.push(s);
  return s;
};

/** A partition as a set of sorted member lists, so two labellings compare regardless of gap ids. */
function partition(labels: ReadonlyMap<number, number>): string[] {
  const groups = new Map<number, number[]>();
  for (const [id, g] of labels) groups.set(g, [...(groups.get(g) ?? []), id]);
  return [...groups.values()].map((m) => m.sort((a, b) => a - b).join(",")).sort();
}

const corpus = loadCorpus("corpus.jsonl");

function ingest(s: FeedbackStore): Map<number, number> {
  const stored = new Map<number, number>();
  for (const r of corpus) {
    const parsed = parseFeedback({ ...inputOf(r), ...(r.resolution ? { resolution: r.resolution } : {}) });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    stored.set(r.id, s.insertReport(parsed.payload).id);
  }
  return stored;
}
const gapsOf = (s: FeedbackStore, stored: Map<number, number>) =>
  new Map([...stored].map(([cid, id]) => [cid, s.getReport(id)!.gap_id!]));

describe("store and engine agree", () => {
  it("ingest gives the incremental partition, regroup the merged one, each merge in the history", () => {
    const s = open(testDbPath("pwm-parity-"));
    const stored = ingest(s);
    const reports = corpus.map((r) => ({ id: r.id, input: inputOf(r) }));
    expect(partition(gapsOf(s, stored))).toEqual(partition(groupAll(reports, undefined, { merge: false })));

    s.gaps.startRegroup();
    s.gaps.runPending();
    const merged = groupAll(reports);
    expect(partition(gapsOf(s, stored))).toEqual(partition(merged));
    const autoMerges = (
      s.db.prepare("SELECT actor, details FROM gap_history WHERE action = 'merged_into'").all() as {
        actor: string;
        details: string;
      }[]
    ).map((h) => ({ actor: h.actor, by: JSON.parse(h.details).by as string }));
    expect(autoMerges.length).toBeGreaterThan(0);
    expect(autoMerges.every((m) => m.actor === "auto" && m.by === "merge_pass")).toBe(true);
    // Every report in one live gap; merged-away gaps are empty duplicates.
    const one = (sql: string) => (s.db.prepare(sql).get() as { n: number }).n;
    expect(one("SELECT count(*) AS n FROM reports r JOIN gaps g ON g.id = r.gap_id WHERE g.status = 'duplicate'")).toBe(
      0,
    );
    expect(
      one("SELECT count(*) AS n FROM gaps g WHERE g.reports <> (SELECT count(*) FROM reports r WHERE r.gap_id = g.id)"),
    ).toBe(0);

    // A second regroup changes nothing: the merge pass is stable.
    s.gaps.startRegroup();
    s.gaps.runPending();
    expect(partition(gapsOf(s, stored))).toEqual(partition(merged));
  });

  it("the merge pass never merges gaps a human decided on", () => {
    const s = open(testDbPath("pwm-parity-human-"));
    const stored = ingest(s);
    s.gaps.startRegroup();
    s.gaps.runPending();
    // Pick a gap the merge pass formed from two, split the absorbed gap's reports back out, regroup: they stay apart.
    const merge = s.db
      .prepare("SELECT gap_id, details FROM gap_history WHERE action = 'merged_from' ORDER BY id LIMIT 1")
      .get() as { gap_id: number; details: string };
    const members = s.listReports({ gap_id: merge.gap_id }, { limit: 200 }).items.map((r) => r.id);
    const split = s.gaps.splitGap(merge.gap_id, members.slice(1), "local");
    s.gaps.startRegroup();
    s.gaps.runPending();
    expect(s.getReport(members[0]!)!.gap_id).toBe(merge.gap_id);
    for (const id of members.slice(1)) expect(s.getReport(id)!.gap_id).toBe(split.to.id);
    expect(stored.size).toBe(corpus.length);
  });

  // SQLite's own upgrade path (PostgreSQL databases start at the current schema).
  it.skipIf(onPostgres())(
    "the upgrade fill counts term df from the signatures already stored, exactly as ingestion counts them",
    () => {
      const path = join(tempDir("pwm-parity-df-"), "feedback.db");
      const s = open(path);
      ingest(s);
      const dfOf = (db: SqlDb) =>
        db.prepare("SELECT server_name, term, df FROM gap_term_df ORDER BY server_name, term").all();
      const counted = dfOf(s.db);
      expect(counted.length).toBeGreaterThan(100);
      s.close();
      // Back to a version-5 database (no df, no watermark column), then open: migrations 6 and 7
      // run, and the background fill (test/gaps/term-df-fill.test.ts) counts what was stored.
      const db = new Database(path);
      db.exec("ALTER TABLE grouping_state DROP COLUMN assigned_upto");
      dropLaterSchema(db, 5);
      db.close();
      const again = open(path);
      while (again.gaps.fillTermCounts(97));
      expect(dfOf(again.db)).toEqual(counted);
      expect(again.gaps.progress()).toMatchObject({ pending: 0, assigned_upto: corpus.length });
    },
  );

  it("a profile cached by one connection is not used after another connection changed the gap", () => {
    const path = testDbPath("pwm-parity-lru-");
    const a = open(path);
    const b = open(path);
    const need = (i: number) => ({
      server_name: "billing",
      tool_name: "list_invoices",
      gap_type: "missing_parameter" as const,
      what_i_needed: `Filter invoices by a date range for run ${i}`,
      what_i_tried: "list_invoices has no from/to",
      tools_available: [],
    });
    const g = a.insertReport(need(1)).gap_id!; // a parses and caches the profile
    expect(b.insertReport(need(2)).gap_id).toBe(g);
    expect(a.insertReport(need(3)).gap_id).toBe(g);
    const profile = JSON.parse(
      (a.db.prepare("SELECT profile FROM gaps WHERE id = ?").get(g) as { profile: string }).profile,
    ) as GapProfile;
    expect(profile.size).toBe(3); // a stale cached profile would have said 2
    expect(a.gaps.getGap(g)!.reports).toBe(3);
  });
});
