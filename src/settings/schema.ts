/**
 * The shapes of draft-PR settings: what is saved (non-secret, in SQLite), what
 * `PUT /api/settings` accepts, and the secrets (kept only in `.env`).
 */
import { z } from "zod";
import { envValueProblem } from "./env-file.js";

export const LLM_PROVIDERS = ["anthropic", "openai"] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

/** Sensible defaults (checked against the SDKs' model lists, Nov 2026); override per install. */
export const DEFAULT_MODELS: Record<LlmProvider, string> = {
  anthropic: "claude-sonnet-4-6",
  openai: "gpt-5.4",
};

/** Secrets and endpoints: settings API name → environment variable / .env key. */
export const SECRET_ENV = {
  github_token: "GITHUB_TOKEN",
  anthropic_api_key: "ANTHROPIC_API_KEY",
  openai_api_key: "OPENAI_API_KEY",
  github_api_url: "GITHUB_API_URL",
  anthropic_base_url: "ANTHROPIC_BASE_URL",
  openai_base_url: "OPENAI_BASE_URL",
} as const;
export type SecretName = keyof typeof SECRET_ENV;
export const SECRET_NAMES = Object.keys(SECRET_ENV) as SecretName[];
export const URL_SECRETS: ReadonlySet<SecretName> = new Set([
  "github_api_url",
  "anthropic_base_url",
  "openai_base_url",
]);

/** Where the key for each endpoint belongs (for the message refusing credentials in its URL). */
const KEY_FOR_URL: Partial<Record<SecretName, SecretName>> = {
  github_api_url: "github_token",
  anthropic_base_url: "anthropic_api_key",
  openai_base_url: "openai_api_key",
};

/**
 * Base URLs may not carry credentials (`http://user:pw@host/v1`): fetch refuses
 * such URLs, so they would never reach the server, and a password in a URL
 * ends up in logs. The key has its own setting; a proxy that wants Basic auth
 * can take the key as its bearer token instead.
 */
export function urlCredentialsProblem(name: SecretName, url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.username && !u.password) return undefined;
  const key = KEY_FOR_URL[name];
  return `must not contain credentials (user:password@): remove them${key ? ` and set ${key} (${SECRET_ENV[key]}) instead` : ""}`;
}

/** Environment variables for the non-secret settings (they override saved values, like every env var here). */
export const SETTINGS_ENV = {
  provider: "PATCHWORKMCP_LLM_PROVIDER",
  model: "PATCHWORKMCP_LLM_MODEL",
  context_tokens: "PATCHWORKMCP_LLM_CONTEXT_TOKENS",
  repo: "PATCHWORKMCP_GITHUB_REPO",
  base_branch: "PATCHWORKMCP_BASE_BRANCH",
  gap_analysis: "PATCHWORKMCP_GAP_ANALYSIS",
  refresh_after_reports: "PATCHWORKMCP_GAP_ANALYSIS_REFRESH_AFTER",
  auto_at_reports: "PATCHWORKMCP_GAP_ANALYSIS_AUTO_AT",
} as const;

/** Gap analysis is off until someone turns it on: it spends LLM tokens. */
export const GAP_ANALYSIS_DEFAULTS = { enabled: false, refresh_after_reports: 5, auto_at_reports: null } as const;

export const refreshAfterSchema = z
  .number({ error: "refresh_after_reports must be a number" })
  .int({ error: "refresh_after_reports must be a whole number" })
  .min(1, { error: "refresh_after_reports must be at least 1" })
  .max(1_000_000, { error: "refresh_after_reports must be at most 1000000" });

export const autoAtSchema = z
  .number({ error: "auto_at_reports must be a number, or null to turn automatic analysis off" })
  .int({ error: "auto_at_reports must be a whole number" })
  .min(1, { error: "auto_at_reports must be at least 1" })
  .max(1_000_000, { error: "auto_at_reports must be at most 1000000" });

