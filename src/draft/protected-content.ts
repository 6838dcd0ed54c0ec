/**
 * Parts of otherwise ordinary files that run by themselves. Today: a
 * package.json's lifecycle scripts (npm, pnpm, yarn and bun run them on
 * install, pack, publish and version, with no one asking) and its top-level
 * keys that install git hooks or steer bots. A draft may remove them, but not
 * add or change one, unless `allowed_sensitive_paths` matches the file.
 */

/** Scripts a package manager runs by itself. */
export const LIFECYCLE_SCRIPTS: readonly string[] = [
  "preinstall",
  "install",
  "postinstall",
  "preuninstall",
  "uninstall",
  "postuninstall",
  "preprepare",
  "prepare",
  "postprepare",
  "prepublish",
  "prepublishOnly",
  "publish",
  "postpublish",
  "prepack",
  "postpack",
  "preversion",
  "version",
  "postversion",
  "dependencies",
  "pnpm:devPreinstall",
];

/** Top-level package.json keys whose value git hooks or bots run (husky 4, simple-git-hooks, yorkie, renovate…). */
export const HOOK_KEYS: readonly string[] = [
  "husky",
  "simple-git-hooks",
  "pre-commit",
  "pre-push",
  "lint-staged",
  "gitHooks",
  "ghooks",
  "renovate",
];

type Json = Record<string, unknown>;

function parseObject(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** An own property only: a package.json is model-written text, its keys are never prototype lookups. */
const own = (o: Json | undefined, key: string): unknown => (o && Object.hasOwn(o, key) ? o[key] : undefined);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Why a change to this file touches something that runs by itself, or undefined. */
export function protectedContentReason(path: string, before: string | null, after: string | null): string | undefined {
  const name = path.split("/").pop()!.toLowerCase();
  if (name !== "package.json" || after === null) return undefined;
  const next = parseObject(after);
  if (!next)
    return "the new package.json is not a JSON object, so its lifecycle scripts cannot be checked (package managers run them on install)";
  const prev = before === null ? undefined : parseObject(before);
  const prevScripts = own(prev, "scripts") as Json | undefined;
  const nextScripts = own(next, "scripts") as Json | undefined;
  const scripts = typeof nextScripts === "object" && nextScripts !== null ? nextScripts : undefined;
  const oldScripts = typeof prevScripts === "object" && prevScripts !== null ? prevScripts : undefined;
  for (const script of LIFECYCLE_SCRIPTS) {
    const value = own(scripts, script);
    if (value !== undefined && !same(value, own(oldScripts, script)))
      return `it adds or changes the "${script}" lifecycle script, which package managers run by themselves`;
  }
  for (const key of HOOK_KEYS) {
    const value = own(next, key);
    if (value !== undefined && !same(value, own(prev, key)))
      return `it adds or changes the "${key}" key, which git hooks or bots run`;
  }
  return undefined;
}
