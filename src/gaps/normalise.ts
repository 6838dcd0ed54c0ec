/**
 * Text normalisation for grouping, in one pass over the text (no chain of whole-text regexes):
 *
 *  1. scan: split at whitespace into chunks; a chunk made only of letters (most of them) is a word
 *     at once; any other chunk is classified with a few anchored tests (URL, email, UUID, date,
 *     time, path, hex, id, number -> placeholder) or split at its inner punctuation and scanned again.
 *     Sentence punctuation leaves a separator, so that phrases and bigrams never span two clauses.
 *  2. dates written in words ("March 3, 2024", "3rd of March") become <date>.
 *  3. phrases: a table indexed by first word turns multi-word API idioms into one token
 *     ("time window", "between two dates", "start date", "page size", "order by" ...).
 *  4. each word -> its term: canonical word, else stemmed; stopwords dropped (memoised, bounded).
 *
 * Everything here is general English and general API vocabulary: nothing names one server's domain.
 */
import { stem } from "./stem.js";

/** Placeholder tokens. They survive tokenisation (so fingerprints keep their shape) but carry no topic. */
export const PLACEHOLDERS = [
  "<url>",
  "<email>",
  "<uuid>",
  "<date>",
  "<time>",
  "<path>",
  "<hex>",
  "<id>",
  "<num>",
] as const;
const PLACEHOLDER_SET: ReadonlySet<string> = new Set(PLACEHOLDERS);

export function isPlaceholder(token: string): boolean {
  return token.charCodeAt(0) === 60 /* < */ && PLACEHOLDER_SET.has(token);
}

/** Separator tokens start with "|"; numbers before the date pass start with "#" and keep their digits. */
const SEP = "|";

// ---------------------------------------------------------------------------------------------
// 1. Scanning

const RE_URL = /^(?:(?:https?|ftp|s3|gs|file):\/\/|www\.)/i;
const RE_EMAIL = /^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$/;
const RE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RE_ISO_DATE = /^\d{4}-\d{1,2}(?:-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?$/i;
const RE_NUM_DATE = /^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$/;
const RE_TIME = /^\d{1,2}:\d{2}(?::\d{2})?(?:am|pm)?$/i;
const RE_WIN_PATH = /^[a-z]:\\/i;
const RE_ABS_PATH = /^(?:~|\.{1,2})?\/[\w.@~-]/;
const RE_EXTENSION = /\.[a-z0-9]{1,6}$/i;
const RE_HEX = /^(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,})$/i;
const RE_NUMBER = /^[$€£]?(\d+)(?:[.,]\d+)*(?:%|k|m|h|d|w|ms|s|kb|mb|gb|tb|x|st|nd|rd|th)?$/i;
const RE_IDENT = /^[a-z0-9]+(?:[_-]+[a-z0-9]+)*$/i;

/** A run/object id: "run_8f3a2c", "inv-00123", "a1b2c3d4"; but not "get_costs_v2", "utf8" or "2024". */
function idLike(word: string): boolean {
  const segments = word.split(/[_-]+/);
  const separated = segments.length > 1;
  return segments.some((seg) => {
    let digits = 0;
    for (let i = 0; i < seg.length; i++) {
      const c = seg.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits === seg.length) return separated && digits >= 3;
    return digits >= 2 && seg.length >= (separated ? 4 : 5);
  });
}

enum C {
  Other = 0,
  Upper = 1,
  Lower = 2,
  Digit = 3,
  /** _ - ' : kept inside an identifier or a word */
  Join = 4,
  /** clause punctuation: . ; : ! ? , ( ) [ ] { } " and newlines */
  Clause = 5,
  Space = 6,
}

const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CLASS[c] =
    c >= 65 && c <= 90
      ? C.Upper
      : c >= 97 && c <= 122
        ? C.Lower
        : c >= 48 && c <= 57
          ? C.Digit
          : "_-'".includes(ch)
            ? C.Join
            : '.;:!?,()[]{}"\n'.includes(ch)
              ? C.Clause
              : c <= 32
                ? C.Space
                : C.Other;
}

