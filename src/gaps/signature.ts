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
import { analyse, isPlaceholder, type TextAnalysis } from "./normalise.js";
import { round } from "./vector.js";

/** How much each field says about the missing capability. */
export const FIELD_WEIGHTS = {
  what_i_needed: 1.0,
  suggestion: 0.8,
  what_i_tried: 0.3,
  user_goal: 0.12,
} as const;

/** Bigrams (order-free pairs of adjacent tokens) relative to unigrams: they separate "filter date" from "filter project". */
const BIGRAM_WEIGHT = 0.7;

/** Argument slots ("by stage", "per project", "owner filter") as "@stage" terms, relative to unigrams. */
export const SLOT_WEIGHT = 1.0;
export const SLOT_PREFIX = "@";

/**
 * Typo tolerance: a long word also contributes its skeleton, "~" + first letter + its consonants
 * with doubles collapsed ("listiing", "listing" -> "~lstng"; "cerdit", "credit" -> "~crdt"). A
 * doubled or wrong vowel, a doubled letter or a dropped vowel leave it unchanged; words of other
 * meaning rarely share one of four consonants or more in the same order and the same first letter
 * ("item"/"time", which a sorted letter set confused, are too short and start differently).
 */
const TYPO_WEIGHT = 0.3;
const TYPO_MIN_LENGTH = 5;
const TYPO_MIN_SKELETON = 4;

export function skeletonOf(word: string): string | null {
  if (word.length < TYPO_MIN_LENGTH) return null;
  let out = `~${word[0]}`;
  let last = word.charCodeAt(0);
  for (let i = 1; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 97 || c > 122) return null;
    // a e i o u y
    if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121) continue;
    if (c === last) continue;
    out += word[i];
    last = c;
  }
  const c0 = word.charCodeAt(0);
  if (c0 < 97 || c0 > 122) return null;
  return out.length - 1 >= TYPO_MIN_SKELETON ? out : null;
}

/** Fixed prior for words every report uses. Below LSH_MIN_PRIOR a word is too generic to seed a band. */
const GENERIC_PRIOR: ReadonlyMap<string, number> = new Map(
  Object.entries({
    get: 0.3,
    param: 0.35,
    data: 0.3,
    result: 0.35,
    return: 0.3,
    response: 0.4,
    request: 0.4,
    information: 0.3,
    value: 0.5,
    field: 0.6,
    filter: 0.7,
    create: 0.6,
    update: 0.6,
    delete: 0.7,
    search: 0.7,
    new: 0.4,
    specific: 0.3,
    given: 0.3,
    work: 0.35,
    task: 0.3,
    user: 0.35,
    output: 0.5,
    input: 0.5,
    type: 0.5,
    manual: 0.35,
    workaround: 0.3,
    one: 0.3,
    time: 0.5,
    know: 0.3,
    see: 0.3,
    make: 0.3,
    includ: 0.4,
    method: 0.4,
    error: 0.6,
    ask: 0.3,
    help: 0.3,
    also: 0.3,
    well: 0.3,
    back: 0.3,
    come: 0.3,
    give: 0.3,
    set: 0.5,
    count: 0.7,
    sort: 0.7,
    paginate: 0.8,
  }),
);
const LSH_MIN_PRIOR = 0.5;

function prior(term: string): number {
  return GENERIC_PRIOR.get(term) ?? 1;
}

