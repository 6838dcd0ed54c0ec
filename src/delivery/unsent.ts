/**
 * The "unsent feedback" line: what a drop-in (or the proxy's outbox) writes
 * when a report cannot be delivered, and what `patchworkmcp replay` reads.
 *
 *   PATCHWORKMCP_UNSENT_FEEDBACK {"what_i_needed":…,"idempotency_key":"…"}
 *
 * The marker may appear anywhere in a line (log prefixes are common); the JSON
 * object runs to the end of the line.
 */
import { createHash } from "node:crypto";

export const UNSENT_MARKER = "PATCHWORKMCP_UNSENT_FEEDBACK";

export function formatUnsentLine(payload: Record<string, unknown>): string {
  return `${UNSENT_MARKER} ${JSON.stringify(payload)}`;
}

export interface UnsentEntry {
  /** 1-based line number in the source. */
  line: number;
  payload: Record<string, unknown>;
  /** The payload's own idempotency_key, or a hash of its JSON so a replay of the same line is idempotent. */
  idempotencyKey: string;
}

export interface UnsentParseError {
  line: number;
  message: string;
}

export function parseUnsentLines(text: string): { entries: UnsentEntry[]; errors: UnsentParseError[] } {
  const entries: UnsentEntry[] = [];
  const errors: UnsentParseError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const at = raw.indexOf(UNSENT_MARKER);
    if (at === -1) return;
    const json = raw.slice(at + UNSENT_MARKER.length).trim();
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      errors.push({ line: index + 1, message: "the text after the marker is not valid JSON" });
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      errors.push({ line: index + 1, message: "the text after the marker is not a JSON object" });
      return;
    }
    const payload = value as Record<string, unknown>;
    const own = payload.idempotency_key;
    const idempotencyKey =
      typeof own === "string" && own.length > 0 && own.length <= 200
        ? own
        : `replay-${createHash("sha256").update(json).digest("hex").slice(0, 32)}`;
    entries.push({ line: index + 1, payload, idempotencyKey });
  });
  return { entries, errors };
}
