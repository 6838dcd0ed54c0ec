/** Picking what a reviewer sees first: the representative report and the suggestions most agents made. */
import type { TermVector } from "./grouping-contract.js";
import { tokens } from "./normalise.js";
import { addInto, cosine, prune } from "./vector.js";

/** The member closest (cosine) to the members' centroid; ties go to the lowest id. `null` when empty. */
export function medoid<Id extends string | number>(members: readonly { id: Id; terms: TermVector }[]): Id | null {
  if (members.length === 0) return null;
  const acc = new Map<string, number>();
  for (const m of members) addInto(acc, m.terms);
  const centroid = prune(acc, Number.MAX_SAFE_INTEGER);
  let best: { id: Id; score: number } | null = null;
  for (const m of members) {
    const s = cosine(m.terms, centroid);
    if (best === null || s > best.score + 1e-12 || (Math.abs(s - best.score) <= 1e-12 && m.id < best.id)) {
      best = { id: m.id, score: s };
    }
  }
  return best === null ? null : best.id;
}

export interface SuggestionGroup<Id> {
  /** The shortest wording in the group (ties: first seen). */
  text: string;
  count: number;
  ids: Id[];
}

/** Jaccard over normalised tokens at or above which two suggestions say the same thing. */
export const SAME_SUGGESTION = 0.7;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Collapse near-identical suggestions (same words up to ids, numbers, inflection, order) and rank them by count. */
export function topSuggestions<Id extends string | number>(
  items: readonly { id: Id; suggestion: string | null }[],
  limit = 5,
): SuggestionGroup<Id>[] {
  const groups: { words: Set<string>; group: SuggestionGroup<Id> }[] = [];
  for (const item of items) {
    const text = item.suggestion?.trim() ?? "";
    if (text === "") continue;
    const words = new Set(tokens(text));
    const home = groups.find((g) => jaccard(g.words, words) >= SAME_SUGGESTION);
    if (home === undefined) {
      groups.push({ words, group: { text, count: 1, ids: [item.id] } });
    } else {
      home.group.count++;
      home.group.ids.push(item.id);
      if (text.length < home.group.text.length) home.group.text = text;
    }
  }
  return groups
    .map((g) => g.group)
    .sort((a, b) => b.count - a.count || (a.ids[0]! < b.ids[0]! ? -1 : 1))
    .slice(0, limit);
}
