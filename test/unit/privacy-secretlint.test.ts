/**
 * The synchronous host of secretlint's recommended preset (src/privacy/secretlint.ts) finds
 * exactly what @secretlint/core's own `lintSource` finds, guards and all: on a sample of every
 * preset rule, on text with none, and on random mixes. If a newer preset changes a pattern so
 * that a guard literal no longer holds, this fails.
 */
import { lintSource } from "@secretlint/core";
import { creator } from "@secretlint/secretlint-rule-preset-recommend";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LiteralScanner } from "../../src/privacy/prefilter.js";
import {
  SECRETLINT_LITERALS,
  scanWithSecretlint,
  secretlintRuleNames,
  shortRuleName,
} from "../../src/privacy/secretlint.js";
import { piiSamples, secretSamples } from "../helpers/secrets.js";

const scanner = new LiteralScanner(SECRETLINT_LITERALS);

/** What lintSource reports, as "rule start end" strings (AWS ids on, as the host runs it). */
async function viaCore(content: string): Promise<string[]> {
  const result = await lintSource({
    source: { filePath: "/report.txt", content, contentType: "text" },
    options: {
      config: {
        rules: [
          {
            id: creator.meta.id,
            rule: creator,
            rules: [{ id: "@secretlint/secretlint-rule-aws", options: { enableIDScanRule: true } }],
          },
        ],
      } as never,
    },
  });
  return result.messages
    .filter((m) => m.type === "message")
    .map((m) => `${shortRuleName(m.ruleId)} ${m.range[0]} ${m.range[1]}`)
    .sort();
}

function viaHost(content: string): string[] {
  return scanWithSecretlint(content, scanner.scan(content.toLowerCase()).found)
    .map((h) => `${h.rule} ${h.start} ${h.end}`)
    .sort();
}

const PRESET = new Set(secretlintRuleNames());
const presetSamples = [1, 2, 3].flatMap((seed) => secretSamples(seed).filter(([rule]) => PRESET.has(rule)));

describe("the secretlint host", () => {
  it("runs the preset's rules, without the comment filter", () => {
    expect(secretlintRuleNames()).toContain("github");
    expect(secretlintRuleNames()).toContain("aws");
    expect(secretlintRuleNames()).not.toContain("filter-comments");
    expect(new Set(presetSamples.map(([rule]) => rule)).size).toBeGreaterThanOrEqual(12);
  });

  it("finds what lintSource finds in each rule's sample", async () => {
    for (const [rule, sample] of presetSamples) {
      const text = `We tried ${sample} here.`;
      const core = await viaCore(text);
      expect(
        core.some((m) => m.startsWith(`${rule} `)),
        `lintSource finds ${rule}`,
      ).toBe(true);
      expect(viaHost(text), rule).toEqual(core);
    }
  });

  it("finds nothing where lintSource finds nothing", async () => {
    const text = "Needed invoices by date; list_invoices has no from/to. Asia region, account page, secret sauce.";
    expect(await viaCore(text)).toEqual([]);
    expect(viaHost(text)).toEqual([]);
  });

  it("agrees with lintSource on random mixes of samples, personal data and prose", async () => {
    const pieces = [
      ...presetSamples.map(([, s]) => s),
      ...piiSamples().map(([, s]) => s),
      "aws_secret_access_key = ",
      "AWS_ACCOUNT_ID: ",
      "//registry.npmjs.org/:_authToken=",
      "https://",
      "plain words",
      "\n",
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { maxLength: 8 }), async (parts) => {
        const text = parts.join(" ");
        expect(viaHost(text)).toEqual(await viaCore(text));
      }),
      { numRuns: 150 },
    );
  });
});