export const repoNameSchema = z
  .string({ error: "repo must be a string like owner/name" })
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, { error: "repo must look like owner/name" })
  .refine((s) => !s.split("/").some((p) => p === "." || p === ".."), { error: "repo must look like owner/name" });

/** A conservative subset of git's ref-name rules. */
export const branchNameSchema = z
  .string({ error: "base_branch must be a string" })
  .trim()
  .min(1, { error: "base_branch must not be empty" })
  .max(200, { error: "base_branch must be at most 200 characters" })
  .regex(/^[A-Za-z0-9._\-/]+$/, { error: "base_branch may contain letters, digits, . _ - and /" })
  .refine(
    (s) => !s.includes("..") && !s.startsWith("/") && !s.endsWith("/") && !s.endsWith(".lock") && !s.includes("//"),
    {
      error: "base_branch is not a valid git branch name",
    },
  );

export const repoTargetSchema = z.strictObject(
  {
    repo: repoNameSchema,
    base_branch: branchNameSchema
      .nullable()
      .optional()
      .transform((v) => v ?? null),
  },
  { error: "a repo target is an object {repo, base_branch?}" },
);
export type RepoTarget = z.output<typeof repoTargetSchema>;

const serverNameSchema = z.string().trim().min(1, { error: "server names must not be empty" }).max(200);

/**
 * A JSON object keyed by agent-chosen text (server names), read into a
 * null-prototype object: a server called `__proto__`, `constructor` or
 * `toString` is just a name, never a property every object inherits
 * (z.record would drop `__proto__`, and `obj[name]` would find Object.prototype).
 */
export function ownRecord<V extends z.ZodType>(value: V, what: string) {
  return z
    .preprocess(
      (v) => (v !== null && typeof v === "object" && !Array.isArray(v) ? new Map(Object.entries(v)) : v),
      z.map(serverNameSchema, value, { error: `${what} must be a JSON object keyed by server name` }),
    )
    .transform((map) => {
      const out: Record<string, z.output<V>> = Object.create(null);
      for (const [k, v] of map) out[k] = v;
      return out;
    });
}

/** A lookup in a record keyed by agent text: own properties only. */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Path patterns: `*` within a segment, `**` across segments (e.g. `.github/workflows/**`). */
export const pathPatternSchema = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine((s) => !s.startsWith("/") && !s.split("/").includes(".."), {
    error: "patterns are repo-relative, without ..",
  });

export const contextTokensSchema = z
  .number({ error: "context_tokens must be a number" })
  .int({ error: "context_tokens must be a whole number" })
  .min(4000, { error: "context_tokens must be at least 4000" })
  .max(2_000_000, { error: "context_tokens must be at most 2000000" });

const modelSchema = z
  .string()
  .trim()
  .min(1, { error: "model must not be empty" })
  .max(200)
  .regex(/^[^\s]+$/, { error: "model must not contain spaces" });

/** What is saved in SQLite (no secrets). */
export const storedSettingsSchema = z.object({
  servers: ownRecord(repoTargetSchema, "servers").catch(() => Object.create(null)),
  default: repoTargetSchema.nullable().catch(null),
  llm: z
    .object({
      provider: z.enum(LLM_PROVIDERS).nullable().catch(null),
      model: z.string().nullable().catch(null),
      context_tokens: z.number().int().nullable().catch(null),
    })
    .catch({ provider: null, model: null, context_tokens: null }),
  allowed_sensitive_paths: z.array(z.string()).catch([]),
  gap_analysis: z
    .object({
      enabled: z.boolean().nullable().catch(null),
      refresh_after_reports: z.number().int().min(1).nullable().catch(null),
      auto_at_reports: z.number().int().min(1).nullable().catch(null),
    })
    .catch({ enabled: null, refresh_after_reports: null, auto_at_reports: null }),
});
export type StoredSettings = z.output<typeof storedSettingsSchema>;

/** Fresh empty settings (every catch() above yields its empty value). */
export const emptySettings = (): StoredSettings => storedSettingsSchema.parse({});

