/**
 * The autonomy ladder, per server: `suggest` (the default: nothing automatic),
 * `draft` (draft PRs on demand, from a report or a gap) and `auto_draft` (the
 * autonomy worker opens a draft PR by itself when a gap crosses the thresholds,
 * within the guardrails below). Never auto-merge. One zod schema defines what
 * is stored, what `PUT /api/servers/:name/autonomy` accepts and the defaults.
 */
import { isAbsolute } from "node:path";
import { z } from "zod";
import { autonomyOf, type FeedbackStore } from "../store/index.js";
import { pathPatternSchema } from "./schema.js";

export const AUTONOMY_LEVELS = ["suggest", "draft", "auto_draft"] as const;
export type AutonomyLevel = (typeof AUTONOMY_LEVELS)[number];

export const AUTONOMY_DEFAULTS = {
  level: "suggest",
  min_sessions: 3,
  min_blocked_share: 0,
  min_score: 0,
  max_drafts_per_day: 1,
  confidence_threshold: 0.8,
  max_files: 5,
  max_changed_lines: 200,
  allowed_paths: [] as string[],
  verification: { checkout: null, command: null, timeout_ms: 300_000 },
  rollback_on_failure: false,
} as const;

const int = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

const share = (name: string) =>
  z
    .number({ error: `${name} must be a number from 0 to 1` })
    .min(0, { error: `${name} must be at least 0` })
    .max(1, { error: `${name} must be at most 1` });

const verificationPatchSchema = z.strictObject(
  {
    checkout: z
      .string({ error: "verification.checkout must be an absolute path, or null" })
      .trim()
      .min(1, { error: "verification.checkout must not be empty (send null to clear it)" })
      .max(1000)
      .refine((p) => isAbsolute(p), { error: "verification.checkout must be an absolute path" })
      .nullable()
      .optional(),
    command: z
      .string({ error: "verification.command must be a string, or null" })
      .trim()
      .min(1, { error: "verification.command must not be empty (send null to clear it)" })
      .max(2000, { error: "verification.command must be at most 2000 characters" })
      .refine((c) => !/[\u0000\n\r]/.test(c), { error: "verification.command must be one line" })
      .nullable()
      .optional(),
    timeout_ms: int("verification.timeout_ms", 1000, 3_600_000).optional(),
  },
  { error: "verification must be an object {checkout?, command?, timeout_ms?}" },
);

const AUTONOMY_KEYS = [
  "level",
  "min_sessions",
  "min_blocked_share",
  "min_score",
  "max_drafts_per_day",
  "confidence_threshold",
  "max_files",
  "max_changed_lines",
  "allowed_paths",
  "verification",
  "rollback_on_failure",
];

/** `PUT /api/servers/:name/autonomy` and `patchworkmcp autonomy set`: absent keeps, a value replaces. */
export const autonomyPatchSchema = z.strictObject(
  {
    level: z.enum(AUTONOMY_LEVELS, { error: `level must be one of: ${AUTONOMY_LEVELS.join(", ")}` }).optional(),
    min_sessions: int("min_sessions", 1, 1_000_000).optional(),
    min_blocked_share: share("min_blocked_share").optional(),
    min_score: z
      .number({ error: "min_score must be a number" })
      .min(0, { error: "min_score must be at least 0" })
      .max(1e9)
      .optional(),
    max_drafts_per_day: int("max_drafts_per_day", 0, 100).optional(),
    confidence_threshold: share("confidence_threshold").optional(),
    max_files: int("max_files", 1, 20).optional(),
    max_changed_lines: int("max_changed_lines", 1, 100_000).optional(),
    allowed_paths: z
      .array(pathPatternSchema, { error: "allowed_paths must be an array of path globs" })
      .max(50)
      .optional(),
    verification: verificationPatchSchema.optional(),
    rollback_on_failure: z.boolean({ error: "rollback_on_failure must be true or false" }).optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown setting${issue.keys.length === 1 ? "" : "s"} ${issue.keys.join(", ")} (known: ${AUTONOMY_KEYS.join(", ")})`
        : "the body must be a JSON object",
  },
);
export type AutonomyPatch = z.output<typeof autonomyPatchSchema>;

/** A server's autonomy as in effect (defaults filled in). */
export interface AutonomyConfig {
  level: AutonomyLevel;
  min_sessions: number;
  min_blocked_share: number;
  min_score: number;
  max_drafts_per_day: number;
  confidence_threshold: number;
  max_files: number;
  max_changed_lines: number;
  allowed_paths: string[];
  verification: { checkout: string | null; command: string | null; timeout_ms: number };
  rollback_on_failure: boolean;
}

export function defaultAutonomy(): AutonomyConfig {
  return {
    ...AUTONOMY_DEFAULTS,
    allowed_paths: [],
    verification: { ...AUTONOMY_DEFAULTS.verification },
  };
}

/** Apply a patch to a config (a stored document is read as a patch on the defaults, so a bad one cannot break reads). */
export function applyAutonomyPatch(base: AutonomyConfig, patch: AutonomyPatch): AutonomyConfig {
  const next: AutonomyConfig = {
    ...base,
    allowed_paths: [...base.allowed_paths],
    verification: { ...base.verification },
  };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || k === "verification") continue;
    (next as unknown as Record<string, unknown>)[k] = v;
  }
  if (patch.verification) {
    for (const [k, v] of Object.entries(patch.verification))
      if (v !== undefined) (next.verification as Record<string, unknown>)[k] = v;
  }
  return next;
}

/** A stored config document back to a config: what does not parse falls back to the default. */
export function parseStoredAutonomy(level: string, raw: unknown): AutonomyConfig {
  const parsed = autonomyPatchSchema.safeParse({ ...(raw && typeof raw === "object" ? raw : {}), level });
  return parsed.success ? applyAutonomyPatch(defaultAutonomy(), parsed.data) : defaultAutonomy();
}

/** The config as stored (everything but the level, which has its own column). */
export function storedAutonomyDocument(config: AutonomyConfig): Record<string, unknown> {
  const { level: _level, ...rest } = config;
  return rest;
}

/** A server's autonomy as in effect, and when it was last changed (null: never, the defaults). */
export function autonomyFor(store: FeedbackStore, server: string): AutonomyConfig & { updated_at: string | null } {
  const row = autonomyOf(store).server(server);
  return row
    ? { ...parseStoredAutonomy(row.level, row.config), updated_at: row.updated_at }
    : { ...defaultAutonomy(), updated_at: null };
}

/** Every server that left the defaults. */
export function listAutonomy(store: FeedbackStore): (AutonomyConfig & { server_name: string; updated_at: string })[] {
  return autonomyOf(store)
    .servers()
    .map((r) => ({ server_name: r.server_name, ...parseStoredAutonomy(r.level, r.config), updated_at: r.updated_at }));
}

/** Apply a patch to a server's autonomy and save it. */
export function updateAutonomy(store: FeedbackStore, server: string, patch: AutonomyPatch): AutonomyConfig {
  const { updated_at: _at, ...current } = autonomyFor(store, server);
  const next = applyAutonomyPatch(current, patch);
  autonomyOf(store).putServer(server, next.level, storedAutonomyDocument(next));
  return next;
}
