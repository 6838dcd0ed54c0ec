/**
 * The drop-ins' portable scrubber (here the TypeScript one; drop-ins/spec/privacy.json holds the
 * others to the same output) against the sidecar's: on random prose with secrets and personal
 * data of every rule the drop-ins carry, both give the same text, and prose without them comes
 * out unchanged. The sidecar names a whole PEM key after secretlint's rule (`privatekey`), the
 * drop-ins after their own (`private_key`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scrubText as dropinScrub } from "../../drop-ins/typescript/feedback-tool.js";
import { scrubText as sidecarScrub } from "../../src/privacy/index.js";
import { piiSamples, safeText, secretSamples } from "../helpers/secrets.js";

/** secretlint rules the drop-ins leave to the sidecar. */
const SIDECAR_ONLY = new Set(["linear", "sendgrid", "shopify", "basicauth", "database-connection-string"]);
const covered = [1, 2, 3].flatMap((seed) =>
  [...secretSamples(seed), ...piiSamples(seed)].filter(([rule]) => !SIDECAR_ONLY.has(rule)),
);
const sidecar = (text: string, mode: "secrets" | "secrets+pii") =>
  sidecarScrub(text, mode).text.replaceAll("[secret:privatekey]", "[secret:private_key]");

describe("the drop-ins' scrubber", () => {
  it("leaves prose without secrets or personal data unchanged", () => {
    fc.assert(
      fc.property(safeText, fc.constantFrom("secrets", "secrets+pii" as const), (text, mode) => {
        expect(dropinScrub(text, mode)).toEqual({ text, counts: [] });
      }),
      { numRuns: 500 },
    );
  });

  it("replaces what the sidecar replaces, with the same placeholders, in both modes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(safeText, fc.constantFrom(...covered)), { minLength: 1, maxLength: 5 }),
        safeText,
        fc.constantFrom("secrets", "secrets+pii" as const),
        (parts, tail, mode) => {
          const text = `${parts.map(([t, [, s]]) => `${t} ${s} `).join("")}${tail}`;
          const out = dropinScrub(text, mode);
          expect(out.text).toBe(sidecar(text, mode));
          expect(out.counts.length > 0).toBe(out.text !== text);
          // Scrubbed text scrubs to itself.
          expect(dropinScrub(out.text, mode).text).toBe(out.text);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("counts nothing and changes nothing with off", () => {
    for (const [, sample] of covered)
      expect(dropinScrub(`x ${sample} y`, "off")).toEqual({ text: `x ${sample} y`, counts: [] });
  });
});
