/**
 * Secrets must never leave the process: every message the pipeline emits,
 * and every text it sends to GitHub, passes through a redactor built from the
 * secret values in use (some servers echo a rejected key in their errors).
 */
export type Redactor = (text: string) => string;

export function makeRedactor(secrets: (string | undefined)[]): Redactor {
  const values = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  if (values.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const v of values) out = out.split(v).join("[redacted]");
    return out;
  };
}

/**
 * The forms a secret takes when written into a file: as is, URL-encoded, hex,
 * and base64/base64url at each of the three byte alignments (only the
 * characters that depend on the secret alone, so a prefix or suffix cannot
 * hide it). A model can always disguise a value further (split it, reverse
 * it); these are the encodings code commonly uses.
 */
export function secretForms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms = new Set([value, encodeURIComponent(value), bytes.toString("hex")]);
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    const stable = b64.slice(pad > 0 ? 4 : 0, Math.floor((pad + bytes.length) / 3) * 4);
    if (stable.length >= 8) {
      forms.add(stable);
      forms.add(stable.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms].filter((f) => f.length >= 8);
}

export interface NamedSecret {
  /** For messages: "the GitHub token". */
  name: string;
  value: string | undefined;
}

/** Which configured secret (in any of its usual encodings) a text holds, or undefined. */
export function makeSecretFinder(secrets: NamedSecret[]): (text: string) => string | undefined {
  const forms = secrets.flatMap((s) =>
    s.value && s.value.length >= 8 ? secretForms(s.value).map((form) => ({ name: s.name, form })) : [],
  );
  return (text) => forms.find((f) => text.includes(f.form))?.name;
}

/** Apply a redactor to every string inside a JSON-like value (keys and structure stay as they are). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}

/**
 * Passwords embedded in base URLs (https://user:pass@host) are secrets too, and
 * so are user names long enough to be tokens (a short one like "user" is not,
 * and redacting it would mangle ordinary text).
 */
export function urlCredentials(...urls: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const url of urls) {
    if (!url) continue;
    try {
      const u = new URL(url);
      const parts = [u.password, u.username.length >= 12 ? u.username : ""];
      for (const part of parts) if (part) out.push(part, decodeURIComponent(part));
    } catch {
      // not a URL: nothing embedded
    }
  }
  return out;
}