/** Tool names as agents send them: "mcp__billing__get_costs", "billing.get_costs", "getCosts" -> "getcosts". */
export function normaliseToolName(tool: string | null | undefined): string {
  if (tool === null || tool === undefined) return "";
  const last =
    tool
      .trim()
      .split(/__|[./:]/)
      .filter((s) => s.length > 0)
      .pop() ?? "";
  return last.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Verbs tool names start or carry ("list_builds", "getBuild"): what a tool does, not what it acts on. */
const TOOL_VERBS =
  /get|list|fetch|read|search|find|query|create|add|new|update|edit|set|patch|delete|remove|upsert|describe|show/g;
const RESOURCE_MEMO = new Map<string, string>();

/** A normalised tool name without its verbs and a plural "s": "cilistbuilds", "cigetbuild" -> "cibuild". */
export function toolResource(normalised: string): string {
  let r = RESOURCE_MEMO.get(normalised);
  if (r === undefined) {
    r = normalised.replace(TOOL_VERBS, "").replace(/(?:es|s)$/, "");
    if (RESOURCE_MEMO.size > 10_000) RESOURCE_MEMO.clear();
    RESOURCE_MEMO.set(normalised, r);
  }
  return r;
}

/**
 * Two normalised tool names that act on one resource with different verbs ("list_builds" and
 * "get_build"): a field's format or a missing piece of data shows up in both, so naming the other
 * one says less against a match than naming an unrelated tool.
 */
export function areSiblingTools(a: string, b: string): boolean {
  if (a === b) return true;
  const ra = toolResource(a);
  return ra.length >= 3 && ra === toolResource(b);
}

const FIELDS = ["what_i_needed", "suggestion", "what_i_tried", "user_goal"] as const;
type Field = (typeof FIELDS)[number];
/** Each text field analysed once (normalisation is most of a signature's cost). */
type FieldAnalyses = Readonly<Record<Field, TextAnalysis>>;

const EMPTY: TextAnalysis = { runs: [], slots: [] };

function fieldAnalyses(input: GroupingInput): FieldAnalyses {
  const of = (text: string | null | undefined) =>
    text === null || text === undefined || text === "" ? EMPTY : analyse(text);
  return {
    what_i_needed: of(input.what_i_needed),
    suggestion: of(input.suggestion),
    what_i_tried: of(input.what_i_tried),
    user_goal: of(input.user_goal),
  };
}

function fingerprintFrom(input: GroupingInput, fields: FieldAnalyses): string {
  const need = fields.what_i_needed.runs.map((r) => r.join(" ")).join(" ");
  return hash64([input.server_name, normaliseToolName(input.tool_name), input.gap_type, need].join("\u0001"));
}

export function fingerprintOf(input: GroupingInput): string {
  return fingerprintFrom(input, fieldAnalyses(input));
}

/** Accumulates summed field weights per term, with each term's fixed prior. */
class TermAccumulator {
  private readonly index = new Map<string, number>();
  private readonly sums: number[] = [];
  private readonly priors: number[] = [];
  private readonly terms: string[] = [];

  add(term: string, weight: number, p: number): void {
    const i = this.index.get(term);
    if (i !== undefined) {
      this.sums[i]! += weight;
      return;
    }
    this.index.set(term, this.terms.length);
    this.terms.push(term);
    this.sums.push(weight);
    this.priors.push(p);
  }

  /** sqrt(summed weight) * prior, heaviest MAX_TERMS kept (ties by term), sorted by term, L2-normalised. */
  vector(): TermVector {
    const order = this.terms.map((_, i) => i);
    const w = this.sums.map((x, i) => Math.sqrt(x) * this.priors[i]!);
    const t = this.terms;
    if (order.length > MAX_TERMS) {
      order.sort((a, b) => w[b]! - w[a]! || (t[a]! < t[b]! ? -1 : 1));
      order.length = MAX_TERMS;
    }
    order.sort((a, b) => (t[a]! < t[b]! ? -1 : t[a]! > t[b]! ? 1 : 0));
    let n = 0;
    for (const i of order) n += w[i]! * w[i]!;
    n = Math.sqrt(n);
    return order.map((i) => [t[i]!, n === 0 ? 0 : round(w[i]! / n)] as const);
  }
}

function termVectorFrom(fields: FieldAnalyses): TermVector {
  const acc = new TermAccumulator();
  for (const field of FIELDS) {
    const fw = FIELD_WEIGHTS[field];
    const { runs, slots } = fields[field];
    for (const run of runs) {
      let prev: string | null = null;
      let prevPrior = 1;
      for (const a of run) {
        if (isPlaceholder(a)) {
          prev = null;
          continue;
        }
        const pa = prior(a);
        acc.add(a, fw, pa);
        const skeleton = skeletonOf(a);
        if (skeleton !== null) acc.add(skeleton, fw * TYPO_WEIGHT, 1);
        if (prev !== null && prev !== a)
          acc.add(prev < a ? `${prev} ${a}` : `${a} ${prev}`, fw * BIGRAM_WEIGHT, Math.sqrt(prevPrior * pa));
        prev = a;
        prevPrior = pa;
      }
    }
    for (const s of slots) acc.add(SLOT_PREFIX + s, fw * SLOT_WEIGHT, 1);
  }
  return acc.vector();
}

export function termVectorOf(input: GroupingInput): TermVector {
  return termVectorFrom(fieldAnalyses(input));
}

/** The token set MinHash sees: distinct non-generic unigrams of the need and the suggestion. */
function lshSetFrom(fields: FieldAnalyses): string[] {
  const set = new Set<string>();
  const all = new Set<string>();
  for (const field of ["what_i_needed", "suggestion"] as const) {
    for (const run of fields[field].runs) {
      for (const t of run) {
        if (isPlaceholder(t)) continue;
        all.add(t);
        if (prior(t) >= LSH_MIN_PRIOR) set.add(t);
      }
    }
  }
  return [...(set.size > 0 ? set : all)].sort();
}

export function signatureOf(input: GroupingInput): ReportSignature {
  const fields = fieldAnalyses(input);
  const fingerprint = fingerprintFrom(input, fields);
  const bands = bandKeys(input.server_name, lshSetFrom(fields));
  // A need made only of placeholders and stopwords still finds its exact duplicates.
  if (bands.length === 0) bands.push(`${input.server_name}|fp|${fingerprint}`);
  return { fingerprint, bands, terms: termVectorFrom(fields) };
}
