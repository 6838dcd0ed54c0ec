export * from "./schema.js";
export {
  DraftSettings,
  maskSecret,
  SettingsError,
  type ResolvedDraftConfig,
  type ResolvedSecrets,
  type SettingsOverrides,
} from "./settings.js";
export { EnvFileError, parseEnv, readEnvFile, updateEnvFile, quoteEnvValue } from "./env-file.js";
export * from "./autonomy.js";
export * from "./privacy.js";
