/**
 * GET /api/gaps pages as JSON, cached per store. What a page lists (its rows,
 * their analyses, the cursor and the grouping progress) depends only on what
 * the database holds, so it is kept, serialised, under the parsed query until
 * `store.gaps.changeStamp()` moves — any commit by any connection: new reports,
 * edits, merges, splits, moves, regroups, analyses. The score also depends on
 * the time (its recency factor), so it is never cached: every answer computes
 * each gap's score and formula afresh from the cached counts at that instant,
 * and is exactly the JSON an uncached read at the same instant would give.
 * The order stays exact too: the rank key a page is sorted by does not change
 * with time (src/gaps/score.ts).
 */
import { scoreOf } from "../gaps/score.js";
import type { FeedbackStore, Gap, GapListQuery } from "../store/index.js";

/** Distinct queries kept between two writes (the dashboard's views and their next pages). */
const MAX_ENTRIES = 64;

interface CachedItem {
  /** The gap's JSON up to (without) its score, score_explain, analysis and issue, and without the closing brace. */
  head: string;
  /** `,"analysis":…,"issue":…}` */
  tail: string;
  gap: Gap;
}

interface CachedPage {
  items: CachedItem[];
  /** `],"nextCursor":…,"grouping":…}` */
  end: string;
}

class GapListCache {
  private stamp = "";
  private readonly pages = new Map<string, CachedPage>();

  constructor(private readonly store: FeedbackStore) {}

  json(query: GapListQuery, now: number): string {
    const stamp = this.store.gaps.changeStamp();
    if (stamp !== this.stamp) {
      this.pages.clear();
      this.stamp = stamp;
    }
    const key = JSON.stringify(query);
    let page = this.pages.get(key);
    if (page) {
      // Most recently used last, so the oldest goes first when full.
      this.pages.delete(key);
    } else {
      page = this.read(query);
      if (this.pages.size >= MAX_ENTRIES) this.pages.delete(this.pages.keys().next().value!);
    }
    this.pages.set(key, page);
    let out = '{"items":[';
    for (let i = 0; i < page.items.length; i++) {
      const { head, tail, gap } = page.items[i]!;
      const { score, score_explain } = scoreOf(gap, now);
      out += `${i === 0 ? "" : ","}${head},"score":${JSON.stringify(score)},"score_explain":${JSON.stringify(score_explain)}${tail}`;
    }
    return out + page.end;
  }

  private read(query: GapListQuery): CachedPage {
    const { sort, limit, cursor, ...filter } = query;
    const { items, nextCursor } = this.store.gaps.listGaps(filter, { sort, limit, cursor });
    return {
      items: items.map((gap) => {
        const { score: _score, score_explain: _explain, analysis, issue, ...rest } = gap;
        return {
          head: JSON.stringify(rest).slice(0, -1),
          tail: `,"analysis":${JSON.stringify(analysis)},"issue":${JSON.stringify(issue)}}`,
          gap,
        };
      }),
      end: `],"nextCursor":${JSON.stringify(nextCursor)},"grouping":${JSON.stringify(this.store.gaps.progress())}}`,
    };
  }
}

const caches = new WeakMap<FeedbackStore, GapListCache>();

/**
 * One page of GET /api/gaps as response JSON: `{items, nextCursor, grouping}`,
 * scored at `now`. Throws the store's StoreError for a bad cursor.
 */
export function cachedGapListJson(store: FeedbackStore, query: GapListQuery, now = Date.now()): string {
  let cache = caches.get(store);
  if (!cache) {
    cache = new GapListCache(store);
    caches.set(store, cache);
  }
  return cache.json(query, now);
}
