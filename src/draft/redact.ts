/**
 * Secrets must never leave the process: every message the pipeline emits,
 * and every text it sends to GitHub, passes through a redactor built from the
 * secret values in use (some servers echo a rejected key in their errors).
 */
export type Redactor = (text: string) => string;

export function makeRedactor(secrets: (string | undefined)[]): Redactor {
  const values = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const v of values) out = out.split(v).join("[redacted]");
    return out;
  };
}

/** User names and passwords embedded in base URLs (https://user:pass@host) are secrets too. */
export function urlCredentials(...urls: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const url of urls) {
    if (!url) continue;
    try {
      const u = new URL(url);
      for (const part of [u.username, u.password]) if (part) out.push(part, decodeURIComponent(part));
    } catch {
      // not a URL: nothing embedded
    }
  }
  return out;
}
