/**
 * Text normalisation for grouping: volatile tokens (ids, UUIDs, dates, numbers, URLs, emails,
 * paths, hex/run ids) become placeholders, identifiers are split into words, common API
 * vocabulary meets at one canonical word, then words are stemmed and stopwords dropped.
 *
 * Everything here is general English and general API vocabulary: nothing names one server's domain.
 */
import { stem } from "./stem.js";

/** Placeholder tokens. They survive tokenisation (so fingerprints keep their shape) but carry no topic. */
export const PLACEHOLDERS = ["<url>", "<email>", "<uuid>", "<date>", "<time>", "<path>", "<hex>", "<id>", "<num>"] as const;
const PLACEHOLDER_SET: ReadonlySet<string> = new Set(PLACEHOLDERS);

export function isPlaceholder(token: string): boolean {
  return PLACEHOLDER_SET.has(token);
}

const MONTH = "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

/** Applied in order: earlier patterns swallow text that later ones would split. */
const VOLATILE: readonly (readonly [RegExp, string])[] = [
  [/\b(?:https?|ftp|s3|gs|file):\/\/[^\s<>"'`)\]]+/gi, " <url> "],
  [/\bwww\.[^\s<>"'`)\]]+/gi, " <url> "],
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, " <email> "],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, " <uuid> "],
  [/\b\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/gi, " <date> "],
  [/\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/g, " <date> "],
  [new RegExp(`\\b${MONTH}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?(?:,?\\s+\\d{4})?\\b`, "gi"), " <date> "],
  [new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH}\\b\\.?(?:,?\\s+\\d{4})?`, "gi"), " <date> "],
  [new RegExp(`\\b${MONTH}\\s+\\d{4}\\b`, "gi"), " <date> "],
  [/\b\d{4}-\d{2}\b/g, " <date> "],
  [/\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?\b/gi, " <time> "],
  [/\b[a-z]:\\[^\s"'`]+/gi, " <path> "],
  // Absolute or home-relative paths, and relative ones with an extension or two separators.
  [/(?<![\w/])(?:~|\.{1,2})?\/(?:[\w.@-]+\/)*[\w.@-]+\/?/g, " <path> "],
  [/\b[\w.-]+(?:\/[\w.-]+)+\.[a-z0-9]{1,6}\b/gi, " <path> "],
  [/\b[\w.-]+\/[\w.-]+\/[\w./-]+/g, " <path> "],
  [/\b0x[0-9a-f]+\b/gi, " <hex> "],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi, " <hex> "],
  [/[$€£]?\b\d+(?:[.,]\d+)*(?:%|k|m|ms|s|kb|mb|gb|x)?\b/gi, " <num> "],
];

/** A run/object id: "run_8f3a2c", "inv-00123", "a1b2c3d4"; but not "get_costs_v2", "utf8" or "2024". */
function idLike(word: string): boolean {
  const segments = word.split(/[_-]+/);
  const separated = segments.length > 1;
  return segments.some((seg) => {
    const digits = seg.replace(/\D/g, "").length;
    if (digits === seg.length) return separated && digits >= 3;
    return digits >= 2 && seg.length >= (separated ? 4 : 5);
  });
}

/** Multi-word phrases that mean one thing, on lower-cased text after placeholders. */
const PHRASES: readonly (readonly [RegExp, string])[] = [
  [/\b(?:date|time|datetime)s?[ _-]?(?:range|window|span|interval|period|bound|boundarie|frame)s?\b/g, " daterange "],
  [/\bbetween (?:two |<num> )?(?:dates|timestamps|days|<date> and <date>)\b/g, " daterange "],
  [/\b(?:start|end|from|to|begin|since|until|after|before)[ _-]?(?:date|time|timestamp|day)s?\b/g, " daterange "],
  [/\b(?:date|time|created|updated|modified)[ _-]?(?:from|to|start|end|after|before|since|until|gte|lte|gt|lt)\b/g, " daterange "],
  [/<date> (?:to|through|until|and|-) <date>/g, " daterange "],
  [/\b(?:since|until|till|before|after|from) (?:<date>|daterange)/g, " daterange "],
  [/\b(?:last|past|previous|prior|next|this|current) (?:<num> )?(?:days?|weeks?|months?|quarters?|years?)\b/g, " daterange "],
  [/\b(?:month|year|quarter|week)[ -]to[ -]date\b|\b(?:ytd|mtd|qtd)\b/g, " daterange "],
  [/\b(?:pull|merge)[ _-]?requests?\b/g, " pullrequest "],
  [/\b(?:order|sort)(?:ed|ing)? by\b/g, " sort "],
  [/\b(?:page[ _-]?size|next[ _-]page|page[ _-]token|per[ _-]page|next[ _-]cursor)\b/g, " paginate "],
  [/\btime[ _-]?zones?\b/g, " timezone "],
  [/\blook(?:ing|ed)?[ _-]?up\b/g, " get "],
  [/\bfull[ _-]?text\b/g, " fulltext "],
  [/\b(?:at once|in (?:one|a single) (?:call|request|go))\b/g, " bulk "],
  [/\bmeta[ _-]data\b/g, " metadata "],
  [/\bcut[ _-]?off\b/g, " truncate "],
];

