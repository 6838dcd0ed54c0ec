/**
 * npm run bench:gaps — grouping quality and cost.
 *
 * 1. For each labelled corpus (bench/gaps/*.jsonl): reports, true gaps, predicted gaps,
 *    B-cubed precision / recall / F1, LSH recall (share of true same-gap pairs sharing a band
 *    key, and share of reports whose true gap was among the candidates when one existed), and
 *    grouping time per report.
 * 2. Candidate-lookup flatness: time per new report (signature + lookup + chooseGap + profile
 *    update) after 10k, 100k and 1M synthetic stored reports over many servers and gaps.
 *
 * Env: BENCH_GAPS_SIZES (default "10000,100000,1000000"), BENCH_GAPS_VERBOSE=1 lists wrong merges/splits.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GroupingInput, GroupingParams, ReportSignature } from "../src/gaps/index.js";
import { addToProfile, DEFAULT_PARAMS, groupOne, newGroupingState, signatureOf } from "../src/gaps/index.js";
import { bcubed } from "./bcubed.js";
import type { CorpusReport } from "./gaps/make-corpus.js";
import { syntheticStream } from "./gaps/synthetic.js";

function load(name: string): CorpusReport[] {
  const path = fileURLToPath(new URL(`./gaps/${name}`, import.meta.url));
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CorpusReport);
}

function inputOf(r: CorpusReport): GroupingInput {
  return {
    server_name: r.server_name,
    tool_name: r.tool_name,
    gap_type: r.gap_type,
    what_i_needed: r.what_i_needed,
    what_i_tried: r.what_i_tried,
    suggestion: r.suggestion,
    user_goal: r.user_goal,
  };
}

/** BENCH_GAPS_PARAMS='{"joinThreshold":0.4}' overrides defaults (for sweeps; the defaults are what ships). */
function paramsFromEnv(): GroupingParams {
  const raw = process.env.BENCH_GAPS_PARAMS;
  return raw === undefined ? { ...DEFAULT_PARAMS } : { ...DEFAULT_PARAMS, ...(JSON.parse(raw) as Partial<GroupingParams>) };
}

function evaluate(name: string): void {
  const corpus = load(name).sort((a, b) => a.id - b.id);
  const inputs = corpus.map(inputOf);
  // Timed pass: the whole incremental algorithm, signatures included.
  const t0 = process.hrtime.bigint();
  const state = newGroupingState(paramsFromEnv());
  const predicted = new Map<number, number>();
  const signatures: ReportSignature[] = [];
  const candidateHit: boolean[] = [];
  const truthGapOf = new Map<number, string>();
  const firstGapOfTruth = new Map<string, Set<number>>();
  for (let i = 0; i < corpus.length; i++) {
    const sig = signatureOf(inputs[i]!);
    signatures.push(sig);
    const r = corpus[i]!;
    const seen = firstGapOfTruth.get(r.gap);
    if (seen !== undefined) {
      const cands = new Set(state.index.lookup(sig));
      candidateHit.push([...seen].some((g) => cands.has(g)));
    }
    const g = groupOne(state, inputs[i]!, sig);
    predicted.set(r.id, g);
    truthGapOf.set(r.id, r.gap);
    if (seen === undefined) firstGapOfTruth.set(r.gap, new Set([g]));
    else seen.add(g);
  }
  const micros = Number(process.hrtime.bigint() - t0) / 1000 / corpus.length;
  const truth = new Map(corpus.map((r) => [r.id, r.gap] as const));
  const m = bcubed(truth, predicted);
  // Pairwise band recall over true same-gap pairs.
  let pairs = 0;
  let banded = 0;
  for (let i = 0; i < corpus.length; i++) {
    for (let j = i + 1; j < corpus.length; j++) {
      if (corpus[i]!.gap !== corpus[j]!.gap) continue;
      pairs++;
      const a = new Set(signatures[i]!.bands);
      if (signatures[j]!.bands.some((b) => a.has(b))) banded++;
    }
  }
  const hits = candidateHit.filter(Boolean).length;
  console.log(
    `${name}: ${corpus.length} reports, ${new Set(truth.values()).size} true gaps, ${new Set(predicted.values()).size} predicted gaps` +
      ` | B3 P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)} F1 ${m.f1.toFixed(3)}` +
      ` | band recall: pairs ${((100 * banded) / Math.max(1, pairs)).toFixed(1)}%, gap in candidates ${((100 * hits) / Math.max(1, candidateHit.length)).toFixed(1)}%` +
      ` | ${micros.toFixed(0)} µs/report`,
  );
  if (process.env.BENCH_GAPS_VERBOSE === "1") explain(corpus, predicted);
}

