/**
 * The rules besides secretlint's preset: generic credentials (bearer and basic auth headers,
 * `key=value` / `"password": "…"` secrets, PEM private keys, JWTs) and personal data (emails,
 * phone numbers, Luhn-checked card numbers, IPv4 and IPv6 addresses). Each rule is a regular
 * expression, the literals one of which every match contains and the digits it needs (the
 * prefilter skips it on text without them, src/privacy/prefilter.ts), and an optional check
 * on the match. A rule may keep a prefix of its match (`Bearer `, `password=`) and replace only
 * the value after it.
 */
import { isIPv4, isIPv6 } from "node:net";

export type RuleKind = "secret" | "pii";

export interface PatternRule {
  name: string;
  kind: RuleKind;
  /** Global (and sticky-free) expression; group `keep`, when present, is the prefix left in place. */
  pattern: RegExp;
  /** Lower-case literals: every match contains one of them (a necessary condition, not a test). */
  literals?: readonly string[];
  /** Every match holds a run of at least this many digits among spaces and `.()+-`. */
  minDigits?: number;
  /** Refuse a match (the replaced part) that only looks like one. */
  accept?: (value: string) => boolean;
}

/** Names a value that is a secret whatever it looks like (`password=…`, `"api_key": "…"`, `DB_TOKEN: …`). */
export const SECRET_KEY_WORDS =
  "api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|private[_-]?key|access[_-]?token|auth[_-]?token|" +
  "refresh[_-]?token|id[_-]?token|session[_-]?token|token|secret|password|passwd|pwd|passphrase|credentials?";

/** An object key (scrubJson) whose string value is replaced whole. */
export const SECRET_KEY = new RegExp(`^[A-Za-z0-9_.-]*(?:${SECRET_KEY_WORDS})$`, "i");

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const digitCount = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
};

const hasDigit = (t: string) => /\d/.test(t);

/** Loopback and unspecified addresses name no one: they stay readable in error messages. */
const HARMLESS_IPS = new Set(["127.0.0.1", "0.0.0.0", "::1", "::", "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:0"]);

/** Base64 that decodes to `user:password`. */
function basicCredentials(value: string): boolean {
  try {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return /^[^\s:]{1,200}:\S/.test(decoded) && !decoded.includes("\uFFFD");
  } catch {
    return false;
  }
}

export const SECRET_RULES: PatternRule[] = [
  {
    name: "private_key",
    kind: "secret",
    // A truncated key (no END line) is replaced to the end of its field.
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?=\n\0\n)|$(?![\s\S]))/g,
    literals: ["private key"],
  },
  {
    name: "bearer",
    kind: "secret",
    pattern: /(?<keep>\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi,
    literals: ["bearer"],
    // "bearer authentication" is prose; a token has a digit or is long.
    accept: (v) => hasDigit(v) || v.length >= 20,
  },
  {
    name: "basic_auth",
    kind: "secret",
    pattern: /(?<keep>\bbasic\s+)[A-Za-z0-9+/]{6,}={0,2}/gi,
    literals: ["basic"],
    accept: basicCredentials,
  },
  {
    name: "authorization",
    kind: "secret",
    pattern: /(?<keep>\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?!bearer\s|basic\s)[^\s"',;]{8,}/gi,
    literals: ["authorization"],
  },
  {
    name: "jwt",
    kind: "secret",
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    literals: ["eyj"],
  },
  {
    name: "key_value",
    kind: "secret",
    // The key (maybe quoted, maybe prefixed: DB_PASSWORD, x-api-key), then =, : or =>, then the
    // value: a quoted string (replaced inside its quotes) or a run without spaces or brackets.
    pattern: new RegExp(
      `(?<keep>(?<![A-Za-z0-9[])["']?[A-Za-z0-9_.-]*(?:${SECRET_KEY_WORDS})["']?\\s*(?:=>|=|:)\\s*(?<q>["']?))` +
        `(?:(?<=")(?:[^"\\\\\\n]|\\\\.){1,500}(?=")|(?<=')[^'\\n]{1,500}(?=')|(?<![“"'])[^\\s"',;&<>()\\[\\]{}]{1,500})`,
      "gi",
    ),
    literals: ["pass", "pwd", "secret", "token", "key", "credential"],
  },
];

export const PII_RULES: PatternRule[] = [
  {
    name: "email",
    kind: "pii",
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
    literals: ["@"],
  },
  {
    name: "card",
    kind: "pii",
    // 13 to 19 digits, optionally grouped by spaces or dashes, of a card network (2-6), Luhn-valid.
    pattern: /(?<![\d.-])[2-6](?:[ -]?\d){12,18}(?![\d-]|\.\d)/g,
    minDigits: 13,
    accept: (v) => {
      const digits = v.replace(/[ -]/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
    },
  },
  {
    name: "phone",
    kind: "pii",
    // +country and 8-15 digits in groups; North American (555) 123-4567 / 555-123-4567; national
    // numbers with a leading 0 in three or more groups (020 7946 0958).
    pattern:
      /(?<![\w+.])(?:\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,6}|(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}|0\d{1,4}(?:[ .-]\d{2,4}){2,4})(?![\w-]|\.\d)/g,
    minDigits: 8,
    accept: (v) => {
      const n = digitCount(v);
      return v.startsWith("+") ? n >= 8 && n <= 15 : v.startsWith("0") ? n >= 9 && n <= 12 : n === 10;
    },
  },
  {
    name: "ip",
    kind: "pii",
    pattern: /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g,
    literals: ["."],
    minDigits: 4,
    accept: (v) => isIPv4(v) && !HARMLESS_IPS.has(v),
  },
  {
    name: "ip",
    kind: "pii",
    pattern:
      /(?<![\w:.])(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)/g,
    literals: [":"],
    accept: (v) => isIPv6(v) && !HARMLESS_IPS.has(v.toLowerCase()),
  },
];