function classOf(c: number): C {
  if (c < 128) return ASCII_CLASS[c] as C;
  if (c === 0x2019 || c === 0x2018) return C.Join; // curly apostrophes
  if (c === 0x201c || c === 0x201d || c === 0xab || c === 0xbb || c === 0x2013 || c === 0x2014 || c === 0x2026)
    return C.Clause;
  if (c === 0xa0 || c === 0x2009 || c === 0x202f || c === 0x3000) return C.Space;
  return C.Lower; // other scripts: letters as far as grouping cares
}

const MAX_TEXT = 20_000;

/** Text -> raw tokens: lower-case words, placeholders, "#<digits>" numbers and "|" separators. */
function scan(text: string): string[] {
  let s = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  // NFKC only matters outside ASCII (full-width letters, ligatures); skip the call for plain text.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) {
      s = s.normalize("NFKC");
      break;
    }
  }
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (classOf(c) === C.Space) {
      if (c === 10) out.push(SEP);
      i++;
      continue;
    }
    let j = i;
    let letters = true;
    while (j < n) {
      c = s.charCodeAt(j);
      const k = classOf(c);
      if (k === C.Space) break;
      if (k !== C.Lower && k !== C.Upper) letters = false;
      j++;
    }
    if (letters) word(s.slice(i, j), out);
    else chunk(s.slice(i, j), out);
    i = j;
  }
  return out;
}

/** A chunk that is not only letters: strip wrapping punctuation, then classify or split. */
function chunk(raw: string, out: string[]): void {
  let a = 0;
  let b = raw.length;
  while (a < b && isWrapper(raw.charCodeAt(a), true)) {
    if (classOf(raw.charCodeAt(a)) === C.Clause) out.push(SEP);
    a++;
  }
  let trailingSep = false;
  while (b > a && isWrapper(raw.charCodeAt(b - 1), false)) {
    if (classOf(raw.charCodeAt(b - 1)) === C.Clause) trailingSep = true;
    b--;
  }
  if (b > a) {
    const core = a === 0 && b === raw.length ? raw : raw.slice(a, b);
    if (core === "-" || core === "–" || core === "—") out.push(`${SEP}-`);
    else piece(core, out);
  } else if (raw === "-" || raw === "–" || raw === "—") {
    out.push(`${SEP}-`);
  }
  if (trailingSep) out.push(SEP);
}

function isWrapper(c: number, leading: boolean): boolean {
  const k = classOf(c);
  if (k === C.Clause) return true;
  if (k === C.Other) return c !== 36 && c !== 126 && c !== 47 && c !== 0x20ac && c !== 0xa3; // keep $ ~ / € £ in front
  // A leading "-" or "'" is punctuation, a trailing "'" too ("users'").
  return k === C.Join && (leading || c === 39 || c === 0x2019) && c !== 95;
}

/** Characters that split a chunk before it is classified: "get_costs(since=2024-01-01)". */
function isHardSplit(c: number): boolean {
  return (
    c === 40 ||
    c === 41 ||
    c === 91 ||
    c === 93 ||
    c === 123 ||
    c === 125 ||
    c === 34 ||
    c === 44 ||
    c === 59 ||
    c === 61 ||
    c === 60 ||
    c === 62 ||
    c === 124 ||
    c === 42 ||
    c === 43 ||
    c === 0x201c ||
    c === 0x201d
  );
}

