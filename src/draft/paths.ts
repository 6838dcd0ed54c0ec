/**
 * Which paths a draft may touch. `.git/` is never writable; CI, secrets and
 * repository-control files are refused unless the settings list them in
 * `allowed_sensitive_paths` (nothing in a report or a model answer can).
 */

/** Normalise a model-supplied path, or say why it is not acceptable. */
export function normalizeRepoPath(raw: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (typeof raw !== "string" || raw.length === 0) return { ok: false, reason: "the path is empty" };
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: "the path contains control characters" };
  if (raw.includes("\\")) return { ok: false, reason: "the path contains a backslash (use forward slashes)" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw) || raw.startsWith("~"))
    return { ok: false, reason: "the path is absolute" };
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length === 0) return { ok: false, reason: "the path names no file" };
  if (segments.includes("..")) return { ok: false, reason: "the path leaves the repository (..)" };
  if (raw.endsWith("/")) return { ok: false, reason: "the path names a directory" };
  const path = segments.join("/");
  if (path.length > 400 || segments.length > 30) return { ok: false, reason: "the path is too long" };
  if (segments.some((s) => s.toLowerCase() === ".git")) return { ok: false, reason: "the path is inside .git/" };
  return { ok: true, path };
}

/** Glob match: `*` within a segment, `**` any number of segments, `?` one character. Case-sensitive. */
export function globMatch(pattern: string, path: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(path);
}

/** Files that hold secrets (and must not even be shown to the model). Matched case-insensitively. */
export const SECRET_PATTERNS: readonly string[] = [
  "**/.env",
  "**/.env.*",
  "**/*.pem",
  "**/*.key",
  "**/*.p12",
  "**/*.pfx",
  "**/*.keystore",
  "**/*.jks",
  "**/id_rsa*",
  "**/id_ed25519*",
  "**/id_ecdsa*",
  "**/.npmrc",
  "**/.pypirc",
  "**/.netrc",
  "**/.dockercfg",
  "**/.docker/config.json",
  "**/credentials",
  "**/credentials.json",
  "**/secrets.*",
  "**/.aws/**",
  "**/.ssh/**",
];

/** Files that run code in CI, hold secrets, or control the repository. Matched case-insensitively. */
export const SENSITIVE_PATTERNS: readonly string[] = [
  ".github/workflows/**",
  ".github/actions/**",
  ".github/CODEOWNERS",
  ".github/dependabot.yml",
  ".github/dependabot.yaml",
  "CODEOWNERS",
  "docs/CODEOWNERS",
  ".gitlab-ci.yml",
  ".gitlab/**",
  ".circleci/**",
  ".buildkite/**",
  ".travis.yml",
  "azure-pipelines.yml",
  "bitbucket-pipelines.yml",
  "Jenkinsfile",
  "**/Jenkinsfile",
  ".drone.yml",
  ".woodpecker.yml",
  ".woodpecker/**",
  ".pre-commit-config.yaml",
  ".gitmodules",
  ".husky/**",
  ...SECRET_PATTERNS,
];

export function isSecretFile(path: string): boolean {
  const lower = path.toLowerCase();
  return SECRET_PATTERNS.some((p) => globMatch(p.toLowerCase(), lower));
}

export function sensitiveReason(path: string): string | undefined {
  const lower = path.toLowerCase();
  const hit = SENSITIVE_PATTERNS.find((p) => globMatch(p.toLowerCase(), lower));
  return hit ? `it matches the protected pattern "${hit}" (CI, secrets or repository control)` : undefined;
}

/** Whether a path is writable under the settings' allow list. */
export function pathPolicy(
  path: string,
  allowedSensitive: readonly string[],
): { ok: true } | { ok: false; reason: string } {
  const reason = sensitiveReason(path);
  if (!reason) return { ok: true };
  if (allowedSensitive.some((p) => globMatch(p, path))) return { ok: true };
  return { ok: false, reason: `${reason}; an admin can allow it in the draft settings (allowed_sensitive_paths)` };
}
