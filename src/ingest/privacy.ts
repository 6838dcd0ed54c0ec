/**
 * Which privacy mode applies to a report: the server's own override, else the process default
 * (`serve --privacy` / FEEDBACK_PRIVACY), else the saved default, else `secrets+pii`
 * (src/privacy/modes.ts). The saved setting is read once per ingest batch, so a change made
 * through REST or the CLI, by this process or another on the same database, applies to the
 * next batch.
 */
import type { CallBatch } from "../analytics/index.js";
import type { Redaction } from "../feedback/index.js";
import {
  PRIVACY_SETTING_KEY,
  type PrivacyMode,
  parsePrivacySettings,
  resolvePrivacyMode,
  scrubJson,
  scrubReport,
} from "../privacy/index.js";
import { type FeedbackStore, type InsertResult, type NewReport, readSetting } from "../store/index.js";

export class PrivacyPolicy {
  constructor(
    private readonly store: FeedbackStore,
    /** `serve --privacy` / FEEDBACK_PRIVACY; undefined: the saved default applies. */
    readonly processDefault?: PrivacyMode,
  ) {}

  /** A resolver for one batch: the saved setting is read now, once. */
  modes(): (serverName: string) => PrivacyMode {
    const settings = parsePrivacySettings(readSetting(this.store, PRIVACY_SETTING_KEY));
    return (serverName) => resolvePrivacyMode(settings, serverName, this.processDefault).mode;
  }

  /** Scrub reports for their servers' modes (one read of the setting for all of them). */
  scrub(items: readonly NewReport[]): NewReport[] {
    const modeOf = this.modes();
    return items.map((item) => {
      const { payload, redactions } = scrubReport(item.payload, modeOf(item.payload.server_name));
      return { payload, idempotencyKey: item.idempotencyKey, redactions };
    });
  }

  /**
   * Recorded call arguments (`proxy --record-arguments`) scrubbed for their servers' modes, like
   * report text; events without arguments and rollups pass unchanged.
   */
  scrubCalls(batch: CallBatch): CallBatch {
    if (!batch.calls.some((c) => c.arguments !== null)) return batch;
    const modeOf = this.modes();
    return {
      calls: batch.calls.map((c) =>
        c.arguments === null ? c : { ...c, arguments: scrubJson(c.arguments, modeOf(c.server_name)).value },
      ),
      rollups: batch.rollups,
    };
  }
}

/** What storing a report answers: the store's result and what scrubbing replaced. */
export type ScrubbedInsert = InsertResult & { redactions: Redaction[] };

/**
 * Scrub reports for their servers' modes, then store them in one transaction: the one door into
 * the reports table (the ingest queue, its writer thread, the MCP servers, the proxy's `--db`).
 */
export function insertScrubbed(
  store: FeedbackStore,
  policy: PrivacyPolicy,
  items: readonly NewReport[],
): ScrubbedInsert[] {
  const scrubbed = policy.scrub(items);
  return store
    .insertMany(scrubbed)
    .map((result, i) => ({ ...result, redactions: [...(scrubbed[i]!.redactions ?? [])] }));
}