/** One chunk without wrapping punctuation. */
function piece(core: string, out: string[]): void {
  const c0 = core.charCodeAt(0);
  if ((c0 === 119 || c0 === 87 || core.includes("://")) && RE_URL.test(core)) {
    out.push("<url>");
    return;
  }
  if (core.includes("@") && RE_EMAIL.test(core.replace(/['’]s$/, ""))) {
    out.push("<email>");
    return;
  }
  let hard = false;
  for (let i = 0; i < core.length; i++) {
    if (isHardSplit(core.charCodeAt(i))) {
      hard = true;
      break;
    }
  }
  if (hard) {
    let start = 0;
    for (let i = 0; i <= core.length; i++) {
      const c = i < core.length ? core.charCodeAt(i) : 32;
      if (i < core.length && !isHardSplit(c)) continue;
      if (i > start) chunk(core.slice(start, i), out);
      if (c !== 32 && classOf(c) === C.Clause) out.push(SEP);
      start = i + 1;
    }
    return;
  }
  const p = placeholderOf(core);
  if (p !== null) {
    out.push(p);
    return;
  }
  // Slash lists ("ack/mute/snooze", "start/end") are words, not paths.
  // Split at any character that is not part of a word; clause punctuation leaves a separator.
  let start = 0;
  let split = false;
  for (let i = 0; i < core.length; i++) {
    const k = classOf(core.charCodeAt(i));
    if (k === C.Lower || k === C.Upper || k === C.Digit || k === C.Join) continue;
    split = true;
    if (i > start) subpiece(core.slice(start, i), out);
    if (k === C.Clause) out.push(SEP);
    start = i + 1;
  }
  if (!split) {
    identifier(core, out);
    return;
  }
  if (start < core.length) subpiece(core.slice(start), out);
}

function subpiece(s: string, out: string[]): void {
  const p = placeholderOf(s);
  if (p !== null) out.push(p);
  else identifier(s, out);
}

/** The placeholder a whole chunk stands for, or null. "#<digits>" for numbers (the date pass reads them). */
function placeholderOf(core: string): string | null {
  const c0 = core.charCodeAt(0);
  const startsDigit = c0 >= 48 && c0 <= 57;
  if (core.includes("@")) return RE_EMAIL.test(core) ? "<email>" : null;
  if (core.includes(":")) {
    if (RE_URL.test(core)) return "<url>";
    if (startsDigit) {
      if (RE_TIME.test(core)) return "<time>";
      if (RE_ISO_DATE.test(core)) return "<date>";
    }
    if (RE_WIN_PATH.test(core)) return "<path>";
    return null;
  }
  if ((c0 === 119 || c0 === 87) && RE_URL.test(core)) return "<url>";
  if (core.includes("/")) {
    if (RE_ABS_PATH.test(core)) return "<path>";
    if (startsDigit && RE_NUM_DATE.test(core)) return "<date>";
    const segments = core.split("/");
    if (segments.length >= 2 && RE_EXTENSION.test(core) && /[a-z]/i.test(segments[segments.length - 1]!))
      return "<path>";
    if (segments.length >= 3 && segments.some((seg) => !/^[a-z]*$/i.test(seg))) return "<path>";
    return null;
  }
  if (startsDigit) {
    if (RE_ISO_DATE.test(core)) return "<date>";
    if (RE_NUM_DATE.test(core)) return "<date>";
    if (RE_UUID.test(core)) return "<uuid>";
    if (RE_HEX.test(core)) return "<hex>";
    const m = RE_NUMBER.exec(core);
    if (m !== null) return `#${m[1]!}`;
    if (RE_IDENT.test(core) && idLike(core)) return "<id>";
    return null;
  }
  if (c0 === 36 || c0 === 0x20ac || c0 === 0xa3) {
    const m = RE_NUMBER.exec(core);
    return m === null ? null : `#${m[1]!}`;
  }
  if (RE_UUID.test(core)) return "<uuid>";
  if (RE_HEX.test(core)) return "<hex>";
  if (RE_IDENT.test(core) && idLike(core)) return "<id>";
  return null;
}

/** An identifier or word ([A-Za-z0-9_'-]): ids become <id>; snake, kebab and camel case split into words. */
function identifier(s: string, out: string[]): void {
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    const k = i < s.length ? classOf(s.charCodeAt(i)) : C.Space;
    if (k !== C.Join && k !== C.Space) continue;
    if (s.charCodeAt(i) === 39 || s.charCodeAt(i) === 0x2019) {
      // "user's" -> "user", "don't" -> "don": the apostrophe ends the word.
      if (i > start) part(s.slice(start, i), out);
      while (i + 1 < s.length && classOf(s.charCodeAt(i + 1)) !== C.Join) i++;
      start = i + 1;
      continue;
    }
    if (i > start) part(s.slice(start, i), out);
    start = i + 1;
  }
}

function part(s: string, out: string[]): void {
  const c0 = s.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    const p = placeholderOf(s);
    if (p !== null) {
      out.push(p);
      return;
    }
    // "2fa" -> "fa": leading digits carry no topic.
    let i = 0;
    while (i < s.length && classOf(s.charCodeAt(i)) === C.Digit) i++;
    if (i < s.length) word(s.slice(i), out);
    return;
  }
  word(s, out);
}

function isAsciiLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** Letters (and digits after the first letter): split camelCase, lower-case. */
function word(s: string, out: string[]): void {
  let start = 0;
  for (let i = 1; i < s.length; i++) {
    const prev = classOf(s.charCodeAt(i - 1));
    const cur = classOf(s.charCodeAt(i));
    // "getCosts" -> get|Costs ; "JSONColumns" -> JSON|Columns
    const boundary =
      (cur === C.Upper && (prev === C.Lower || prev === C.Digit)) ||
      // (but "PRs", "IDs": a plural acronym stays whole)
      (cur === C.Upper &&
        prev === C.Upper &&
        i + 2 < s.length &&
        isAsciiLower(s.charCodeAt(i + 1)) &&
        isAsciiLower(s.charCodeAt(i + 2)));
    if (boundary) {
      out.push(s.slice(start, i).toLowerCase());
      start = i;
    }
  }
  out.push((start === 0 ? s : s.slice(start)).toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// 2. Dates in words

const MONTHS: ReadonlySet<string> = new Set(
  "jan january feb february mar march apr april may jun june jul july aug august sep sept september oct october nov november dec december".split(
    " ",
  ),
);
const isDay = (t: string | undefined) => t !== undefined && t.charCodeAt(0) === 35 && t.length >= 2 && t.length <= 3;
const isYear = (t: string | undefined) => t !== undefined && t.charCodeAt(0) === 35 && t.length === 5;

/** "March 3", "March 3, 2024", "3rd of March 2024", "March 2024" -> <date>; other "#n" -> <num>. */
function dates(toks: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (MONTHS.has(t)) {
      if (isDay(toks[i + 1])) {
        let j = i + 2;
        if (isYear(toks[j])) j++;
        else if (toks[j] === SEP && isYear(toks[j + 1])) j += 2;
        out.push("<date>");
        i = j - 1;
        continue;
      }
      if (isYear(toks[i + 1])) {
        out.push("<date>");
        i++;
        continue;
      }
    } else if (isDay(t)) {
      let j = i + 1;
      if (toks[j] === "of") j++;
      if (MONTHS.has(toks[j] ?? "") && (j === i + 1 || toks[j] !== "may")) {
        j++;
        if (isYear(toks[j])) j++;
        else if (toks[j] === SEP && isYear(toks[j + 1])) j += 2;
        out.push("<date>");
        i = j - 1;
        continue;
      }
    }
    out.push(t.charCodeAt(0) === 35 ? "<num>" : t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. Phrases

/** Inflected forms of a few words, for phrase slots (phrases match words before stemming). */
function forms(words: string): string[] {
  return words.split(" ").flatMap((w) => [w, `${w}s`]);
}

type Slot = { set: ReadonlySet<string>; optional?: true };
interface Phrase {
  slots: readonly Slot[];
  /** One or more tokens (space-separated). */
  out: string;
}
const slot = (words: string | readonly string[], optional = false): Slot => {
  const set = new Set(typeof words === "string" ? words.split(" ") : words);
  return optional ? { set, optional: true } : { set };
};

const DATE_WORDS = forms("date time datetime timestamp");
const RANGE_WORDS = [...forms("range window span interval period bound frame"), "boundaries"];
const UNITS = forms("minute hour day week month quarter year");

/** Multi-word idioms of general API vocabulary, most specific first (the first that matches wins). */
const PHRASES: readonly Phrase[] = [
  {
    slots: [slot(forms("month year quarter week")), slot("to"), slot("date")],
    out: "daterange",
  },
  { slots: [slot(DATE_WORDS), slot(RANGE_WORDS)], out: "daterange" },
  {
    slots: [slot("between"), slot("two <num>", true), slot(forms("date timestamp day"))],
    out: "daterange",
  },
  {
    slots: [slot("between"), slot("<date>"), slot("and"), slot("<date>")],
    out: "daterange",
  },
  {
    slots: [slot("start end from to begin since until after before"), slot(forms("date time timestamp day"))],
    out: "daterange",
  },
  {
    slots: [
      slot("date time created updated modified"),
      slot("from to start end after before since until gte lte gt lt"),
    ],
    out: "daterange",
  },
  {
    slots: [slot("<date>"), slot(["to", "through", "until", "and", "|-"]), slot("<date>")],
    out: "daterange",
  },
  {
    slots: [slot("last past previous prior next this current"), slot("<num>", true), slot(UNITS)],
    out: "daterange",
  },
  { slots: [slot("pull merge"), slot(forms("request"))], out: "pullrequest" },
  { slots: [slot("purchase"), slot(forms("order"))], out: "purchaseorder" },
  // "re-run", "re-trigger": the hyphen splits them; "re" alone is never a word.
  {
    slots: [slot("re"), slot("run runs running try tries trigger triggered start started launch submit queue")],
    out: "retry",
  },
  { slots: [slot("roll rolled rolling"), slot("back")], out: "revert" },
  { slots: [slot("log logged logging sign signed signing"), slot("in on")], out: "login" },
  { slots: [slot("time times timed timing"), slot("out outs")], out: "timeout" },
  { slots: [slot("page paging"), slot("<num> through thru")], out: "paginate" },
  { slots: [slot("rate"), slot(forms("limit"))], out: "ratelimit" },
  { slots: [slot("most"), slot("recent")], out: "latest" },
  {
    slots: [slot("order ordered ordering sort sorted sorting"), slot("by")],
    out: "sort by",
  },
  { slots: [slot("page"), slot("size token number")], out: "paginate" },
  { slots: [slot("next"), slot(forms("page cursor"))], out: "paginate" },
  { slots: [slot("per"), slot("page")], out: "paginate" },
  { slots: [slot("time"), slot(forms("zone"))], out: "timezone" },
  { slots: [slot("look looking looked looks"), slot("up")], out: "get" },
  { slots: [slot("full"), slot("text")], out: "fulltext" },
  { slots: [slot("at"), slot("once")], out: "bulk" },
  {
    slots: [slot("in"), slot("one single"), slot("call request go")],
    out: "bulk",
  },
  {
    slots: [slot("in"), slot("a"), slot("single"), slot("call request go")],
    out: "bulk",
  },
  { slots: [slot("meta"), slot("data")], out: "metadata" },
  { slots: [slot("cut cutted"), slot("off at")], out: "paginate" },
  { slots: [slot("number"), slot("of")], out: "count" },
  { slots: [slot("how"), slot("many")], out: "count" },
  {
    slots: [slot("group grouped grouping break broken split splitting"), slot("down out", true), slot("by")],
    out: "group by",
  },
];
/** Applied after PHRASES, so that "from <date> to <date>" first becomes "from daterange". */
const BOUNDS: readonly Phrase[] = [
  {
    slots: [slot("since until till before after from"), slot(["<date>", "daterange"])],
    out: "daterange",
  },
];

function indexByFirst(phrases: readonly Phrase[]): Map<string, Phrase[]> {
  const m = new Map<string, Phrase[]>();
  for (const p of phrases) {
    for (const w of p.slots[0]!.set) {
      let list = m.get(w);
      if (list === undefined) m.set(w, (list = []));
      list.push(p);
    }
  }
  return m;
}
const PHRASE_INDEX = indexByFirst(PHRASES);
const BOUNDS_INDEX = indexByFirst(BOUNDS);

/** Length of the match of `p` at `i`, or 0. */
function matchAt(p: Phrase, toks: readonly string[], i: number): number {
  let j = i;
  for (const s of p.slots) {
    const t = toks[j];
    if (t !== undefined && s.set.has(t)) j++;
    else if (s.optional !== true) return 0;
  }
  return j - i;
}

function phrases(toks: string[], index: ReadonlyMap<string, readonly Phrase[]>): string[] {
  const out: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const candidates = index.get(t);
    let matched = 0;
    if (candidates !== undefined) {
      for (const p of candidates) {
        matched = matchAt(p, toks, i);
        if (matched > 0) {
          if (p.out.includes(" ")) out.push(...p.out.split(" "));
          else out.push(p.out);
          break;
        }
      }
    }
    if (matched > 0) i += matched - 1;
    else out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. Terms

/**
 * Words (any inflection) -> one canonical token: the general vocabulary of API needs, plus common
 * abbreviations. No word here names a domain (no "invoice", "event", "ticket").
 */
const CANONICAL_WORDS: Readonly<Record<string, readonly string[]>> = {
  get: [
    "get",
    "fetch",
    "retrieve",
    "obtain",
    "read",
    "list",
    "enumerate",
    "show",
    "display",
    "grab",
    "pull",
    "lookup",
    "inspect",
  ],
  filter: ["filter", "restrict", "narrow", "scope"],
  search: ["search", "find", "locate", "grep"],
  create: ["create", "make", "insert"],
  delete: ["delete", "remove", "erase", "purge", "destroy"],
  update: ["update", "modify", "edit", "change", "patch", "alter", "adjust", "amend"],
  // Actions on a job, a run or a request: agents name the same need with many verbs.
  retry: ["retry", "rerun", "retrigger", "restart", "relaunch", "resubmit", "reattempt", "redo", "replay"],
  cancel: ["cancel", "abort", "halt", "terminate"],
  revert: ["revert", "rollback", "undo"],
  copy: ["copy", "clone"],
  approve: ["approve", "accept"],
  reject: ["reject", "decline", "deny"],
  import: ["import", "ingest", "upload"],
  notify: ["notify", "notification", "alert"],
  subscribe: ["subscribe", "subscription", "watch"],
  mute: ["mute", "silence", "snooze", "unmute"],
  compare: ["compare", "comparison", "diff"],
  // Nouns of general API vocabulary that agents spell or abbreviate in several ways.
  log: ["log", "logs", "logfile", "stdout", "stderr"],
  status: ["status", "state"],
  quantity: ["quantity", "qty"],
  supplier: ["supplier", "vendor"],
  artifact: ["artifact", "artefact"],
  tag: ["tag", "label"],
  field: ["field", "attribute", "property", "prop"],
  thread: ["thread", "conversation"],
  comment: ["comment", "remark"],
  history: ["history", "changelog", "audit", "timeline", "activity"],
  image: ["image", "picture", "photo", "img"],
  average: ["average", "avg", "mean", "median"],
  distinct: ["distinct", "unique"],
  number: ["numeric", "integer", "int", "float", "decimal"],
  string: ["string", "str"],
  boolean: ["boolean", "bool"],
  empty: ["empty", "null", "blank", "nil"],
  latest: ["latest", "newest", "recent"],
  recursive: [
    "recursive",
    "recursively",
    "nested",
    "hierarchy",
    "hierarchical",
    "subtree",
    "subfolder",
    "subdirectory",
    "subdir",
    "tree",
    "depth",
  ],
  merge: ["merge", "combine", "consolidate", "dedupe", "deduplicate"],
  expire: ["expire", "expiry", "expiration", "ttl"],
  version: ["version", "revision"],
  index: ["index", "indexes", "indices"],
  permission: ["permission", "privilege", "authorization", "authorisation"],
  login: ["login", "signin", "authenticate", "authentication"],
  webhook: ["webhook", "callback"],
  timeout: ["timeout"],
  limit: ["limit", "quota", "cap", "maximum", "max"],
  param: ["parameter", "param", "argument", "arg", "option", "flag"],
  sort: ["sort", "sorting", "orderby", "sortby"],
  group: ["groupby"],
  // Not "page" alone: "page views", "a wiki page" are not paging ("next page", "page size" are phrases).
  // Truncated or capped results are the same need as paging: a cap without a way to the rest.
  paginate: [
    "paginate",
    "pagination",
    "paging",
    "cursor",
    "truncate",
    "truncated",
    "capped",
    "cutoff",
    "offset",
    "pagesize",
    "nextpage",
    "pagetoken",
    "perpage",
  ],
  export: ["export", "download", "dump"],
  count: ["count", "total", "tally"],
  aggregate: ["aggregate", "aggregation", "sum", "subtotal"],
  bulk: ["bulk", "batch"],
  error: ["error", "fail", "failure", "exception", "broken", "errored", "unsuccessful"],
  timezone: ["timezone", "tz", "utc"],
  daterange: [
    "daterange",
    "timerange",
    "timeframe",
    "timespan",
    "timewindow",
    "startdate",
    "enddate",
    "fromdate",
    "todate",
    "ytd",
    "mtd",
    "qtd",
  ],
  metadata: ["metadata"],
  fulltext: ["fulltext"],
  pullrequest: ["pullrequest", "pr", "prs", "mr"],
  purchaseorder: ["purchaseorder", "po", "pos"],
  // Abbreviations, not synonyms.
  repository: ["repo", "repository"],
  document: ["doc", "docs", "document"],
  directory: ["dir", "directory"],
  configuration: ["config", "configuration", "cfg"],
  information: ["info", "information"],
  identifier: ["identifier"],
};

const STOPWORDS_RAW = `
a about above after again against all almost also am an and any are aren as at be because been before being below
between both but by can cannot cant could couldn did didn do does doesn doing don down during each either else etc
even ever every few for from further had hadn has hasn have haven having he her here hers him his how however i if
in into is isn it its itself just least less let lets like ll m may me might more most much must my myself no nor not
now of off on once one only or other others our ours out over own per perhaps please quite rather re really s same
shall she should shouldn so some such t than that the their theirs them then there these they thing things this those
though through thus to too under until up upon us ve very via was wasn way we were weren what whatever when where
whether which while who whom whose why will with within without won would wouldn yet you your yours
need needed needs want wanted wants able unable tried try trying call called calling calls use used using uses
tool tools function endpoint server mcp api support supported supports currently seem seems seemed something
anything everything add adding added allow allows provide provided exist exists existing available already actually
instead possible maybe sure also got hi hello hey thanks context note fyi ask asked asks e g eg ie
`;

function buildCanonical(): Map<string, string> {
  const m = new Map<string, string>();
  // Phrase outputs are tokens already: they must not be stemmed again.
  for (const p of [...PHRASES, ...BOUNDS]) if (!p.out.includes(" ")) m.set(p.out, p.out);
  for (const [canon, words] of Object.entries(CANONICAL_WORDS)) {
    for (const w of words) {
      m.set(w, canon);
      m.set(stem(w), canon);
    }
  }
  return m;
}
const CANONICAL: ReadonlyMap<string, string> = buildCanonical();
const STOPWORDS: ReadonlySet<string> = new Set(
  STOPWORDS_RAW.split(/\s+/)
    .filter((w) => /^[a-z]+$/.test(w))
    .flatMap((w) => [w, stem(w)]),
);

const CANONICAL_TOKENS: ReadonlySet<string> = new Set(CANONICAL.values());

/** True for a token the canonical map produces ("get", "filter", "daterange"): never a typo. */
export function isCanonical(term: string): boolean {
  return CANONICAL_TOKENS.has(term);
}

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

function computeTerm(word: string): string | null {
  if (isPlaceholder(word)) return word;
  const direct = CANONICAL.get(word);
  if (direct !== undefined) return direct;
  if (STOPWORDS.has(word)) return null;
  const s = stem(word);
  const canon = CANONICAL.get(s);
  if (canon !== undefined) return canon;
  if (STOPWORDS.has(s) || s.length < 2) return null;
  return s;
}

/** Memo of termOf; cleared when full, so memory stays bounded (termOf is pure, so results never change). */
const TERM_MEMO = new Map<string, string | null>();
const TERM_MEMO_MAX = 50_000;

/** One normalised word -> its token (canonical, else stemmed), or null for a stopword. */
export function termOf(word: string): string | null {
  const hit = TERM_MEMO.get(word);
  if (hit !== undefined) return hit;
  if (TERM_MEMO.size >= TERM_MEMO_MAX) TERM_MEMO.clear();
  const t = computeTerm(word);
  TERM_MEMO.set(word, t);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Public helpers

/** Normalised words, placeholders and "|" separators, before stemming and stopwords. */
export function normalisedTokens(text: string): string[] {
  return phrases(phrases(dates(scan(text)), PHRASE_INDEX), BOUNDS_INDEX);
}

/** Lower-case text with volatile parts replaced by placeholders and phrases canonicalised (for display and tests). */
export function normaliseText(text: string): string {
  let s = "";
  for (const t of normalisedTokens(text)) {
    if (t.charCodeAt(0) === 124 /* | */) {
      if (s !== "" && !s.endsWith(",")) s += ",";
      continue;
    }
    s += s === "" || s.endsWith(",") ? (s === "" ? t : ` ${t}`) : ` ${t}`;
  }
  return s.endsWith(",") ? s.slice(0, -1) : s;
}

/** What one text says: its token runs, and its argument slots. */
export interface TextAnalysis {
  /** Tokens (placeholders kept, stopwords dropped), split into runs at sentence punctuation. */
  runs: string[][];
  /**
   * Argument slots: what the need is keyed on ("filter deals by stage" -> "stage", "costs per
   * project" -> "project", "owner filter" -> "owner", "where status = ..." -> "status"). Two needs
   * on one tool with different slots are different needs.
   */
  slots: string[];
}

/** Words that introduce a slot: the noun phrase after them is what the need is keyed on. */
const SLOT_OPENERS: ReadonlySet<string> = new Set(["by", "per", "where"]);
/** Words between an opener and its noun phrase. */
const SLOT_SKIP: ReadonlySet<string> = new Set([
  "the",
  "a",
  "an",
  "their",
  "its",
  "each",
  "every",
  "one",
  "some",
  "specific",
  "given",
  "which",
  "what",
  "whose",
  "my",
  "our",
  "your",
  "his",
  "her",
]);
/** Terms that follow a slot word ("stage filter", "severity param"). */
const SLOT_MARKERS: ReadonlySet<string> = new Set(["filter", "param", "sort"]);
/** Terms too generic to be a slot, and slot synonyms. */
const NOT_SLOTS: ReadonlySet<string> = new Set([
  "param",
  "filter",
  "get",
  "data",
  "value",
  "information",
  "sort",
  "group",
  "search",
  "default",
  "hand",
  "itself",
  "name",
  // adjectives that qualify a parameter rather than name it ("unknown argument", "extra option")
  "unknown",
  "extra",
  "optional",
  "additional",
  "miss",
  "missing",
  "new",
  "another",
  "different",
  "right",
  "correct",
  "invalid",
  "requir",
  "required",
]);
const SLOT_CANON: Readonly<Record<string, string>> = {
  date: "daterange",
  time: "daterange",
  dat: "daterange",
  timestamp: "daterange",
  day: "daterange",
};
const MAX_SLOT_WORDS = 3;

function slotTerm(t: string): string | null {
  if (NOT_SLOTS.has(t) || isPlaceholder(t)) return null;
  return SLOT_CANON[t] ?? t;
}

/** Analyse one text: token runs and slots, from one normalisation pass. */
export function analyse(text: string): TextAnalysis {
  const toks = normalisedTokens(text);
  const runs: string[][] = [];
  const slots: string[] = [];
  let run: string[] = [];
  let prevTerm: string | null = null;
  for (let i = 0; i < toks.length; i++) {
    const w = toks[i]!;
    if (w.charCodeAt(0) === 124) {
      if (run.length > 0) runs.push(run);
      run = [];
      prevTerm = null;
      continue;
    }
    if (SLOT_OPENERS.has(w)) {
      // The head of the noun phrase after the opener: its last content word.
      let j = i + 1;
      while (j < toks.length && SLOT_SKIP.has(toks[j]!)) j++;
      let head: string | null = null;
      for (let k = 0; k < MAX_SLOT_WORDS && j < toks.length; k++, j++) {
        const tj = toks[j]!;
        if (tj.charCodeAt(0) === 124) break;
        const term = termOf(tj);
        if (term === null || isPlaceholder(term)) break;
        head = term;
      }
      const slot = head === null ? null : slotTerm(head);
      if (slot !== null && !slots.includes(slot)) slots.push(slot);
    }
    const t = termOf(w);
    if (t === null) {
      prevTerm = null;
      continue;
    }
    if (SLOT_MARKERS.has(t) && prevTerm !== null) {
      const slot = slotTerm(prevTerm);
      if (slot !== null && !slots.includes(slot)) slots.push(slot);
    }
    run.push(t);
    prevTerm = t;
  }
  if (run.length > 0) runs.push(run);
  return { runs, slots };
}

/**
 * Text -> tokens (placeholders kept, stopwords dropped), split into runs at sentence
 * punctuation so that bigrams never span two clauses.
 */
export function tokenRuns(text: string): string[][] {
  return analyse(text).runs;
}

/** Flat token list of a text. */
export function tokens(text: string): string[] {
  return tokenRuns(text).flat();
}
