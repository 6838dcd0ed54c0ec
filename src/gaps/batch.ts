/**
 * The candidate lookup the store performs, in memory, and the offline batch built on it.
 *
 * The store (src/store/gaps.ts) mirrors CandidateIndex with a band-key index and a
 * fingerprint index: a report's candidates are the gaps sharing its fingerprint, then the
 * gaps sharing the most of its band keys (ties to the lowest gap id), at most
 * MAX_CANDIDATES. Band keys start with the server name, so the lookup never leaves the
 * report's server.
 */
import type { GapProfile, GroupingInput, ReportSignature, ServerTermStats } from "./grouping-contract.js";
import { MAX_CANDIDATES } from "./grouping-contract.js";
import { type MergeOptions, mergeCandidates } from "./merge.js";
import { addToProfile, mergeProfiles } from "./profile.js";
import { signatureOf } from "./signature.js";
import { chooseGap, DEFAULT_PARAMS, type GroupingParams } from "./similarity.js";

export class CandidateIndex {
  private readonly bandGaps = new Map<string, Set<number>>();
  private readonly fingerprintGaps = new Map<string, number>();

  /** Record that a report with this signature now belongs to `gapId`. */
  add(gapId: number, signature: ReportSignature): void {
    for (const band of signature.bands) {
      let set = this.bandGaps.get(band);
      if (set === undefined) this.bandGaps.set(band, (set = new Set()));
      set.add(gapId);
    }
    const known = this.fingerprintGaps.get(signature.fingerprint);
    if (known === undefined || gapId < known) this.fingerprintGaps.set(signature.fingerprint, gapId);
  }

  /** Gap ids to compare with: fingerprint match first, then most shared band keys, then lowest id; at most `limit`. */
  lookup(signature: ReportSignature, limit: number = MAX_CANDIDATES): number[] {
    const shared = new Map<number, number>();
    for (const band of signature.bands) {
      const set = this.bandGaps.get(band);
      if (set === undefined) continue;
      for (const id of set) shared.set(id, (shared.get(id) ?? 0) + 1);
    }
    const fp = this.fingerprintGaps.get(signature.fingerprint);
    if (fp !== undefined) shared.set(fp, Number.MAX_SAFE_INTEGER);
    return [...shared]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, limit)
      .map(([id]) => id);
  }

  /** Distinct band keys held (for memory figures). */
  get bandCount(): number {
    return this.bandGaps.size;
  }
}

/** Per-server df counts, as the store keeps them (one row per server and term). */
export class TermStats {
  private readonly servers = new Map<string, { reports: number; df: Map<string, number> }>();

  /** The stats chooseGap needs for one report: the server's count and the df of the report's terms. */
  forReport(server: string, signature: ReportSignature): ServerTermStats {
    const s = this.servers.get(server);
    if (s === undefined) return { reports: 0, df: new Map() };
    const df = new Map<string, number>();
    for (const [t] of signature.terms) {
      const v = s.df.get(t);
      if (v !== undefined) df.set(t, v);
    }
    return { reports: s.reports, df };
  }

  add(server: string, signature: ReportSignature): void {
    let s = this.servers.get(server);
    if (s === undefined) this.servers.set(server, (s = { reports: 0, df: new Map() }));
    s.reports++;
    for (const [t] of signature.terms) s.df.set(t, (s.df.get(t) ?? 0) + 1);
  }
}

export interface BatchReport<Id extends string | number> {
  id: Id;
  input: GroupingInput;
}

export interface GroupingState {
  index: CandidateIndex;
  stats: TermStats;
  profiles: Map<number, GapProfile>;
  nextGapId: number;
  params: Readonly<GroupingParams>;
}

export function newGroupingState(params: Readonly<GroupingParams> = DEFAULT_PARAMS): GroupingState {
  return {
    index: new CandidateIndex(),
    stats: new TermStats(),
    profiles: new Map(),
    nextGapId: 1,
    params,
  };
}

/** One incremental step, exactly as the store runs it: signature, lookup + df read, choose, record. Returns the gap id. */
export function groupOne(
  state: GroupingState,
  input: GroupingInput,
  signature: ReportSignature = signatureOf(input),
): number {
  const candidates: GapProfile[] = [];
  for (const id of state.index.lookup(signature)) {
    const p = state.profiles.get(id);
    if (p !== undefined) candidates.push(p);
  }
  const stats = state.stats.forReport(input.server_name, signature);
  const choice = chooseGap(input, signature, candidates, {
    params: state.params,
    stats,
  });
  const gapId = choice.kind === "join" ? choice.gapId : state.nextGapId++;
  state.profiles.set(gapId, addToProfile(state.profiles.get(gapId) ?? null, gapId, input, signature));
  state.index.add(gapId, signature);
  state.stats.add(input.server_name, signature);
  return gapId;
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface GroupAllOptions {
  /** Run the gap-gap merge pass after the incremental one (default true: regroup and backfill do). */
  merge?: boolean;
  mayMerge?: MergeOptions["mayMerge"];
}

/**
 * Apply merge proposals to an in-memory state: profiles merged into the survivor, absorbed ids
 * removed. Returns absorbed id -> survivor id. (The store does the same with its rows.)
 */
export function applyMerges(
  state: GroupingState,
  proposals: readonly (readonly [number, number, number])[],
): Map<number, number> {
  const into = new Map<number, number>();
  for (const [keep, absorb] of proposals) {
    const a = state.profiles.get(keep);
    const b = state.profiles.get(absorb);
    if (a === undefined || b === undefined) continue;
    state.profiles.set(keep, mergeProfiles(a, b));
    state.profiles.delete(absorb);
    into.set(absorb, keep);
  }
  return into;
}

/**
 * Deterministic offline grouping (bench, regroup, backfill): the incremental algorithm over an
 * in-memory index, in id order, then (by default) the gap-gap merge pass. Gap keys are 1, 2, 3...
 * in order of creation; a merged gap keeps the lower key.
 */
export function groupAll<Id extends string | number>(
  reports: readonly BatchReport<Id>[],
  params: Readonly<GroupingParams> = DEFAULT_PARAMS,
  options: GroupAllOptions = {},
): Map<Id, number> {
  const state = newGroupingState(params);
  const out = new Map<Id, number>();
  for (const r of [...reports].sort((a, b) => compareIds(a.id, b.id))) out.set(r.id, groupOne(state, r.input));
  if (options.merge === false) return out;
  const mergeOptions: MergeOptions =
    options.mayMerge === undefined ? { params } : { params, mayMerge: options.mayMerge };
  const into = applyMerges(state, mergeCandidates([...state.profiles.values()], mergeOptions));
  if (into.size === 0) return out;
  for (const [id, g] of out) {
    const to = into.get(g);
    if (to !== undefined) out.set(id, to);
  }
  return out;
}
