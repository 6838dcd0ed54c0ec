/**
 * What an alert says, and how each destination renders it. An alert carries a gap's title
 * (agent-written: truncated, and escaped for the destination), its counts, score and a link:
 * never more agent text than that. Slack gets Block Kit with every agent-written string
 * defused, so a title cannot add a link or a mention.
 */
export const TITLE_MAX = 120;

export type AlertKind =
  | "new_gap"
  | "sessions"
  | "regression"
  | "blocked_share"
  | "digest"
  | "automatic_action"
  | "test";

export interface AlertGap {
  id: number;
  server_name: string;
  /** Agent-written (a report's words) unless a human or the analysis renamed it. Truncated. */
  title: string;
  status: string;
  reports: number;
  sessions: number;
  blocked_share: number;
  score: number;
  url: string;
}

export interface AlertPayload {
  type: AlertKind;
  /** Stable per event: the webhook-id (receivers drop duplicates by it). */
  id: string;
  rule_id: number | null;
  created_at: string;
  /** One sentence we wrote (no agent text). */
  summary: string;
  gap: AlertGap | null;
  /** A digest's gaps, best first. */
  gaps?: AlertGap[];
  /** Figures the rule looked at (sessions in the window, the threshold…). */
  facts?: Record<string, number | string>;
}

/** At most TITLE_MAX characters (code points, never half a surrogate pair), one line. */
export function truncateTitle(title: string): string {
  const flat = title.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  const chars = Array.from(flat);
  return chars.length <= TITLE_MAX ? flat : `${chars.slice(0, TITLE_MAX - 1).join("")}…`;
}

/**
 * Slack text an agent wrote, made inert: `&`, `<`, `>` escaped as Slack asks (so `<!channel>`
 * and `<http://x|y>` are text), `@` followed by a word joiner (no `@here`/`@channel`/`@user`),
 * and `://`, `www.` and dots between letters broken the same way so nothing becomes a link.
 */
export function slackEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@/g, "@\u2060")
    .replace(/:\/\//g, ":\u2060//")
    .replace(/([\p{L}\p{N}])\.(?=[\p{L}\p{N}])/gu, "$1.\u2060")
    .replace(/([*_~`])/g, "\u2060$1\u2060");
}

const pct = (share: number) => `${Math.round(share * 100)}%`;

function gapLine(g: AlertGap): string {
  return `${g.reports} reports, ${g.sessions} sessions, ${pct(g.blocked_share)} blocked, score ${g.score.toFixed(1)}`;
}

/** Block Kit for a Slack incoming webhook. Our own words are mrkdwn; agent words are escaped. */
export function slackMessage(alert: AlertPayload): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${slackEscape(alert.summary)}*` } },
  ];
  const gaps = alert.gaps ?? (alert.gap ? [alert.gap] : []);
  for (const g of gaps) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${slackEscape(g.title)}*\n${slackEscape(g.server_name)} · ${gapLine(g)}\n<${g.url}|Open gap ${g.id}>`,
      },
    });
  }
  // `text` is the notification's fallback; Slack parses it too.
  return { text: slackEscape(alert.summary), blocks };
}

/** A plain-text email (no HTML: nothing in it can be markup). */
export function emailMessage(alert: AlertPayload): { subject: string; text: string } {
  const gaps = alert.gaps ?? (alert.gap ? [alert.gap] : []);
  const lines = [alert.summary, ""];
  for (const g of gaps) lines.push(`${g.title}`, `  ${g.server_name}: ${gapLine(g)}`, `  ${g.url}`, "");
  return { subject: `[patchworkmcp] ${truncateTitle(alert.summary)}`, text: lines.join("\n") };
}
