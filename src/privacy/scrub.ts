/**
 * Scrubbing: every match of the mode's rules is replaced by a typed placeholder, and what
 * fired is counted per field and rule (`redactions: [{field, rule, count}]`). Placeholders:
 * `[secret:<rule>]` for credentials (`[secret:github]`, `[secret:key_value]`, …), `[email]`,
 * `[phone]`, `[card]`, `[ip]` for personal data. A placeholder matches no rule, so scrubbing
 * scrubbed text changes nothing.
 *
 * A report's free-text fields are scanned as one text (joined by a separator no rule matches
 * across), so each rule runs once per report rather than once per field.
 */
import { type FeedbackPayload, LIMITS, type Redaction, SCRUBBED_FIELDS } from "../feedback/index.js";
import type { PrivacyMode } from "./modes.js";
import { PII_RULES, type PatternRule, SECRET_KEY, SECRET_RULES } from "./rules.js";
import { LiteralScanner, type Prescan } from "./prefilter.js";
import { SECRETLINT_LITERALS, scanWithSecretlint } from "./secretlint.js";

interface Hit {
  start: number;
  end: number;
  rule: string;
  placeholder: string;
}

/** Between fields in the joined text: a NUL on a line of its own, which no rule matches across. */
const SEPARATOR = "\n\0\n";

const PLACEHOLDER: Record<string, string> = { email: "[email]", phone: "[phone]", card: "[card]", ip: "[ip]" };

function placeholderFor(rule: PatternRule | string): string {
  if (typeof rule === "string") return `[secret:${rule}]`;
  return rule.kind === "pii" ? (PLACEHOLDER[rule.name] ?? `[${rule.name}]`) : `[secret:${rule.name}]`;
}

const scanner = new LiteralScanner([
  ...SECRETLINT_LITERALS,
  ...[...SECRET_RULES, ...PII_RULES].flatMap((r) => r.literals ?? []),
]);

function mayMatch(rule: PatternRule, pre: Prescan): boolean {
  if (rule.minDigits !== undefined && pre.digitRun < rule.minDigits) return false;
  return rule.literals === undefined || rule.literals.some((l) => pre.found.has(l));
}

function runRule(rule: PatternRule, text: string, pre: Prescan, hits: Hit[]): void {
  if (!mayMatch(rule, pre)) return;
  rule.pattern.lastIndex = 0;
  for (const m of text.matchAll(rule.pattern)) {
    const keep = m.groups?.keep?.length ?? 0;
    const value = m[0].slice(keep);
    if (value.length === 0) continue;
    if (rule.accept && !rule.accept(value)) continue;
    const start = m.index + keep;
    hits.push({ start, end: start + value.length, rule: rule.name, placeholder: placeholderFor(rule) });
  }
}

/** Every match in `text`, overlaps resolved (the earliest first, the longest of those), in order. */
function findHits(text: string, mode: PrivacyMode): Hit[] {
  if (mode === "off" || text.length === 0) return [];
  const pre = scanner.scan(text.toLowerCase());
  const hits: Hit[] = [];
  for (const h of scanWithSecretlint(text, pre.found))
    if (h.end > h.start) hits.push({ ...h, placeholder: placeholderFor(h.rule) });
  for (const rule of SECRET_RULES) runRule(rule, text, pre, hits);
  if (mode === "secrets+pii") for (const rule of PII_RULES) runRule(rule, text, pre, hits);
  if (hits.length < 2) return hits;
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Hit[] = [];
  let end = -1;
  for (const h of hits) {
    if (h.start < end) continue;
    kept.push(h);
    end = h.end;
  }
  return kept;
}

/** `text` with `hits` (in order, non-overlapping, within [from, to)) replaced. */
function replaceHits(text: string, hits: Hit[], from: number, to: number): string {
  let out = "";
  let at = from;
  for (const h of hits) {
    out += text.slice(at, h.start) + h.placeholder;
    at = Math.min(h.end, to);
  }
  return out + text.slice(at, to);
}

function count(redactions: Redaction[], field: string, hits: Hit[]): void {
  const byRule = new Map<string, number>();
  for (const h of hits) byRule.set(h.rule, (byRule.get(h.rule) ?? 0) + 1);
  for (const [rule, n] of byRule) redactions.push({ field, rule, count: n });
}

export interface ScrubbedText {
  text: string;
  /** Rule → how many matches it replaced. */
  redactions: Redaction[];
}

