/**
 * Secrets and personal data for the privacy tests, built at run time from a seed so that no
 * real-looking credential sits in the repository (secret scanners flag them). Every value has
 * the shape its rule matches; none is a live credential.
 */
import fc from "fast-check";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A deterministic string of `n` characters from `alphabet` (seeded, so failures reproduce). */
export function chars(alphabet: string, n: number, seed = 1): string {
  let x = seed * 2654435761;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

/** Make the last digit of `digits` the Luhn check digit. */
export function withLuhn(digits: string): string {
  const body = digits.slice(0, -1);
  for (let d = 0; d <= 9; d++) {
    const candidate = body + d;
    let sum = 0;
    let double = false;
    for (let i = candidate.length - 1; i >= 0; i--) {
      let v = Number(candidate[i]);
      if (double) {
        v *= 2;
        if (v > 9) v -= 9;
      }
      sum += v;
      double = !double;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error("unreachable");
}

/** One sample per secret rule: [rule the redaction names, the secret as it appears in text]. */
export function secretSamples(seed = 1): [string, string][] {
  const s = (alphabet: string, n: number, k: number) => chars(alphabet, n, seed * 31 + k);
  const pem = `-----BEGIN RSA PRIVATE KEY-----\nMI${s(B64, 62, 1)}\n${s(B64, 64, 2)}\n-----END RSA PRIVATE KEY-----`;
  return [
    ["github", `ghp_${s(ALNUM, 36, 3)}`],
    ["slack", `xoxb-${s("0123456789", 12, 4)}-${s("0123456789", 13, 5)}-${s(ALNUM, 24, 6)}`],
    ["aws", `AKIA${s(UPPER_NUM, 16, 7)}`],
    ["npm", `npm_${s(ALNUM, 36, 8)}`],
    ["openai", `sk-proj-${s(ALNUM, 58, 9)}T3BlbkFJ${s(ALNUM, 58, 10)}`],
    ["anthropic", `sk-ant-api03-${s(ALNUM, 93, 11)}AA`],
    ["linear", `lin_api_${s(ALNUM, 40, 12)}`],
    ["sendgrid", `SG.${s(ALNUM, 22, 13)}.${s(ALNUM, 43, 14)}`],
    ["shopify", `shpat_${s("abcdef0123456789", 32, 15)}`],
    ["privatekey", pem],
    ["basicauth", `https://deploy:${s(ALNUM, 12, 16)}@git.corp-internal.net`],
    ["database-connection-string", `postgres://app:${s(ALNUM, 14, 17)}@db.corp-internal.net:5432/main`],
    ["bearer", `Bearer ${s(ALNUM, 30, 18)}9`],
    ["basic_auth", `Basic ${Buffer.from(`svc:${s(ALNUM, 10, 19)}`).toString("base64")}`],
    ["key_value", `password=${s(ALNUM, 12, 20)}`],
    ["jwt", `eyJ${s(ALNUM, 20, 21)}.eyJ${s(ALNUM, 30, 22)}.${s(ALNUM, 43, 23)}`],
  ];
}

/** One sample per personal-data rule. */
export function piiSamples(seed = 1): [string, string][] {
  const d = (n: number, k: number) => chars("0123456789", n, seed * 17 + k);
  return [
    ["email", `${chars("abcdefghij", 6, seed)}.${chars("klmnop", 4, seed + 1)}@example.com`],
    ["phone", `+44 20 ${d(4, 1)} ${d(4, 2)}`],
    ["phone", `(555) ${d(3, 3)}-${d(4, 4)}`],
    ["card", withLuhn(`4${d(15, 5)}`).replace(/(\d{4})(?=\d)/g, "$1 ")],
    ["ip", `203.0.113.${1 + (seed % 250)}`],
    ["ip", `2001:db8:${chars("0123456789abcdef", 4, seed)}::${chars("0123456789abcdef", 3, seed + 2)}`],
  ];
}

/** Words and punctuation no rule matches, alone or together (no digits, no @, no key words). */
const SAFE_WORDS = [
  "the",
  "agent",
  "needed",
  "invoices",
  "between",
  "dates",
  "but",
  "list_invoices",
  "returned",
  "rows",
  "without",
  "filter",
  "so",
  "it",
  "tried",
  "again",
  "with",
  "other",
  "arguments",
  "and",
  "gave",
  "up",
  "weather",
  "forecast",
  "hourly",
  "city",
  "name",
  "page",
  "cursor",
  "was",
  "empty",
  "(",
  ")",
  ",",
  ".",
  ":",
  ";",
  "-",
  "/",
  '"',
  "'",
  "\n",
  "Résumé",
  "日本語",
  "emoji 🙂",
];
/** Random prose without a secret or a piece of personal data in it. */
export const safeText = fc.array(fc.constantFrom(...SAFE_WORDS), { maxLength: 40 }).map((words) => words.join(" "));
