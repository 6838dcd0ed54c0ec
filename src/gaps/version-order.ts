/**
 * Server versions, compared the semver way, for regression detection: a gap
 * fixed in 1.4.0 reopens when a report arrives from 1.4.0 or later. Accepts a
 * leading "v", missing minor/patch ("2", "2.1"), prerelease tags (1.4.0-rc.1 <
 * 1.4.0) and ignores build metadata (+sha). Anything else is not a version.
 */

export interface Version {
  core: [number, number, number];
  prerelease: (number | string)[];
}

const VERSION = /^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/i;

export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const prerelease = m[4] === undefined ? [] : m[4].split(".");
  if (prerelease.some((p) => p === "")) return undefined;
  return {
    core: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)],
    prerelease: prerelease.map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
  };
}

/** Negative, zero or positive as a sorts before, with or after b. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  // A release sorts after its prereleases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i]!;
    const y = b.prerelease[i]!;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1; // numeric identifiers sort before alphanumeric ones
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return a.prerelease.length - b.prerelease.length;
}

/**
 * Whether a report from `reported` shows the gap fixed in `fixedIn` is back:
 * true at or above fixed_in, false below, undefined when either is not a version.
 */
export function isAtOrAbove(reported: string, fixedIn: string): boolean | undefined {
  const a = parseVersion(reported);
  const b = parseVersion(fixedIn);
  if (!a || !b) return undefined;
  return compareVersions(a, b) >= 0;
}
