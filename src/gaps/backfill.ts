/**
 * The grouping pass in the background of a long-running process (`serve`):
 * one batch per turn of the event loop, so ingestion and reads keep being
 * answered while an existing database is grouped. Resumable: every batch
 * commits its watermark, so a restart (or a kill) continues where it stopped.
 */
import type { FeedbackStore, GroupingProgress } from "../store/index.js";

export const DEFAULT_REGROUP_BATCH = 2000;

export interface BackgroundPass {
  /** Resolves when the pass is finished or stopped. */
  done: Promise<GroupingProgress | undefined>;
  stop(): void;
}

export function groupInBackground(
  store: FeedbackStore,
  options: { batchSize?: number; log?: (line: string) => void } = {},
): BackgroundPass {
  let stopped = false;
  let lastLogged = 0;
  const done = new Promise<GroupingProgress | undefined>((resolve) => {
    const turn = (): void => {
      if (stopped || !store.db.open) {
        resolve(undefined);
        return;
      }
      let p: GroupingProgress;
      try {
        // Term counts an upgrade left to fill (migration 7) come first: the pass's choices read them.
        if (store.gaps.fillTermCounts(options.batchSize ?? DEFAULT_REGROUP_BATCH)) {
          setImmediate(turn);
          return;
        }
        if (store.gaps.progress().mode === "idle") {
          resolve(undefined);
          return;
        }
        p = store.gaps.step(options.batchSize ?? DEFAULT_REGROUP_BATCH);
      } catch (err) {
        // Busy (another process holds the write lock): try again on a later turn.
        if (err instanceof Error && /SQLITE_BUSY/.test(String((err as { code?: unknown }).code))) {
          setTimeout(turn, 100).unref();
          return;
        }
        options.log?.(`patchworkmcp: grouping pass stopped: ${err instanceof Error ? err.message : String(err)}`);
        resolve(undefined);
        return;
      }
      if (p.mode === "idle") {
        options.log?.(`patchworkmcp: grouping pass finished (${p.done} reports)`);
        resolve(p);
        return;
      }
      if (Date.now() - lastLogged > 5000) {
        lastLogged = Date.now();
        options.log?.(`patchworkmcp: grouping ${p.mode}: ${p.done} of ${p.total} reports`);
      }
      setImmediate(turn);
    };
    if (store.gaps.progress().mode === "idle" && !store.gaps.termCountsPending()) resolve(undefined);
    else setImmediate(turn);
  });
  return {
    done,
    stop() {
      stopped = true;
    },
  };
}
