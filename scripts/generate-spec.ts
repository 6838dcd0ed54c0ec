/**
 * Generates drop-ins/spec/ from THE contract in src/feedback: the tool
 * definition, the server instructions, the agent-facing replies, the payload
 * vectors, and what a drop-in scrubs before it keeps a report (src/privacy).
 * Every drop-in's test loads these files and asserts it reproduces them;
 * test/spec/spec.test.ts fails when they are stale.
 *
 *   npm run spec            write the files
 *   npm run spec -- --check exit 1 if a file on disk differs
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  FEEDBACK_REPLIES,
  FEEDBACK_SERVER_INSTRUCTIONS,
  LIMITS,
  REPORT_FIELD_NAMES,
  feedbackToolDefinition,
  knownGapSentence,
  parseFeedback,
  recordedReply,
  type KnownGap,
  type FeedbackPayload,
  type FieldIssue,
} from "../src/feedback/index.js";
import {
  cutToLimits,
  DEFAULT_PRIVACY_MODE,
  PRIVACY_MODES,
  type PrivacyMode,
  SCRUBBED_FIELDS,
  scrubReport,
  scrubText,
} from "../src/privacy/index.js";

export const SPEC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../drop-ins/spec");

/** Every stored field, in the order the REST API returns them; absent optionals read back as null. */
export const STORED_FIELDS = REPORT_FIELD_NAMES;

type Stored = Record<(typeof STORED_FIELDS)[number], unknown>;

function stored(payload: FeedbackPayload): Stored {
  const out = {} as Stored;
  const source = payload as unknown as Record<string, unknown>;
  for (const f of STORED_FIELDS) out[f] = source[f] ?? null;
  return out;
}

interface ValidVector {
  name: string;
  note: string;
  input: unknown;
  /** The report as GET /api/feedback/:id returns it (id, timestamps and status left out). */
  stored: Stored;
}

interface InvalidVector {
  name: string;
  note: string;
  input: unknown;
  /** HTTP status POST /api/feedback answers, with error.code "validation_failed". */
  status: number;
  /** error.details of the answer: every field named, in order. */
  issues: FieldIssue[];
}

/** The complete, clean report every drop-in test sends through its SDK and reads back. */
export const FULL_REPORT = {
  what_i_needed: "Filter invoices by a date range (from, to) in list_invoices.",
  what_i_tried:
    "Called list_invoices with no arguments and filtered 4,812 rows by hand; search_invoices only matches text.",
  gap_type: "missing_parameter",
  server_name: "billing-server",
  server_version: "2.4.1",
  tool_name: "list_invoices",
  suggestion: "Add optional from_date and to_date (ISO 8601) parameters to list_invoices.",
  user_goal: "Total last quarter's unpaid invoices per customer — «Q3», naïve café ☕.",
  resolution: "worked_around",
  tools_available: ["list_invoices", "search_invoices", "get_customer"],
  agent_model: "claude-sonnet-4-5",
  session_id: "session-7f3a",
  client_type: "claude-code",
} as const;

const base = {
  what_i_needed: "Export as CSV.",
  what_i_tried: "get_report returns HTML only.",
  gap_type: "wrong_format",
};

const validInputs: Array<Omit<ValidVector, "stored">> = [
  { name: "full", note: "every field set, non-ASCII text included", input: FULL_REPORT },
  { name: "minimal", note: 'only the three required fields; server_name defaults to "unknown"', input: base },
  {
    name: "null_tools_available",
    note: "null tools_available (old Go drop-ins) reads as an empty list",
    input: { ...base, tools_available: null },
  },
  {
    name: "json_string_tools_available",
    note: "tools_available as a JSON-encoded array string",
    input: { ...base, tools_available: '["get_report", "list_reports"]' },
  },
  {
    name: "comma_string_tools_available",
    note: "tools_available as a comma-separated string",
    input: { ...base, tools_available: "get_report, list_reports ,," },
  },
  {
    name: "empty_optionals",
    note: '"" and null optionals read as absent',
    input: { ...base, server_name: "", tool_name: "", suggestion: null, resolution: "", agent_model: "  " },
  },
  {
    name: "unknown_fields",
    note: "unknown extra fields are ignored",
    input: { ...base, server_name: "reports", priority: "high", extra: { nested: true } },
  },
  {
    name: "trimmed_required",
    note: "required text is trimmed",
    input: { ...base, what_i_needed: "  Export as CSV.  " },
  },
  {
    name: "at_limits",
    note: "every bounded field at its maximum length",
    input: {
      ...base,
      what_i_needed: "n".repeat(LIMITS.what_i_needed),
      server_name: "s".repeat(LIMITS.server_name),
      tools_available: Array.from({ length: LIMITS.tools_available_items }, (_, i) => `t${i}`),
    },
  },
];

