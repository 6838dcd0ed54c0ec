/**
 * Which paths a draft may touch. `.git/` is never writable; files that run by
 * themselves, hold secrets or control the repository are refused unless the
 * settings list them in `allowed_sensitive_paths` (nothing in a report or a
 * model answer can).
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

/**
 * THE list of protected files: what runs by itself (in CI, on clone or install,
 * on folder open, on `cd`, at git time, inside a coding agent), holds secrets,
 * or controls the repository. A draft may not create, edit or delete them unless
 * `allowed_sensitive_paths` in the settings matches. Matched case-insensitively.
 * docs/draft-pr.md lists every pattern (a test keeps the two in step).
 *
 * Deliberately NOT here: Makefile, Dockerfile, setup.py, test and source files.
 * They run only when someone chooses to build or run the project, which is what
 * reviewing the diff is for; guarding them would block ordinary drafts.
 */
export const PROTECTED_PATHS: readonly { why: string; patterns: readonly string[] }[] = [
  {
    why: "CI or a bot runs it",
    patterns: [
      ".github/workflows/**",
      ".github/actions/**",
      "**/action.yml",
      "**/action.yaml",
      ".github/dependabot.yml",
      ".github/dependabot.yaml",
      ".gitea/workflows/**",
      ".gitea/actions/**",
      ".forgejo/workflows/**",
      ".forgejo/actions/**",
      ".gitlab-ci.yml",
      ".gitlab/**",
      ".circleci/**",
      ".buildkite/**",
      ".travis.yml",
      "azure-pipelines.yml",
      "bitbucket-pipelines.yml",
      "**/Jenkinsfile",
      ".drone.yml",
      ".woodpecker.yml",
      ".woodpecker/**",
      "renovate.json",
      "renovate.json5",
      ".renovaterc",
      ".renovaterc.json",
      ".renovaterc.json5",
      ".github/renovate.json",
      ".github/renovate.json5",
    ],
  },
  {
    why: "git or a git hook manager runs it",
    patterns: [
      "**/.gitattributes",
      ".gitmodules",
      ".lfsconfig",
      ".husky/**",
      ".githooks/**",
      "lefthook.yml",
      "lefthook.yaml",
      ".lefthook.yml",
      ".lefthook.yaml",
      "lefthook-local.yml",
      ".lefthook-local.yml",
      ".lefthook/**",
      ".overcommit.yml",
      ".pre-commit-config.yaml",
      ".pre-commit-hooks.yaml",
    ],
  },
  {
    why: "an editor or dev environment runs it when the folder is opened or entered",
    patterns: [
      ".vscode/**",
      "**/*.code-workspace",
      ".idea/**",
      ".zed/**",
      ".devcontainer/**",
      ".devcontainer.json",
      "**/.envrc",
      "mise.toml",
      ".mise.toml",
      ".mise/**",
      ".nvim.lua",
      ".nvimrc",
      ".exrc",
      // rust-analyzer runs build scripts and the cargo config on open, before anyone builds.
      "**/build.rs",
      ".cargo/**",
    ],
  },
  {
    why: "a package manager or build tool runs it on install or replaces itself with it",
    patterns: [
      ".pnpmfile.cjs",
      ".pnpmfile.mjs",
      ".yarnrc",
      ".yarnrc.yml",
      ".yarn/**",
      "bunfig.toml",
      ".bunfig.toml",
      "gradle/wrapper/**",
      ".mvn/**",
      "**/conftest.py",
      "**/sitecustomize.py",
      "**/usercustomize.py",
      "**/*.pth",
    ],
  },
  {
    why: "a coding agent reads it as instructions or starts the servers it names",
    patterns: [
      "**/AGENTS.md",
      "**/AGENT.md",
      "**/CLAUDE.md",
      "**/CLAUDE.local.md",
      ".claude/**",
      "**/GEMINI.md",
      ".gemini/**",
      ".github/copilot-instructions.md",
      ".github/instructions/**",
      ".github/prompts/**",
      ".github/chatmodes/**",
      ".github/agents/**",
      ".cursorrules",
      ".cursor/**",
      ".windsurfrules",
      ".windsurf/**",
      ".clinerules",
      ".clinerules/**",
      ".roorules",
      ".roomodes",
      ".roo/**",
      ".continue/**",
      ".aider.conf.yml",
      ".junie/**",
      ".kiro/**",
      ".amazonq/**",
      ".goosehints",
      ".rules",
      ".codex/**",
      ".mcp.json",
    ],
  },
  {
    why: "it controls who reviews or owns the repository",
    patterns: [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"],
  },
  { why: "it holds secrets", patterns: SECRET_PATTERNS },
];

/** Every protected pattern, flat. */
export const SENSITIVE_PATTERNS: readonly string[] = PROTECTED_PATHS.flatMap((g) => g.patterns);

export function isSecretFile(path: string): boolean {
  const lower = path.toLowerCase();
  return SECRET_PATTERNS.some((p) => globMatch(p.toLowerCase(), lower));
}

export function sensitiveReason(path: string): string | undefined {
  const lower = path.toLowerCase();
  for (const group of PROTECTED_PATHS) {
    const hit = group.patterns.find((p) => globMatch(p.toLowerCase(), lower));
    if (hit) return `it matches the protected pattern "${hit}" (${group.why})`;
  }
  return undefined;
}

/** Whether the settings' allow list lets a draft touch a protected path (or a guarded part of a file). */
export function allowedByAdmin(path: string, allowedSensitive: readonly string[]): boolean {
  return allowedSensitive.some((p) => globMatch(p, path));
}

/** Whether a path is writable under the settings' allow list. */
export function pathPolicy(
  path: string,
  allowedSensitive: readonly string[],
): { ok: true } | { ok: false; reason: string } {
  const reason = sensitiveReason(path);
  if (!reason) return { ok: true };
  if (allowedByAdmin(path, allowedSensitive)) return { ok: true };
  return { ok: false, reason: `${reason}; an admin can allow it in the draft settings (allowed_sensitive_paths)` };
}
