/**
 * What REST, the CLI and the dashboard may send to create destinations and rules (zod at the
 * trust edge). Durations are seconds or `30s`/`15m`/`2h`/`7d`; a digest's window is `daily` or
 * `weekly` (1d or 7d).
 */
import { z } from "zod";
import { ALERT_RULE_KINDS } from "../store/index.js";

const DURATION = /^(\d+)\s*(s|m|h|d)?$/i;
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
export const DAY_S = 86_400;
export const WEEK_S = 7 * DAY_S;
export const MAX_WINDOW_S = 90 * DAY_S;

/** Seconds of `30s`, `15m`, `2h`, `7d`, a bare number of seconds, `daily` or `weekly`; undefined when not one. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const v = value.trim().toLowerCase();
  if (v === "daily") return DAY_S;
  if (v === "weekly") return WEEK_S;
  const m = DURATION.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_S[(m[2] ?? "s") as keyof typeof UNIT_S];
}

const duration = (field: string, min: number, max: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === undefined) {
      ctx.addIssue({ code: "custom", message: `${field} must be a duration such as 300, "30m", "2h" or "7d"` });
      return z.NEVER;
    }
    if (s < min || s > max) {
      ctx.addIssue({ code: "custom", message: `${field} must be from ${min} to ${max} seconds` });
      return z.NEVER;
    }
    return s;
  });

export const DEFAULT_COOLDOWN_S = 3600;

export const ruleInputSchema = z
  .strictObject(
    {
      kind: z.enum(ALERT_RULE_KINDS, {
        error: `kind must be one of ${ALERT_RULE_KINDS.join(", ")}`,
      }),
      destination_id: z
        .number({ error: "destination_id must be a number" })
        .int({ error: "destination_id must be a whole number" })
        .positive({ error: "destination_id must be positive" }),
      server_name: z
        .string({ error: "server_name must be a string" })
        .trim()
        .min(1, { error: "server_name must not be empty (leave it out for every server)" })
        .max(200, { error: "server_name must be at most 200 characters" })
        .nullish(),
      threshold: z.number({ error: "threshold must be a number" }).nullish(),
      window: duration("window", 60, MAX_WINDOW_S).nullish(),
      cooldown: duration("cooldown", 0, MAX_WINDOW_S).nullish(),
      min_reports: z
        .number({ error: "min_reports must be a number" })
        .int({ error: "min_reports must be a whole number" })
        .min(1, { error: "min_reports must be at least 1" })
        .max(1_000_000, { error: "min_reports must be at most 1000000" })
        .nullish(),
    },
    { error: 'the body must be a JSON object like {"kind": "new_gap", "destination_id": 1}' },
  )
  .superRefine((r, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    const t = r.threshold;
    if (r.kind === "sessions") {
      if (t === undefined || t === null)
        bad("threshold", "threshold (the number of distinct sessions) is required for a sessions rule");
      else if (!Number.isInteger(t) || t < 2 || t > 100_000)
        bad("threshold", "threshold must be a whole number of sessions from 2 to 100000");
    } else if (r.kind === "blocked_share") {
      if (t === undefined || t === null)
        bad("threshold", "threshold (a percentage) is required for a blocked_share rule");
      else if (t <= 0 || t > 100) bad("threshold", "threshold must be a percentage above 0 and at most 100");
    } else if (r.kind === "digest") {
      if (t !== undefined && t !== null && (!Number.isInteger(t) || t < 1 || t > 50))
        bad("threshold", "threshold (how many top gaps a digest lists) must be a whole number from 1 to 50");
      if (r.window !== undefined && r.window !== null && r.window !== DAY_S && r.window !== WEEK_S)
        bad("window", 'a digest\'s window must be "daily" or "weekly"');
    } else if (t !== undefined && t !== null) bad("threshold", `a ${r.kind} rule takes no threshold`);
    if (r.min_reports !== undefined && r.min_reports !== null && r.kind !== "blocked_share")
      bad("min_reports", "min_reports applies to blocked_share rules only");
  });
export type RuleInput = z.output<typeof ruleInputSchema>;

const urlField = z.string({ error: "url must be a string" }).trim().min(1, { error: "url is required" }).max(2048, {
  error: "url must be at most 2048 characters",
});
const name = z
  .string({ error: "name must be a string" })
  .trim()
  .min(1)
  .max(100, { error: "name must be at most 100 characters" })
  .nullish();
const email = z.email({ error: "each address must be an email address" });

export const destinationInputSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({ kind: z.literal("webhook"), url: urlField, name }),
    z.strictObject({ kind: z.literal("slack"), url: urlField, name }),
    z.strictObject({
      kind: z.literal("email"),
      url: urlField,
      name,
      from: email,
      to: z
        .array(email)
        .min(1, { error: "to must list at least one address" })
        .max(20, { error: "to must list at most 20 addresses" }),
      username: z.string({ error: "username must be a string" }).max(200).nullish(),
      password: z.string({ error: "password must be a string" }).max(1000).nullish(),
    }),
  ],
  { error: 'kind must be "webhook", "slack" or "email"' },
);
export type DestinationInput = z.output<typeof destinationInputSchema>;

export const deliveryStateSchema = z.enum(["pending", "delivered", "dead"], {
  error: "state must be pending, delivered or dead",
});