const invalidInputs: Array<Omit<InvalidVector, "status" | "issues">> = [
  { name: "missing_required", note: "what_i_tried and gap_type missing", input: { what_i_needed: "Export as CSV." } },
  { name: "empty_required", note: "required text that is blank", input: { ...base, what_i_needed: "   " } },
  { name: "bad_gap_type", note: "gap_type outside the enum", input: { ...base, gap_type: "feature_request" } },
  { name: "bad_resolution", note: "resolution outside the enum", input: { ...base, resolution: "solved" } },
  {
    name: "over_length",
    note: "what_i_needed one character over its limit",
    input: { ...base, what_i_needed: "n".repeat(LIMITS.what_i_needed + 1) },
  },
  {
    name: "wrong_types",
    note: "a number, a boolean and an object where strings belong",
    input: { ...base, what_i_tried: 42, tool_name: true, suggestion: { a: 1 } },
  },
  {
    name: "bad_tools_available",
    note: "tools_available neither list nor string",
    input: { ...base, tools_available: 7 },
  },
  {
    name: "bad_tools_available_entry",
    note: "a non-string entry in tools_available",
    input: { ...base, tools_available: ["ok", 3] },
  },
  { name: "not_an_object", note: "a JSON array instead of an object", input: [base] },
];

/** The reply texts with placeholders, so every language answers the agent in the same words. */
function replies(): Record<string, string> {
  return {
    recorded: FEEDBACK_REPLIES.recorded("{id}"),
    queued: FEEDBACK_REPLIES.queued(),
    invalid: FEEDBACK_REPLIES.invalid("{details}"),
    invalid_details_format: '{field}: {message}, joined with "; "',
  };
}

export function buildVectors(): { valid: ValidVector[]; invalid: InvalidVector[] } {
  const valid = validInputs.map((v) => {
    const parsed = parseFeedback(v.input);
    if (!parsed.ok) throw new Error(`valid vector ${v.name} does not parse: ${JSON.stringify(parsed.issues)}`);
    return { ...v, stored: stored(parsed.payload) };
  });
  const invalid = invalidInputs.map((v) => {
    const parsed = parseFeedback(v.input);
    if (parsed.ok) throw new Error(`invalid vector ${v.name} parses`);
    return { ...v, status: 422, issues: parsed.issues };
  });
  return { valid, invalid };
}

/** Gap echoes every drop-in must word exactly as src/feedback/echo.ts does (report id 12 in each reply). */
const echoGaps: Array<{ name: string; gap: KnownGap }> = [
  {
    name: "planned_with_note",
    gap: { id: 3, status: "planned", reports: 14, agent_note: "Use list_invoices with from/to until 2.4 ships." },
  },
  { name: "fixed_without_note", gap: { id: 4, status: "fixed", reports: 2, agent_note: null } },
  { name: "wontfix_one_report", gap: { id: 5, status: "wontfix", reports: 1, agent_note: null } },
  {
    name: "open_with_note",
    gap: { id: 6, status: "open", reports: 3, agent_note: "Ask the user for the customer id first." },
  },
  {
    name: "note_padded",
    gap: { id: 7, status: "planned", reports: 9, agent_note: "  Café «Q3» export ☕ lands in 2.5.\n" },
  },
  { name: "note_blank", gap: { id: 8, status: "wontfix", reports: 40, agent_note: "   " } },
  { name: "note_absent", gap: { id: 9, status: "fixed", reports: 0 } },
];

