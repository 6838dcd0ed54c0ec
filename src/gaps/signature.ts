/**
 * One report -> its signature: a duplicate fingerprint, LSH band keys, and a field-weighted term vector.
 *
 * Weighting is IDF-free: a term's weight is the square root of its summed field weights (so a word
 * repeated in a long paragraph does not drown the rest), times a fixed prior that damps generic API
 * words ("get", "param", "data"), which every report uses and which say nothing about the gap.
 * No corpus statistics are needed, so a report's signature never changes after it is stored.
 */
import type { GroupingInput, ReportSignature, TermVector } from "./grouping-contract.js";
import { MAX_TERMS } from "./grouping-contract.js";
import { hash64 } from "./hash.js";
import { bandKeys } from "./minhash.js";
import { isPlaceholder, tokenRuns } from "./normalise.js";
import { normalised, prune } from "./vector.js";

/** How much each field says about the missing capability. */
export const FIELD_WEIGHTS = {
  what_i_needed: 1.0,
  suggestion: 0.8,
  what_i_tried: 0.3,
  user_goal: 0.12,
} as const;

/** Bigrams (order-free pairs of adjacent tokens) relative to unigrams: they separate "filter date" from "filter project". */
const BIGRAM_WEIGHT = 0.7;

/**
 * Typo tolerance: a long word also contributes its set of letters ("~eilmnst"), which a swapped,
 * doubled or (often) dropped letter leaves unchanged. Weak, so that true anagrams barely count.
 */
const LETTERS_WEIGHT = 0.35;
const LETTERS_MIN_LENGTH = 5;

function lettersKey(term: string): string | null {
  if (term.length < LETTERS_MIN_LENGTH || !/^[a-z]+$/.test(term)) return null;
  return "~" + [...new Set(term)].sort().join("");
}

/** Fixed prior for words every report uses. Below LSH_MIN_PRIOR a word is too generic to seed a band. */
const GENERIC_PRIOR: Readonly<Record<string, number>> = {
  get: 0.3, param: 0.35, data: 0.3, result: 0.35, return: 0.3, response: 0.4, request: 0.4, info: 0.3,
  information: 0.3, value: 0.5, field: 0.6, filter: 0.7, create: 0.6, update: 0.6, delete: 0.7, search: 0.7,
  new: 0.4, specific: 0.3, given: 0.3, work: 0.35, task: 0.3, user: 0.35, output: 0.5, input: 0.5, type: 0.5,
  manual: 0.35, workaround: 0.3, one: 0.3, time: 0.5, know: 0.3, see: 0.3, make: 0.3, includ: 0.4, method: 0.4,
  error: 0.6, ask: 0.3, help: 0.3, also: 0.3, well: 0.3, back: 0.3, come: 0.3, give: 0.3, set: 0.5,
};
const LSH_MIN_PRIOR = 0.5;

function prior(term: string): number {
  return GENERIC_PRIOR[term] ?? 1;
}

/** Tool names as agents send them: "mcp__billing__get_costs", "billing.get_costs", "getCosts" -> "getcosts". */
export function normaliseToolName(tool: string | null | undefined): string {
  if (tool === null || tool === undefined) return "";
  const last = tool.trim().split(/__|[./:]/).filter((s) => s.length > 0).pop() ?? "";
  return last.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const FIELDS = ["what_i_needed", "suggestion", "what_i_tried", "user_goal"] as const;
type Field = (typeof FIELDS)[number];
/** Each text field tokenised once (normalisation is most of a signature's cost). */
type FieldRuns = Readonly<Record<Field, string[][]>>;

function fieldRuns(input: GroupingInput): FieldRuns {
  const runs = (text: string | null | undefined) => (text === null || text === undefined || text === "" ? [] : tokenRuns(text));
  return {
    what_i_needed: runs(input.what_i_needed),
    suggestion: runs(input.suggestion),
    what_i_tried: runs(input.what_i_tried),
    user_goal: runs(input.user_goal),
  };
}

function fingerprintFrom(input: GroupingInput, runs: FieldRuns): string {
  const need = runs.what_i_needed.flat().join(" ");
  return hash64([input.server_name, normaliseToolName(input.tool_name), input.gap_type, need].join("\u0001"));
}

export function fingerprintOf(input: GroupingInput): string {
  return fingerprintFrom(input, fieldRuns(input));
}

function termVectorFrom(runs: FieldRuns): TermVector {
  const weights = new Map<string, number>();
  const add = (t: string, w: number) => weights.set(t, (weights.get(t) ?? 0) + w);
  for (const field of FIELDS) {
    const fw = FIELD_WEIGHTS[field];
    for (const run of runs[field]) {
      const words = run.filter((t) => !isPlaceholder(t));
      for (let i = 0; i < words.length; i++) {
        const a = words[i]!;
        add(a, fw);
        const letters = lettersKey(a);
        if (letters !== null) add(letters, fw * LETTERS_WEIGHT);
        const b = words[i + 1];
        if (b !== undefined && b !== a) add(a < b ? `${a} ${b}` : `${b} ${a}`, fw * BIGRAM_WEIGHT);
      }
    }
  }
  const damped = new Map<string, number>();
  for (const [t, w] of weights) {
    const p = t.includes(" ") ? Math.sqrt(t.split(" ").map(prior).reduce((x, y) => x * y, 1)) : t.startsWith("~") ? 1 : prior(t);
    damped.set(t, Math.sqrt(w) * p);
  }
  return normalised(prune(damped, MAX_TERMS));
}

export function termVectorOf(input: GroupingInput): TermVector {
  return termVectorFrom(fieldRuns(input));
}

/** The token set MinHash sees: distinct non-generic unigrams of the need and the suggestion. */
function lshSetFrom(runs: FieldRuns): string[] {
  const set = new Set<string>();
  const all = new Set<string>();
  for (const field of ["what_i_needed", "suggestion"] as const) {
    for (const t of runs[field].flat()) {
      if (isPlaceholder(t)) continue;
      all.add(t);
      if (prior(t) >= LSH_MIN_PRIOR) set.add(t);
    }
  }
  return [...(set.size > 0 ? set : all)].sort();
}

export function signatureOf(input: GroupingInput): ReportSignature {
  const runs = fieldRuns(input);
  const fingerprint = fingerprintFrom(input, runs);
  const bands = bandKeys(input.server_name, lshSetFrom(runs));
  // A need made only of placeholders and stopwords still finds its exact duplicates.
  if (bands.length === 0) bands.push(`${input.server_name}|fp|${fingerprint}`);
  return { fingerprint, bands, terms: termVectorFrom(runs) };
}
