/**
 * secretlint's recommended preset (@secretlint/secretlint-rule-preset-recommend), run
 * synchronously on a string. @secretlint/core's `lintSource` is async and per file, and costs
 * about 440 µs for a 500-character report here (bench figure in the README), too slow for
 * ingestion; the rules themselves are plain synchronous regular-expression scans behind the
 * rule interface (`create(context, options)` → `{ file(source) }`). This host creates each
 * rule once with a context that only collects the reported ranges, so the maintained patterns
 * (and their built-in allow lists, e.g. AWS's documented example keys) are used as they are,
 * and each only when the text holds a literal its patterns cannot match without (GUARDS, read
 * off the rules' expressions: `ghp_` for GitHub, `xox` for Slack, `://` for connection
 * strings, …), which is what makes it cheap: most reports hold none of them.
 * test/unit/privacy-secretlint.test.ts checks the host finds exactly what `lintSource` finds.
 * A rule a newer preset adds has no guard and always runs.
 *
 * Left out: `filter-comments`, which honours `secretlint-disable` comments (an agent could
 * write one to keep a secret), and the GCP rule's file-based checks (they need a `.json`/.p12
 * file; the PEM private key inside such a file is caught by the `privatekey` rule).
 */
import { rules } from "@secretlint/secretlint-rule-preset-recommend";

type Rule = (typeof rules)[number];
type RuleContext = Parameters<Rule["create"]>[0];
type RuleSource = Parameters<NonNullable<ReturnType<Rule["create"]>["file"]>>[0];

/** A range a preset rule reported: [start, end) in the scanned text, and the rule's short name. */
export interface SecretlintHit {
  start: number;
  end: number;
  rule: string;
}

const EXCLUDED = new Set(["@secretlint/secretlint-rule-filter-comments"]);

/** Per-rule options: AWS access key ids are scanned too (the preset leaves them off by default). */
const OPTIONS: Record<string, object> = { "@secretlint/secretlint-rule-aws": { enableIDScanRule: true } };

/** "@secretlint/secretlint-rule-github" → "github". */
export function shortRuleName(id: string): string {
  return id.replace(/^@secretlint\/secretlint-rule-/, "");
}

/**
 * Per rule, substrings (of the lower-cased text) one of which every match of the rule's
 * expressions contains. Read from the preset's sources (11.7.1); a rule without an entry
 * always runs.
 */
const GUARDS: Record<string, readonly string[]> = {
  aws: ["akia", "a3t", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "asia", "secret", "account"],
  gcp: [], // file-based checks only (see above): never fires on a string
  privatekey: ["private key"],
  npm: ["npm_", "_authtoken=", "x-oauth-basic"],
  basicauth: ["://"],
  slack: ["xox", "xapp", "hooks.slack.com"],
  sendgrid: ["sg."],
  shopify: ["shppa_", "shpca_", "shpat_", "shpss_"],
  github: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
  openai: ["sk-"],
  anthropic: ["sk-ant-api0"],
  linear: ["lin_api_"],
  "1password": ["ops_"],
  "database-connection-string": ["://"],
};

interface Compiled {
  name: string;
  guard: readonly string[] | undefined;
  file: (source: RuleSource) => unknown;
}

let sink: SecretlintHit[] = [];

function compile(): Compiled[] {
  const out: Compiled[] = [];
  for (const rule of rules) {
    if (EXCLUDED.has(rule.meta.id)) continue;
    const name = shortRuleName(rule.meta.id);
    const context = {
      sharedOptions: {},
      // The message text would hold the secret itself: only the id is kept.
      createTranslator: () => (messageId: string) => ({ message: messageId, messageId }),
      report: (descriptor: { range: readonly [number, number] }) => {
        sink.push({ start: descriptor.range[0], end: descriptor.range[1], rule: name });
      },
      ignore: () => {},
    } as unknown as RuleContext;
    const handler = rule.create(context, (OPTIONS[rule.meta.id] ?? {}) as never);
    if (handler.file) out.push({ name, guard: GUARDS[name], file: handler.file.bind(handler) as Compiled["file"] });
  }
  return out;
}

let compiled: Compiled[] | undefined;

/** The short names of the preset rules this host runs. */
export function secretlintRuleNames(): string[] {
  compiled ??= compile();
  return compiled.map((c) => c.name);
}

/** Every literal of GUARDS (the prefilter looks for them all in one pass). */
export const SECRETLINT_LITERALS: readonly string[] = Object.values(GUARDS).flat();

/**
 * Every range the preset's rules report in `content`. `found`: the GUARDS literals that occur
 * in it (src/privacy/prefilter.ts); without it every rule runs (the parity test's reference).
 */
export function scanWithSecretlint(content: string, found?: ReadonlySet<string>): SecretlintHit[] {
  compiled ??= compile();
  const source = {
    content,
    hasBOM: false,
    filePath: undefined,
    physicalFilePath: undefined,
    contentType: "text",
    ext: "",
    getFilePath: () => undefined,
    getPhysicalFilePath: () => undefined,
  } as unknown as RuleSource;
  const hits: SecretlintHit[] = [];
  sink = hits;
  try {
    for (const rule of compiled) {
      if (found && rule.guard && !rule.guard.some((g) => found.has(g))) continue;
      const result = rule.file(source);
      // Only the GCP rule's file checks are async, and they never run without a file path.
      if (result instanceof Promise) result.catch(() => {});
    }
  } finally {
    sink = [];
  }
  return hits;
}