function echoVectors() {
  return echoGaps.map((v) => ({ ...v, sentence: knownGapSentence(v.gap), reply: recordedReply(12, v.gap) }));
}

/**
 * What a drop-in scrubs from a report before it keeps it (its outbox, its stderr line): the
 * sidecar's own output on each text, so a drop-in's portable subset of the rules is held to the
 * same placeholders. Tokens below are made up; AKIAIOSFODNN7EXAMPLE is AWS's documented example.
 */
/** One text a drop-in must scrub as the sidecar does, in one mode. */
type PrivacyText = { name: string; mode: PrivacyMode; input: string };

const GITHUB_TOKEN = `ghp_${"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}`;
const privacyTexts: PrivacyText[] = [
  { name: "github", mode: "secrets+pii", input: `Cloned with ${GITHUB_TOKEN} and got 403.` },
  { name: "bearer", mode: "secrets+pii", input: "Sent Authorization: Bearer abcDEF123456ghiJKL789 and got 401." },
  { name: "basic_auth", mode: "secrets+pii", input: "curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' failed" },
  {
    name: "authorization",
    mode: "secrets+pii",
    input: "The header was authorization=Zm9vYmFyYmF6cXV4 for every call.",
  },
  {
    name: "key_value",
    mode: "secrets+pii",
    input: "Set DB_PASSWORD=hunter2hunter and api_key: sk-live-123 then retried.",
  },
  { name: "key_value_quoted", mode: "secrets+pii", input: 'Body was {"client_secret": "s3cr3t value", "name": "x"}.' },
  {
    name: "jwt",
    mode: "secrets+pii",
    input:
      "Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U was rejected.",
  },
  {
    name: "private_key",
    mode: "secrets+pii",
    input:
      "Key: -----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnz\n-----END RSA PRIVATE KEY----- end",
  },
  {
    name: "private_key_truncated",
    mode: "secrets+pii",
    input: "Truncated -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq",
  },
  {
    name: "aws",
    mode: "secrets+pii",
    input: "Access key AKIAZ7XQ3P5R2T4V6W8Y leaked; the doc example AKIAIOSFODNN7EXAMPLE is fine.",
  },
  {
    name: "slack",
    mode: "secrets+pii",
    input: "Slack bot xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx posted.",
  },
  { name: "npm", mode: "secrets+pii", input: `npm token npm_${"A".repeat(10)}${"b".repeat(26)} expired` },
  { name: "anthropic", mode: "secrets+pii", input: `Anthropic sk-ant-api03-${"x".repeat(93)}AA in the env` },
  {
    name: "openai",
    mode: "secrets+pii",
    input: `OpenAI sk-proj-${"p".repeat(58)}T3BlbkFJ${"q".repeat(58)} and sk-${"a".repeat(20)}T3BlbkFJ${"b".repeat(20)}.`,
  },
  { name: "email", mode: "secrets+pii", input: "Write to jane.doe+billing@example.co.uk, or ops@acme.io." },
  { name: "phone", mode: "secrets+pii", input: "Call +44 20 7946 0958 or (555) 123-4567, not 555-0100." },
  { name: "card", mode: "secrets+pii", input: "Card 4111 1111 1111 1111 was charged; 4111 1111 1111 1112 was not." },
  {
    name: "ip",
    mode: "secrets+pii",
    input: "Request from 203.0.113.7 and 2001:db8::8a2e:370:7334, not 127.0.0.1 or ::1.",
  },
  {
    name: "clean",
    mode: "secrets+pii",
    input: "Version 2.4.1 at 12:30:45 on 2024-05-01, 4,812 rows; bearer authentication — «Q3», naïve café ☕.",
  },
  { name: "placeholders", mode: "secrets+pii", input: "password: [secret:key_value], mail [email] at [ip]" },
  { name: "secrets_only", mode: "secrets", input: `Mail jane@example.com the token ${GITHUB_TOKEN}.` },
  { name: "off", mode: "off", input: `Mail jane@example.com the token ${GITHUB_TOKEN}.` },
];

