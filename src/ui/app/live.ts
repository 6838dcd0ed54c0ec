/**
 * "New reports appear without a reload": while the tab is visible, ask the
 * server every few seconds for the most recently seen gap (GET
 * /api/gaps?sort=last_seen&limit=1, an indexed one-row read on the hot path)
 * and the grouping progress. Any report that is stored joins a gap and makes
 * it the most recently seen one (or bumps its count), and a backfill moves
 * `grouping.done` (and the grouping worker moves `grouping.assigned_upto`), so a change of that
 * small signature means "refresh".
 * The server has no push channel for reports; a poll this cheap needs none.
 */
import { getJson } from "./api.js";
import type { Gap, GroupingProgress } from "./types.js";

export const LIVE_INTERVAL_MS = 3000;

interface Answer {
  items: Gap[];
  grouping?: GroupingProgress;
}

const signatureOf = (a: Answer): string => {
  const g = a.items[0];
  return [g?.id, g?.reports, g?.last_seen, a.grouping?.mode, a.grouping?.done, a.grouping?.assigned_upto].join("|");
};

/** Calls `onChange` when the server's data changed since the previous check. Returns a stop function. */
export function watchForChanges(onChange: () => void, intervalMs = LIVE_INTERVAL_MS): () => void {
  let last: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let busy = false;

  const check = async () => {
    if (busy || stopped || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const sig = signatureOf(await getJson<Answer>("/api/gaps?sort=last_seen&limit=1", { promptOn401: false }));
      if (last !== undefined && sig !== last) onChange();
      last = sig;
    } catch {
      // Offline or no key yet: the views show their own errors; try again next tick.
    } finally {
      busy = false;
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      void check().finally(schedule);
    }, intervalMs);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible") void check().finally(schedule);
  };
  document.addEventListener("visibilitychange", onVisible);
  void check().finally(schedule);
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}