const secretValueSchema = (name: SecretName) =>
  z
    .string({ error: `${name} must be a string, or null to clear it` })
    .trim()
    .min(1, { error: `${name} must not be empty (send null to clear it)` })
    .superRefine((v, ctx) => {
      const problem = envValueProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: `${name} ${problem}` });
      if (URL_SECRETS.has(name)) {
        let ok = false;
        try {
          const u = new URL(v);
          ok = u.protocol === "http:" || u.protocol === "https:";
        } catch {
          ok = false;
        }
        if (!ok) ctx.addIssue({ code: "custom", message: `${name} must be an http(s) URL` });
        else {
          const problem = urlCredentialsProblem(name, v);
          if (problem) ctx.addIssue({ code: "custom", message: `${name} ${problem}` });
        }
      }
    });

/**
 * `PUT /api/settings`: every field optional. Absent keeps the saved value,
 * null clears it, a value replaces it. `servers` merges per server name.
 */
export const settingsPatchSchema = z.strictObject(
  {
    servers: ownRecord(repoTargetSchema.nullable(), "servers").optional(),
    default: repoTargetSchema.nullable().optional(),
    llm: z
      .strictObject({
        provider: z
          .enum(LLM_PROVIDERS, { error: `provider must be one of: ${LLM_PROVIDERS.join(", ")}` })
          .nullable()
          .optional(),
        model: modelSchema.nullable().optional(),
        context_tokens: contextTokensSchema.nullable().optional(),
      })
      .optional(),
    allowed_sensitive_paths: z.array(pathPatternSchema).max(50).nullable().optional(),
    gap_analysis: z
      .strictObject(
        {
          enabled: z.boolean({ error: "gap_analysis.enabled must be true or false" }).nullable().optional(),
          refresh_after_reports: refreshAfterSchema.nullable().optional(),
          auto_at_reports: autoAtSchema.nullable().optional(),
        },
        { error: "gap_analysis must be an object {enabled?, refresh_after_reports?, auto_at_reports?}" },
      )
      .optional(),
    secrets: z
      .strictObject({
        github_token: secretValueSchema("github_token").nullable().optional(),
        anthropic_api_key: secretValueSchema("anthropic_api_key").nullable().optional(),
        openai_api_key: secretValueSchema("openai_api_key").nullable().optional(),
        github_api_url: secretValueSchema("github_api_url").nullable().optional(),
        anthropic_base_url: secretValueSchema("anthropic_base_url").nullable().optional(),
        openai_base_url: secretValueSchema("openai_base_url").nullable().optional(),
      } satisfies Record<SecretName, z.ZodType>)
      .optional(),
  },
  { error: "the body must be a JSON object" },
);
export type SettingsPatch = z.output<typeof settingsPatchSchema>;

export type SecretSource = "env" | "file";

export interface SecretStatus {
  set: boolean;
  /** `••••` plus the last 4 characters (only `••••` for values shorter than 12). */
  masked: string | null;
  source: SecretSource | null;
  env: string;
}

/** What `GET /api/settings` returns: saved values, effective values, masked secrets. */
export interface PublicSettings {
  servers: Record<string, RepoTarget>;
  default: RepoTarget | null;
  llm: {
    provider: LlmProvider | null;
    model: string | null;
    context_tokens: number | null;
    effective: { provider: LlmProvider; model: string; context_tokens: number };
  };
  allowed_sensitive_paths: string[];
  /** Saved values (null: not saved) and what is in effect (env vars and defaults applied). */
  gap_analysis: {
    enabled: boolean | null;
    refresh_after_reports: number | null;
    auto_at_reports: number | null;
    effective: GapAnalysisConfig;
  };
  secrets: Record<SecretName, SecretStatus>;
  /** Where secrets are written (null for an in-memory database). */
  env_file: string | null;
  /** Settings overridden by environment variables (env var names). */
  env_overrides: string[];
}

/** Gap analysis as in effect. `auto_at_reports` null: never automatic. */
export interface GapAnalysisConfig {
  enabled: boolean;
  refresh_after_reports: number;
  auto_at_reports: number | null;
}
