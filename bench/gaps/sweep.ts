/**
 * Parameter sweep over the labelled corpora (not part of bench:gaps). Selection rule: the best MEAN
 * of main and held-out F1 after the merge pass, among settings with precision >= 0.90 on both.
 *   BENCH_GAPS_SWEEP='{"joinThreshold":[0.24,0.28],"slotPenalty":[0.1,0.25]}' npx tsx bench/gaps/sweep.ts
 */
import type { GroupingParams } from "../../src/gaps/index.js";
import { DEFAULT_PARAMS } from "../../src/gaps/index.js";
import { loadCorpus, runCorpus } from "./evaluate.js";

const grid = JSON.parse(process.env.BENCH_GAPS_SWEEP ?? "{}") as Record<string, number[]>;
const corpora = (process.env.BENCH_GAPS_SWEEP_CORPORA ?? "corpus.jsonl,heldout.jsonl")
  .split(",")
  .map((n) => [n, loadCorpus(n)] as const);
const keys = Object.keys(grid);
const combos: Partial<GroupingParams>[] = [{}];
for (const k of keys) {
  const next: Partial<GroupingParams>[] = [];
  for (const c of combos) for (const v of grid[k]!) next.push({ ...c, [k]: v });
  combos.splice(0, combos.length, ...next);
}
const rows: { label: string; mean: number; ok: boolean; text: string }[] = [];
for (const c of combos) {
  const params = { ...DEFAULT_PARAMS, ...c };
  const scores = corpora.map(([, corpus]) => runCorpus(corpus, params));
  const f1s = scores.map((s) => s.mergedScore.f1);
  const mean = f1s.reduce((x, y) => x + y, 0) / f1s.length;
  const ok = scores.every((s) => s.mergedScore.precision >= 0.9);
  const text = scores
    .map(
      (s, i) =>
        `${corpora[i]![0].replace(".jsonl", "")} inc ${s.incrementalScore.f1.toFixed(3)} P ${s.mergedScore.precision.toFixed(3)} R ${s.mergedScore.recall.toFixed(3)} F1 ${s.mergedScore.f1.toFixed(3)}`,
    )
    .join(" | ");
  rows.push({ label: JSON.stringify(c), mean, ok, text });
}
rows.sort((a, b) => Number(b.ok) - Number(a.ok) || b.mean - a.mean);
for (const r of rows) console.log(`${r.ok ? "ok " : "low"} mean ${r.mean.toFixed(3)} ${r.label} ${r.text}`);
