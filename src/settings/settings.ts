/**
 * Draft-PR settings: non-secret values saved in SQLite, secrets in `<db dir>/.env`.
 *
 * Precedence, the same for every knob: a command-line flag (for `draft`),
 * then the environment variable, then the saved value, then the built-in
 * default. `GET /api/settings` says where each effective value came from, so
 * a dashboard can show that an environment variable overrides what was saved.
 * Secrets are handed out only through `resolve()` (for the pipeline); the
 * public view masks them.
 */
import { dirname, join, resolve as resolvePath } from "node:path";
import type { FeedbackStore } from "../store/index.js";
import { readSetting, writeSetting } from "../store/settings-store.js";
import { readEnvFile, updateEnvFile } from "./env-file.js";
import {
  autoAtSchema,
  contextTokensSchema,
  GAP_ANALYSIS_DEFAULTS,
  refreshAfterSchema,
  type GapAnalysisConfig,
  DEFAULT_MODELS,
  emptySettings,
  LLM_PROVIDERS,
  ownValue,
  repoTargetSchema,
  SECRET_ENV,
  SECRET_NAMES,
  SETTINGS_ENV,
  storedSettingsSchema,
  type LlmProvider,
  type PublicSettings,
  type RepoTarget,
  type SecretName,
  type SecretSource,
  type SecretStatus,
  type SettingsPatch,
  type StoredSettings,
  URL_SECRETS,
  urlCredentialsProblem,
} from "./schema.js";

const SETTINGS_KEY = "draft";

export class SettingsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SettingsError";
  }
}

export function maskSecret(value: string): string {
  return value.length >= 12 ? `••••${value.slice(-4)}` : "••••";
}

/** Per-run overrides (the `draft` command's flags). */
export interface SettingsOverrides {
  provider?: LlmProvider | undefined;
  model?: string | undefined;
  repo?: string | undefined;
  baseBranch?: string | undefined;
  contextTokens?: number | undefined;
}

export interface ResolvedSecrets {
  githubToken: string | undefined;
  anthropicApiKey: string | undefined;
  openaiApiKey: string | undefined;
  githubApiUrl: string | undefined;
  anthropicBaseUrl: string | undefined;
  openaiBaseUrl: string | undefined;
}

export interface ResolvedDraftConfig {
  /** undefined when no repo is configured for this server (local mode does not need one). */
  target: RepoTarget | undefined;
  provider: LlmProvider;
  model: string;
  contextTokens: number;
  allowedSensitivePaths: string[];
  secrets: ResolvedSecrets;
}

export class DraftSettings {
  readonly envPath: string | null;

  constructor(
    private readonly store: FeedbackStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    // Secrets live in a .env beside the SQLite file; with PostgreSQL, in the sidecar's working directory.
    this.envPath =
      store.path === ":memory:" || store.path === ""
        ? null
        : store.db.dialect === "postgres"
          ? resolvePath(".env")
          : join(dirname(resolvePath(store.path)), ".env");
  }

  saved(): StoredSettings {
    const raw = readSetting(this.store, SETTINGS_KEY);
    if (raw === undefined) return emptySettings();
    const parsed = storedSettingsSchema.safeParse(raw);
    return parsed.success ? parsed.data : emptySettings();
  }

