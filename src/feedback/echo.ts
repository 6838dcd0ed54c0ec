/**
 * The known-gap echo: when a report joins a gap the developers marked planned,
 * fixed or wontfix, or gave an agent note, `POST /api/feedback` answers with
 * `gap: {id, status, reports, agent_note}` and every surface appends ONE
 * sentence to its "recorded" reply telling the agent this is known and what to
 * do now. The wording lives here only; drop-ins/spec/echo.json carries vectors
 * so each drop-in reproduces it byte for byte. Only admin-written text (the
 * note) is echoed, never another agent's words.
 */
import { z } from "zod";
import { FEEDBACK_REPLIES } from "./tool.js";

/**
 * What `POST /api/feedback` returns as `gap`. Parsed with this schema where a
 * client reads a sidecar's answer (a trust edge); `agent_note` is written by
 * an admin of this server, null or absent when there is none.
 */
export const knownGapSchema = z.object({
  id: z.number().int().positive(),
  status: z.string().min(1).max(40),
  reports: z.number().int().nonnegative(),
  agent_note: z.string().nullish(),
});
export type KnownGap = z.infer<typeof knownGapSchema>;

/** The `gap` of a sidecar's answer, when there is one and it has the shape above; otherwise undefined (no echo). */
export function knownGapOf(body: unknown): KnownGap | undefined {
  if (typeof body !== "object" || body === null || !("gap" in body)) return undefined;
  const parsed = knownGapSchema.safeParse(body.gap);
  return parsed.success ? parsed.data : undefined;
}

/** What to do now, per gap status. A status not listed here gets no advice, only the facts. */
export const KNOWN_GAP_ADVICE: Readonly<Record<string, string>> = {
  planned: "the developers plan to build it, so work around it for now",
  fixed: "the developers marked it fixed, so a newer version of this server should do it; work around it for now",
  wontfix: "the developers decided not to build it, so find another way",
};

/** `This is a known gap (planned, 14 reports): <advice>. Note from the developers: <note>` */
export function knownGapSentence(gap: KnownGap): string {
  const count = `${gap.reports} report${gap.reports === 1 ? "" : "s"}`;
  const advice = Object.hasOwn(KNOWN_GAP_ADVICE, gap.status) ? `: ${KNOWN_GAP_ADVICE[gap.status]}` : "";
  const note = typeof gap.agent_note === "string" ? gap.agent_note.trim() : "";
  return `This is a known gap (${gap.status}, ${count})${advice}.${note ? ` Note from the developers: ${note}` : ""}`;
}

/** The whole reply for a recorded report, with the echo when the answer carried a gap. */
export function recordedReply(id: number | string, gap?: KnownGap | null): string {
  return gap ? `${FEEDBACK_REPLIES.recorded(id)} ${knownGapSentence(gap)}` : FEEDBACK_REPLIES.recorded(id);
}
