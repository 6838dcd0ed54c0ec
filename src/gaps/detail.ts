/** One gap with everything its page shows: reports (paged), timeline, history, suggestions, tools, mix, notes, drafts. */
import { autonomyOf, type FeedbackStore, type GapDetail } from "../store/index.js";

export const GAP_TIMELINE_DAYS = 30;

export function gapDetail(
  store: FeedbackStore,
  id: number,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): GapDetail | undefined {
  // One snapshot: the worker writes a suggestion and its history entry together; reading them
  // apart could show one without the other.
  return store.db.snapshot(() => {
    const gap = store.gaps.getGap(id);
    if (!gap) return undefined;
    const g = store.gaps;
    return {
      ...gap,
      reports_page: store.listReports({ gap_id: id }, page),
      timeline: g.timeline(id, GAP_TIMELINE_DAYS),
      history: g.listHistory(id),
      top_suggestions: g.suggestions(id, 5),
      tools: g.facets(id, "t").map((f) => ({ tool_name: f.value === "" ? null : f.value, count: f.count })),
      clients_seen: g.facets(id, "c").map((f) => ({ client_type: f.value, count: f.count })),
      models_seen: g.facets(id, "m").map((f) => ({ agent_model: f.value, count: f.count })),
      resolution_mix: g.resolutionMix(id),
      notes: g.notesOf(id),
      drafts: g.draftsOf(id),
      suggestions: autonomyOf(store).suggestionsOf(id),
      open_draft_id: autonomyOf(store).openDraftOf(id)?.id ?? null,
    };
  });
}
