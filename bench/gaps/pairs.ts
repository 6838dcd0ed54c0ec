/**
 * Diagnostics for tuning: every pair of reports on one server scored as chooseGap scores a report
 * against a one-member gap (IDF from the whole corpus), split into same-gap and different-gap
 * pairs, so you see how separable a corpus is and which pairs fall on the wrong side of the bar.
 *   npx tsx bench/gaps/pairs.ts fresh.jsonl        (V=1 lists the pairs, NOIDF=1 scores without IDF)
 */
import { addToProfile, DEFAULT_PARAMS, idfWeighted, scoreAgainst, signatureOf } from "../../src/gaps/index.js";
import type { ServerTermStats } from "../../src/gaps/index.js";
import { inputOf, loadCorpus } from "./evaluate.js";

const name = process.argv[2] ?? "unseen.jsonl";
const corpus = loadCorpus(name);
const sigs = corpus.map((r) => signatureOf(inputOf(r)));
const stats = new Map<string, ServerTermStats>();
corpus.forEach((r, i) => {
  let st = stats.get(r.server_name);
  if (!st) stats.set(r.server_name, (st = { reports: 0, df: new Map() }));
  (st as { reports: number }).reports++;
  for (const [t] of sigs[i]!.terms) (st.df as Map<string, number>).set(t, (st.df.get(t) ?? 0) + 1);
});
const TH = process.env.NOIDF ? DEFAULT_PARAMS.joinThresholdWithoutStats : DEFAULT_PARAMS.joinThreshold;
const profiles = corpus.map((r, i) => addToProfile(null, i + 1, inputOf(r), sigs[i]!));
const same: number[] = [];
const diff: number[] = [];
const rows: string[] = [];
for (let i = 0; i < corpus.length; i++)
  for (let j = i + 1; j < corpus.length; j++) {
    if (corpus[i]!.server_name !== corpus[j]!.server_name) continue;
    const q = process.env.NOIDF ? sigs[j]!.terms : idfWeighted(sigs[j]!.terms, stats.get(corpus[j]!.server_name));
    const s = scoreAgainst(inputOf(corpus[j]!), sigs[j]!, profiles[i]!, undefined, q)!.total;
    const isSame = corpus[i]!.gap === corpus[j]!.gap;
    (isSame ? same : diff).push(s);
    if ((isSame && s < TH) || (!isSame && s >= TH))
      rows.push(
        `${isSame ? "MISS" : "FALSE"} ${s.toFixed(2)} ${corpus[i]!.gap} ~ ${corpus[j]!.gap}: ${JSON.stringify(corpus[i]!.what_i_needed.slice(0, 60))} | ${JSON.stringify(corpus[j]!.what_i_needed.slice(0, 60))}`,
      );
  }
const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))]!.toFixed(2);
console.log(
  `same-gap pairs ${same.length}: p10 ${q(same, 0.1)} p50 ${q(same, 0.5)}; above ${TH}: ${same.filter((s) => s >= TH).length}`,
);
console.log(
  `diff-gap pairs ${diff.length}: p50 ${q(diff, 0.5)} p99 ${q(diff, 0.99)}; above ${TH}: ${diff.filter((s) => s >= TH).length}`,
);
if (process.env.V) console.log(rows.join("\n"));