/**
 * The texts above in combination, so every drop-in meets its rules side by side (overlaps,
 * neighbours, both modes): 40 texts of two to four of them, chosen by a fixed LCG so the file
 * is the same on every run.
 */
function mixedTexts(): PrivacyText[] {
  const parts = privacyTexts.filter((t) => t.mode === "secrets+pii").map((t) => t.input);
  const joins = [" and ", ". ", "\n", ", then ", " "];
  let x = 7;
  const next = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  return Array.from({ length: 40 }, (_, i) => {
    const count = 2 + next(3);
    let input = parts[next(parts.length)]!;
    for (let k = 1; k < count; k++) input += joins[next(joins.length)]! + parts[next(parts.length)]!;
    return { name: `mixed_${i + 1}`, mode: i % 4 === 3 ? "secrets" : "secrets+pii", input };
  });
}

/** A whole report as a drop-in keeps it: its scrubbed fields, cut back to their limits. */
const privacyReports: Array<{ name: string; mode: PrivacyMode; input: Record<string, unknown> }> = [
  {
    name: "secrets_and_pii",
    mode: "secrets+pii",
    input: {
      ...FULL_REPORT,
      what_i_tried: `Called list_invoices with ${GITHUB_TOKEN}; the owner is jane@example.com.`,
      user_goal: "Reach ops at +44 20 7946 0958.",
    },
  },
  {
    name: "cut_to_limit",
    mode: "secrets+pii",
    input: { ...FULL_REPORT, suggestion: `${"s".repeat(LIMITS.suggestion - 11)} password=x` },
  },
];

export function buildPrivacy() {
  return {
    env: "FEEDBACK_PRIVACY",
    modes: PRIVACY_MODES,
    default: DEFAULT_PRIVACY_MODE,
    /** The mode of the stderr line of last resort, whatever FEEDBACK_PRIVACY says. */
    last_resort: "secrets+pii",
    scrubbed_fields: SCRUBBED_FIELDS,
    texts: [...privacyTexts, ...mixedTexts()].map((v) => ({ ...v, output: scrubText(v.input, v.mode).text })),
    reports: privacyReports.map((v) => {
      const parsed = parseFeedback(v.input);
      if (!parsed.ok) throw new Error(`privacy vector ${v.name} does not parse`);
      const kept = cutToLimits(scrubReport(parsed.payload, v.mode).payload) as unknown as Record<string, unknown>;
      return { ...v, kept: Object.fromEntries(SCRUBBED_FIELDS.map((f) => [f, kept[f] ?? null])) };
    }),
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** File name → exact content of every generated file. */
export function buildSpec(): Record<string, string> {
  return {
    "tool.json": json(feedbackToolDefinition()),
    "instructions.json": json({ instructions: FEEDBACK_SERVER_INSTRUCTIONS }),
    "instructions.txt": `${FEEDBACK_SERVER_INSTRUCTIONS}\n`,
    "replies.json": json(replies()),
    "echo.json": json({ report_id: 12, vectors: echoVectors() }),
    "privacy.json": json(buildPrivacy()),
    "vectors.json": json({
      stored_fields: STORED_FIELDS,
      unsent_marker: "PATCHWORKMCP_UNSENT_FEEDBACK",
      ...buildVectors(),
    }),
  };
}

/** Files on disk that differ from what the contract generates now. */
export function staleFiles(dir: string = SPEC_DIR): string[] {
  return Object.entries(buildSpec())
    .filter(([name, content]) => {
      try {
        return readFileSync(join(dir, name), "utf8") !== content;
      } catch {
        return true;
      }
    })
    .map(([name]) => name);
}

function main(): void {
  if (process.argv.includes("--check")) {
    const stale = staleFiles();
    if (stale.length > 0) {
      process.stderr.write(`drop-ins/spec is stale (${stale.join(", ")}): run npm run spec\n`);
      process.exitCode = 1;
    }
    return;
  }
  mkdirSync(SPEC_DIR, { recursive: true });
  for (const [name, content] of Object.entries(buildSpec())) writeFileSync(join(SPEC_DIR, name), content);
  process.stderr.write(`wrote ${Object.keys(buildSpec()).length} files to ${SPEC_DIR}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