/** Scrub one string; `field` names it in the redactions. */
export function scrubText(text: string, mode: PrivacyMode, field = "text"): ScrubbedText {
  const hits = findHits(text, mode);
  if (hits.length === 0) return { text, redactions: [] };
  const redactions: Redaction[] = [];
  count(redactions, field, hits);
  return { text: replaceHits(text, hits, 0, text.length), redactions };
}

/**
 * Scrub several named strings as one scan. Returns the scrubbed strings (same keys) and the
 * redactions in the order of the fields.
 */
export function scrubFields(fields: Record<string, string>, mode: PrivacyMode): ScrubbedFields {
  const names = Object.keys(fields);
  if (mode === "off" || names.length === 0) return { fields, redactions: [] };
  const values = names.map((n) => fields[n]!);
  const joined = values.join(SEPARATOR);
  const hits = findHits(joined, mode);
  if (hits.length === 0) return { fields, redactions: [] };
  const out: Record<string, string> = { ...fields };
  const redactions: Redaction[] = [];
  let offset = 0;
  let next = 0;
  names.forEach((name, i) => {
    const value = values[i]!;
    const end = offset + value.length;
    const mine: Hit[] = [];
    while (next < hits.length && hits[next]!.start < end) {
      const h = hits[next++]!;
      if (h.start >= offset) mine.push(h);
    }
    // A hit that ran on past this field (across the separator) is cut at its end.
    if (mine.length > 0) {
      out[name] = replaceHits(joined, mine, offset, end);
      count(redactions, name, mine);
    }
    offset = end + SEPARATOR.length;
    while (next < hits.length && hits[next]!.start < offset) next++;
  });
  return { fields: out, redactions };
}

export interface ScrubbedFields {
  fields: Record<string, string>;
  redactions: Redaction[];
}

export interface ScrubbedReport {
  payload: FeedbackPayload;
  redactions: Redaction[];
}

/** A validated report with its free-text fields scrubbed for `mode`. */
export function scrubReport(payload: FeedbackPayload, mode: PrivacyMode): ScrubbedReport {
  if (mode === "off") return { payload, redactions: [] };
  const source = payload as unknown as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const f of SCRUBBED_FIELDS) {
    const v = source[f];
    if (typeof v === "string" && v.length > 0) fields[f] = v;
  }
  const { fields: scrubbed, redactions } = scrubFields(fields, mode);
  if (redactions.length === 0) return { payload, redactions };
  return { payload: { ...payload, ...scrubbed } as FeedbackPayload, redactions };
}

/**
 * A placeholder can be longer than what it replaced (`password=x` becomes
 * `password=[secret:key_value]`): a scrubbed field pushed past its limit is cut back to it, or
 * the sidecar would refuse a kept copy (422) and an outbox could never replay it.
 */
export function cutToLimits(payload: FeedbackPayload): FeedbackPayload {
  const out = { ...payload } as Record<string, unknown>;
  for (const field of SCRUBBED_FIELDS) {
    const value = out[field];
    const max = (LIMITS as Record<string, number>)[field];
    if (typeof value === "string" && max !== undefined && value.length > max) out[field] = value.slice(0, max);
  }
  return out as unknown as FeedbackPayload;
}

export interface ScrubbedJson<T> {
  value: T;
  redactions: Redaction[];
}

/**
 * Scrub a JSON value (recorded tool-call arguments, say): every string is scrubbed, and the
 * string under a key that names a secret (`password`, `api_key`, `token`, …) is replaced
 * whole (`[secret:key_value]`). Fields in the redactions are JSON paths under `root`
 * (`arguments.user.email`, `arguments.items[2]`). Keys are kept as they are.
 */
export function scrubJson<T>(value: T, mode: PrivacyMode, root = "$"): ScrubbedJson<T> {
  if (mode === "off") return { value, redactions: [] };
  const redactions: Redaction[] = [];
  const walk = (v: unknown, path: string, secretKey: boolean): unknown => {
    if (typeof v === "string") {
      if (secretKey && v.length > 0) {
        redactions.push({ field: path, rule: "key_value", count: 1 });
        return "[secret:key_value]";
      }
      const s = scrubText(v, mode, path);
      redactions.push(...s.redactions);
      return s.text;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`, secretKey));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, `${path}.${k}`, secretKey || SECRET_KEY.test(k));
      return out;
    }
    return v;
  };
  return { value: walk(value, root, false) as T, redactions };
}