/** Which predicted gaps mix true gaps, and which true gaps are split. */
function explain(corpus: CorpusReport[], predicted: Map<number, number>): void {
  const byPred = new Map<number, CorpusReport[]>();
  for (const r of corpus) {
    const g = predicted.get(r.id)!;
    byPred.set(g, [...(byPred.get(g) ?? []), r]);
  }
  for (const [g, rs] of byPred) {
    const truths = new Set(rs.map((r) => r.gap));
    if (truths.size > 1) {
      console.log(`  MIXED gap ${g}: ${[...truths].map((t) => `${t}×${rs.filter((r) => r.gap === t).length}`).join(", ")}`);
    }
  }
  const byTruth = new Map<string, CorpusReport[]>();
  for (const r of corpus) byTruth.set(r.gap, [...(byTruth.get(r.gap) ?? []), r]);
  for (const [t, rs] of byTruth) {
    const preds = new Map<number, CorpusReport[]>();
    for (const r of rs) preds.set(predicted.get(r.id)!, [...(preds.get(predicted.get(r.id)!) ?? []), r]);
    if (preds.size > 1) {
      console.log(`  SPLIT ${t} into ${preds.size}:`);
      for (const [g, members] of preds) console.log(`    [${g}] ${members.map((r) => JSON.stringify(r.what_i_needed.slice(0, 70))).join(" | ")}`);
    }
  }
}

function flatness(): void {
  const sizes = (process.env.BENCH_GAPS_SIZES ?? "10000,100000,1000000").split(",").map(Number).sort((a, b) => a - b);
  const state = newGroupingState();
  // Gaps the timed reports open get ids far above the synthetic ones, so the two never collide.
  state.nextGapId = 1_000_000_000;
  const gen = syntheticStream(7);
  let stored = 0;
  const t0 = Date.now();
  for (const target of sizes) {
    // Fill: reports arrive already labelled with their gap (this is the stored history, not what we time).
    for (; stored < target; stored++) {
      const { input, gap } = gen.next();
      const sig = signatureOf(input);
      state.profiles.set(gap, addToProfile(state.profiles.get(gap) ?? null, gap, input, sig));
      state.index.add(gap, sig);
      state.stats.add(input.server_name, sig);
    }
    // Timed: new reports through the full incremental step, on a copy-free state (they are added, as in production).
    const probes = 2000;
    const inputs: GroupingInput[] = [];
    for (let i = 0; i < probes; i++) inputs.push(gen.next().input);
    const s0 = process.hrtime.bigint();
    let candidates = 0;
    for (const input of inputs) {
      const sig = signatureOf(input);
      candidates += state.index.lookup(sig).length;
      groupOne(state, input, sig);
    }
    const micros = Number(process.hrtime.bigint() - s0) / 1000 / probes;
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `after ${target.toLocaleString("en")} stored reports (${state.profiles.size.toLocaleString("en")} gaps, ${state.index.bandCount.toLocaleString("en")} band keys):` +
        ` ${micros.toFixed(0)} µs per new report (incl. a second lookup for the count), ${(candidates / probes).toFixed(1)} candidates on average,` +
        ` RSS ${rss.toFixed(0)} MB, ${((Date.now() - t0) / 1000).toFixed(0)} s so far`,
    );
  }
}

console.log("bench:gaps — grouping quality (B-cubed) and cost");
evaluate("corpus.jsonl");
try {
  evaluate("heldout.jsonl");
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  console.log("heldout.jsonl: not present");
}
if (process.env.BENCH_GAPS_SIZES !== "0") flatness();
