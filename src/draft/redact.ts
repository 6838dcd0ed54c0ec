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