  private envValue(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  private secret(name: SecretName, file: Map<string, string>): { value: string; source: SecretSource } | undefined {
    const fromEnv = this.envValue(SECRET_ENV[name]);
    if (fromEnv) return { value: fromEnv, source: "env" };
    const fromFile = file.get(SECRET_ENV[name]);
    return fromFile ? { value: fromFile, source: "file" } : undefined;
  }

  private envFile(): Map<string, string> {
    return this.envPath ? readEnvFile(this.envPath) : new Map();
  }

  private effectiveLlm(saved: StoredSettings, file: Map<string, string>, overrides: SettingsOverrides = {}) {
    const envProvider = this.envValue(SETTINGS_ENV.provider)?.toLowerCase();
    const fromEnv = LLM_PROVIDERS.find((p) => p === envProvider);
    // With nothing chosen anywhere, use the provider that has a key.
    const guessed: LlmProvider = this.secret("anthropic_api_key", file)
      ? "anthropic"
      : this.secret("openai_api_key", file)
        ? "openai"
        : "anthropic";
    const provider: LlmProvider = overrides.provider ?? fromEnv ?? saved.llm.provider ?? guessed;
    // A saved model belongs to the saved provider: it is not sent to another one.
    const savedModel = saved.llm.provider === null || saved.llm.provider === provider ? saved.llm.model : null;
    const model = overrides.model ?? this.envValue(SETTINGS_ENV.model) ?? savedModel ?? DEFAULT_MODELS[provider];
    const envTokens = contextTokensSchema.safeParse(Number(this.envValue(SETTINGS_ENV.context_tokens)));
    const customEndpoint = provider === "openai" && this.secret("openai_base_url", file) !== undefined;
    // A custom OpenAI-compatible endpoint is usually a small local model: assume a small window unless told.
    const fallbackTokens = customEndpoint ? 32_768 : 200_000;
    const contextTokens =
      overrides.contextTokens ??
      (envTokens.success ? envTokens.data : undefined) ??
      saved.llm.context_tokens ??
      fallbackTokens;
    return { provider, model, contextTokens };
  }

  /**
   * Gap analysis as in effect: env var, then saved, then default (off). An env
   * var that does not parse is ignored like the other numeric ones; "off",
   * "0", "no" or "false" for the auto threshold means never automatic.
   */
  gapAnalysis(saved: StoredSettings = this.saved()): GapAnalysisConfig {
    const flag = this.envValue(SETTINGS_ENV.gap_analysis)?.toLowerCase();
    const envEnabled = flag === undefined ? undefined : ["1", "true", "yes", "on"].includes(flag);
    const refresh = refreshAfterSchema.safeParse(Number(this.envValue(SETTINGS_ENV.refresh_after_reports)));
    const autoText = this.envValue(SETTINGS_ENV.auto_at_reports)?.toLowerCase();
    const autoOff = autoText !== undefined && ["0", "off", "no", "false", "none"].includes(autoText);
    const auto = autoAtSchema.safeParse(Number(autoText));
    return {
      enabled: envEnabled ?? saved.gap_analysis.enabled ?? GAP_ANALYSIS_DEFAULTS.enabled,
      refresh_after_reports: refresh.success
        ? refresh.data
        : (saved.gap_analysis.refresh_after_reports ?? GAP_ANALYSIS_DEFAULTS.refresh_after_reports),
      auto_at_reports: autoOff
        ? null
        : auto.success
          ? auto.data
          : (saved.gap_analysis.auto_at_reports ?? GAP_ANALYSIS_DEFAULTS.auto_at_reports),
    };
  }

  publicView(): PublicSettings {
    const saved = this.saved();
    const file = this.envFile();
    const secrets = Object.fromEntries(
      SECRET_NAMES.map((name): [SecretName, SecretStatus] => {
        const s = this.secret(name, file);
        return [
          name,
          { set: Boolean(s), masked: s ? maskSecret(s.value) : null, source: s?.source ?? null, env: SECRET_ENV[name] },
        ];
      }),
    ) as Record<SecretName, SecretStatus>;
    const llm = this.effectiveLlm(saved, file);
    const overrides = [...Object.values(SETTINGS_ENV), ...Object.values(SECRET_ENV)].filter(
      (n) => this.envValue(n) !== undefined,
    );
    return {
      servers: saved.servers,
      default: saved.default,
      llm: { ...saved.llm, effective: { provider: llm.provider, model: llm.model, context_tokens: llm.contextTokens } },
      allowed_sensitive_paths: saved.allowed_sensitive_paths,
      gap_analysis: { ...saved.gap_analysis, effective: this.gapAnalysis(saved) },
      secrets,
      env_file: this.envPath,
      env_overrides: overrides,
    };
  }

  update(patch: SettingsPatch): PublicSettings {
    const secretChanges: Record<string, string | null> = {};
    for (const name of SECRET_NAMES) {
      const v = patch.secrets?.[name];
      if (v !== undefined) secretChanges[SECRET_ENV[name]] = v;
    }
    if (Object.keys(secretChanges).length > 0) {
      if (!this.envPath)
        throw new SettingsError(
          "no_env_file",
          "This server uses an in-memory database, so it has nowhere to keep secrets: set them as environment variables.",
        );
      updateEnvFile(this.envPath, secretChanges);
    }

    const next = this.saved();
    if (patch.servers) {
      // Both records have null prototypes: a server named __proto__ is an ordinary key here.
      for (const [name, target] of Object.entries(patch.servers)) {
        if (target === null) delete next.servers[name];
        else next.servers[name] = target;
      }
    }
    if (patch.default !== undefined) next.default = patch.default;
    if (patch.llm) {
      if (patch.llm.provider !== undefined) next.llm.provider = patch.llm.provider;
      if (patch.llm.model !== undefined) next.llm.model = patch.llm.model;
      if (patch.llm.context_tokens !== undefined) next.llm.context_tokens = patch.llm.context_tokens;
    }
    if (patch.allowed_sensitive_paths !== undefined) next.allowed_sensitive_paths = patch.allowed_sensitive_paths ?? [];
    if (patch.gap_analysis) {
      for (const key of ["enabled", "refresh_after_reports", "auto_at_reports"] as const) {
        const v = patch.gap_analysis[key];
        if (v !== undefined) (next.gap_analysis as Record<string, unknown>)[key] = v;
      }
    }
    writeSetting(this.store, SETTINGS_KEY, next);
    // Cached analyses judge staleness by the refresh setting in effect.
    this.store.gaps.analyses.setRefreshAfter(this.gapAnalysis(next).refresh_after_reports);
    return this.publicView();
  }

  /** Everything the pipeline needs for one report's server, secrets included. Never send this anywhere. */
  resolve(serverName: string, overrides: SettingsOverrides = {}): ResolvedDraftConfig {
    const saved = this.saved();
    const file = this.envFile();
    const forcedRepo = overrides.repo ?? this.envValue(SETTINGS_ENV.repo);
    const forcedBranch = overrides.baseBranch ?? this.envValue(SETTINGS_ENV.base_branch);
    let target: RepoTarget | undefined = ownValue(saved.servers, serverName) ?? saved.default ?? undefined;
    if (forcedRepo) {
      const parsed = repoTargetSchema.safeParse({ repo: forcedRepo, base_branch: forcedBranch ?? null });
      if (!parsed.success)
        throw new SettingsError("invalid_repo", `"${forcedRepo}" is not a repository name like owner/name.`);
      target = parsed.data;
    } else if (target && forcedBranch) {
      target = { ...target, base_branch: forcedBranch };
    }
    const value = (name: SecretName) => this.secret(name, file)?.value;
    // The PUT schema refuses credentials in URLs; an environment variable or a hand-edited .env gets the same answer.
    for (const name of URL_SECRETS) {
      const url = value(name);
      const problem = url ? urlCredentialsProblem(name, url) : undefined;
      if (problem) throw new SettingsError("credentials_in_url", `${SECRET_ENV[name]} ${problem}.`);
    }
    return {
      target,
      ...this.effectiveLlm(saved, file, overrides),
      allowedSensitivePaths: saved.allowed_sensitive_paths,
      secrets: {
        githubToken: value("github_token"),
        anthropicApiKey: value("anthropic_api_key"),
        openaiApiKey: value("openai_api_key"),
        githubApiUrl: value("github_api_url"),
        anthropicBaseUrl: value("anthropic_base_url"),
        openaiBaseUrl: value("openai_base_url"),
      },
    };
  }
}
