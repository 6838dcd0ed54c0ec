/** Shared by bench/gaps.ts and bench/gaps/sweep.ts: load a labelled corpus and group it as the store would. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GroupingInput, GroupingParams, ReportSignature } from "../../src/gaps/index.js";
import {
  applyMerges,
  DEFAULT_PARAMS,
  groupOne,
  mergeCandidates,
  newGroupingState,
  signatureOf,
} from "../../src/gaps/index.js";
import { type BCubed, bcubed } from "../bcubed.js";
import type { CorpusReport } from "./make-corpus.js";

export function loadCorpus(name: string): CorpusReport[] {
  const path = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CorpusReport)
    .sort((a, b) => a.id - b.id);
}

export function inputOf(r: CorpusReport): GroupingInput {
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
export function paramsFromEnv(): GroupingParams {
  const raw = process.env.BENCH_GAPS_PARAMS;
  return raw === undefined
    ? { ...DEFAULT_PARAMS }
    : { ...DEFAULT_PARAMS, ...(JSON.parse(raw) as Partial<GroupingParams>) };
}

export interface CorpusRun {
  truth: Map<number, string>;
  /** After the incremental pass only (what ingest assigns). */
  incremental: Map<number, number>;
  /** After the gap-gap merge pass (what regroup/backfill leave). */
  merged: Map<number, number>;
  signatures: ReportSignature[];
  /** Per report whose true gap already had members: was one of their predicted gaps among its candidates? */
  candidateHit: boolean[];
  /** µs per report for signature + lookup + choice + profile update. */
  micros: number;
  incrementalScore: BCubed;
  mergedScore: BCubed;
}

export function runCorpus(
  corpus: readonly CorpusReport[],
  params: Readonly<GroupingParams> = DEFAULT_PARAMS,
): CorpusRun {
  const inputs = corpus.map(inputOf);
  const state = newGroupingState(params);
  const incremental = new Map<number, number>();
  const signatures: ReportSignature[] = [];
  const candidateHit: boolean[] = [];
  const gapsOfTruth = new Map<string, Set<number>>();
  let nanos = 0n;
  for (let i = 0; i < corpus.length; i++) {
    const r = corpus[i]!;
    const t0 = process.hrtime.bigint();
    const sig = signatureOf(inputs[i]!);
    nanos += process.hrtime.bigint() - t0;
    signatures.push(sig);
    const seen = gapsOfTruth.get(r.gap);
    if (seen !== undefined) {
      const cands = new Set(state.index.lookup(sig));
      candidateHit.push([...seen].some((g) => cands.has(g)));
    }
    const t1 = process.hrtime.bigint();
    const g = groupOne(state, inputs[i]!, sig);
    nanos += process.hrtime.bigint() - t1;
    incremental.set(r.id, g);
    if (seen === undefined) gapsOfTruth.set(r.gap, new Set([g]));
    else seen.add(g);
  }
  const into = applyMerges(state, mergeCandidates([...state.profiles.values()], { params }));
  const merged = new Map([...incremental].map(([id, g]) => [id, into.get(g) ?? g] as const));
  const truth = new Map(corpus.map((r) => [r.id, r.gap] as const));
  return {
    truth,
    incremental,
    merged,
    signatures,
    candidateHit,
    micros: Number(nanos) / 1000 / corpus.length,
    incrementalScore: bcubed(truth, incremental),
    mergedScore: bcubed(truth, merged),
  };
}