/** Words (any inflection) -> one canonical token. General API vocabulary only. */
const CANONICAL_WORDS: Readonly<Record<string, readonly string[]>> = {
  get: ["get", "fetch", "retrieve", "obtain", "read", "list", "enumerate", "show", "display", "grab", "pull"],
  filter: ["filter", "restrict", "narrow", "scope"],
  search: ["search", "find", "locate"],
  create: ["create", "make", "insert"],
  delete: ["delete", "remove", "erase", "purge", "destroy"],
  update: ["update", "modify", "edit", "change", "patch", "alter"],
  param: ["parameter", "param", "argument", "arg", "option", "flag"],
  sort: ["sort", "sorting"],
  paginate: ["paginate", "pagination", "paging", "page", "cursor", "offset"],
  export: ["export", "download"],
  repo: ["repo", "repository"],
  pullrequest: ["pr", "prs", "mr"],
  doc: ["doc", "docs", "document", "documentation"],
  folder: ["folder", "directory", "dir"],
  event: ["event", "meeting", "appointment"],
  recur: ["recurring", "recurrence", "repeat", "repeating", "recur"],
  permission: ["permission", "acl", "privilege"],
  attach: ["attachment", "attach"],
  timezone: ["timezone", "tz"],
  bulk: ["bulk", "batch"],
  aggregate: ["aggregate", "aggregation", "sum", "total", "subtotal"],
  error: ["error", "fail", "failure", "exception"],
  truncate: ["truncate", "truncated", "capped"],
  user: ["user", "member", "person", "people"],
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
instead possible maybe sure also got hi hello hey thanks context note fyi ask asked asks
`;

function buildCanonical(): Map<string, string> {
  const m = new Map<string, string>();
  // Phrase outputs are tokens already: they must not be stemmed again.
  for (const [, rep] of PHRASES) m.set(rep.trim(), rep.trim());
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

/** Lower-case text with volatile parts replaced by placeholders and phrases canonicalised. */
export function normaliseText(text: string): string {
  let s = text.normalize("NFKC");
  for (const [re, rep] of VOLATILE) {
    s = s.replace(re, rep);
    // Ids go after hex and before plain numbers, which would otherwise split them.
    if (re.source.includes("{7,}")) s = s.replace(/\b[a-z0-9]+(?:[_-]+[a-z0-9]+)*\b/gi, (w) => (idLike(w) ? " <id> " : w));
  }
  // Split identifiers: camelCase and snake_case/kebab-case become words.
  s = s.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  s = s.toLowerCase().replace(/(?<=[a-z0-9])[_-]+(?=[a-z0-9])/g, " ");
  s = s.replace(/\s+/g, " ");
  for (const [re, rep] of PHRASES) s = s.replace(re, rep).replace(/\s+/g, " ");
  return s.trim();
}

/** One normalised word -> its token (canonical, else stemmed), or null for a stopword. */
export function termOf(word: string): string | null {
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

/**
 * Text -> tokens (placeholders kept, stopwords dropped), split into runs at sentence
 * punctuation so that bigrams never span two clauses.
 */
export function tokenRuns(text: string): string[][] {
  const runs: string[][] = [];
  for (const clause of normaliseText(text).split(/[.;:!?,()[\]{}"\n]+|\s-\s/)) {
    const run: string[] = [];
    for (const m of clause.matchAll(/<[a-z]+>|[a-z][a-z0-9']*/g)) {
      const t = termOf(m[0].replace(/'.*$/, ""));
      if (t !== null) run.push(t);
    }
    if (run.length > 0) runs.push(run);
  }
  return runs;
}

/** Flat token list of a text. */
export function tokens(text: string): string[] {
  return tokenRuns(text).flat();
}
