/**
 * The scrubber, rule by rule and as properties: every secret and every piece of personal data
 * embedded in random text comes out replaced (and counted), and random text without them comes
 * out unchanged. Samples are built at run time (test/helpers/secrets.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFeedback, type FeedbackPayload } from "../../src/feedback/index.js";
import {
  describeRedactions,
  luhnValid,
  parsePrivacySettings,
  resolvePrivacyMode,
  scrubFields,
  scrubJson,
  scrubReport,
  scrubText,
} from "../../src/privacy/index.js";
import { LiteralScanner } from "../../src/privacy/prefilter.js";
import { chars, piiSamples, safeText, secretSamples, withLuhn } from "../helpers/secrets.js";

const placeholder = (rule: string) =>
  ({ email: "[email]", phone: "[phone]", card: "[card]", ip: "[ip]" })[rule] ?? `[secret:${rule}]`;

/** The part of a sample that must not survive (rules that keep a prefix keep `Bearer `, `password=`). */
const secretPart = (sample: string) => sample.replace(/^(Bearer |Basic |password=)/, "");

describe("each rule", () => {
  for (const [rule, sample] of [...secretSamples(), ...piiSamples()]) {
    it(`${rule}: ${sample.slice(0, 24).replace(/\n/g, " ")}… is replaced and counted`, () => {
      const text = `We called the tool with ${sample} and it failed.`;
      const out = scrubText(text, "secrets+pii", "what_i_tried");
      expect(out.text).not.toContain(secretPart(sample));
      expect(out.text).toContain(placeholder(rule));
      expect(out.text.startsWith("We called the tool with ")).toBe(true);
      expect(out.text.endsWith(" and it failed.")).toBe(true);
      expect(out.redactions).toEqual([{ field: "what_i_tried", rule, count: 1 }]);
    });
  }

  it("keeps the prefix that says what the secret was", () => {
    const token = `${chars("abcdefgh", 24)}7`;
    expect(scrubText(`Authorization: Bearer ${token}`, "secrets").text).toBe("Authorization: Bearer [secret:bearer]");
    expect(scrubText(`password=${token} user=bob`, "secrets").text).toBe("password=[secret:key_value] user=bob");
    expect(scrubText(`{"api_key": "${token}", "n": 1}`, "secrets").text).toBe(
      '{"api_key": "[secret:key_value]", "n": 1}',
    );
    expect(scrubText(`DB_PASSWORD: ${token}`, "secrets").text).toBe("DB_PASSWORD: [secret:key_value]");
    expect(scrubText(`GET /x?access_token=${token}&page=2`, "secrets").text).toBe(
      "GET /x?access_token=[secret:key_value]&page=2",
    );
  });

  it("replaces a private key even when the paste was cut off before its END line", () => {
    const out = scrubText(`key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk${chars("abc", 40)}`, "secrets");
    expect(out.text).toBe("key:\n[secret:private_key]");
  });

  it("replaces a whole phone number that ends a sentence", () => {
    expect(scrubText("Reach ops at +44 20 7946 0958.", "secrets+pii").text).toBe("Reach ops at [phone].");
    expect(scrubText("Call 555-123-4567.", "secrets+pii").text).toBe("Call [phone].");
    expect(scrubText("Build 020.7946.0958.12 failed", "secrets+pii").text).toBe("Build 020.7946.0958.12 failed");
  });

  it("card numbers: Luhn-valid ones only, of 13 to 19 digits, starting 2-6", () => {
    const valid = withLuhn(`5${chars("0123456789", 15, 3)}`);
    const invalid = `${valid.slice(0, -1)}${(Number(valid.at(-1)) + 1) % 10}`;
    expect(luhnValid(valid)).toBe(true);
    expect(luhnValid(invalid)).toBe(false);
    expect(scrubText(`card ${valid}`, "secrets+pii").text).toBe("card [card]");
    expect(scrubText(`card ${valid.replace(/(\d{4})(?=\d)/g, "$1-")}`, "secrets+pii").text).toBe("card [card]");
    expect(scrubText(`order ${invalid}`, "secrets+pii").text).toBe(`order ${invalid}`);
    const luhnButNotACard = withLuhn(`9${chars("0123456789", 15, 4)}`);
    expect(scrubText(`id ${luhnButNotACard}`, "secrets+pii").text).toBe(`id ${luhnButNotACard}`);
    const tooShort = withLuhn(`4${chars("0123456789", 11, 5)}`);
    expect(scrubText(`n ${tooShort}`, "secrets+pii").text).toBe(`n ${tooShort}`);
  });

  it("random digit runs that fail the Luhn check stay", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[2-6][0-9]{12,18}$/), (digits) => {
        fc.pre(!luhnValid(digits));
        expect(scrubText(`value ${digits} end`, "secrets+pii").text).toBe(`value ${digits} end`);
      }),
      { numRuns: 300 },
    );
  });

  it("leaves what only looks like personal data or secrets", () => {
    for (const text of [
      "dated 2024-01-15 at 10:30:45, version 1.2.3, 42 items, timestamp 1733100000",
      "connect to 127.0.0.1:5432 or [::1]:8080, bind 0.0.0.0",
      "the bearer token was rejected; basic authentication is off",
      "max_tokens=100 and tokens: 5, the key point, secrets are hard, password reset flow",
      "std::vector<int> and crate::module::item, a MAC 00:1a:2b:3c:4d:5e",
      "mailto is not set; user@localhost has no domain",
      "ISBN 978-3-16-148410-0 and order #12345",
      "[email] and [secret:github] and password=[secret:key_value] are already placeholders",
    ]) {
      expect(scrubText(text, "secrets+pii")).toEqual({ text, redactions: [] });
    }
  });
});

describe("modes", () => {
  const email = piiSamples()[0]![1];
  const token = secretSamples()[0]![1];
  const text = `mail ${email} with ${token}`;

  it("off changes nothing, secrets only credentials, secrets+pii both", () => {
    expect(scrubText(text, "off")).toEqual({ text, redactions: [] });
    expect(scrubText(text, "secrets").text).toBe(`mail ${email} with [secret:github]`);
    expect(scrubText(text, "secrets+pii").text).toBe("mail [email] with [secret:github]");
  });

  it("resolves a server's mode: its own, then the process default, then the saved default, then secrets+pii", () => {
    const settings = parsePrivacySettings({ default: "secrets", servers: { billing: "off" } });
    expect(resolvePrivacyMode(settings, "billing", "secrets+pii")).toEqual({ mode: "off", source: "server" });
    expect(resolvePrivacyMode(settings, "search", "off")).toEqual({ mode: "off", source: "process" });
    expect(resolvePrivacyMode(settings, "search")).toEqual({ mode: "secrets", source: "saved" });
    expect(resolvePrivacyMode(parsePrivacySettings(undefined), "x")).toEqual({
      mode: "secrets+pii",
      source: "built-in",
    });
    // A broken saved value never turns scrubbing off: it reads as nothing saved.
    expect(resolvePrivacyMode(parsePrivacySettings({ default: "none" }), "x").mode).toBe("secrets+pii");
    // A server named like an Object.prototype key is a server like any other.
    expect(resolvePrivacyMode(settings, "constructor").mode).toBe("secrets");
  });
});

describe("reports", () => {
  const payload = (overrides: Record<string, unknown>): FeedbackPayload => {
    const parsed = parseFeedback({ what_i_needed: "x", what_i_tried: "y", gap_type: "other", ...overrides });
    if (!parsed.ok) throw new Error("bad payload");
    return parsed.payload;
  };

  it("scrubs the free-text fields, counts per field and rule, and leaves the others", () => {
    const email = piiSamples()[0]![1];
    const token = secretSamples()[0]![1];
    const p = payload({
      what_i_needed: `a tool to email ${email}`,
      what_i_tried: `called it with ${token} and again for ${email} and ${email}`,
      user_goal: "reply to a customer",
      session_id: email,
      server_name: "mail-mcp",
    });
    const { payload: out, redactions } = scrubReport(p, "secrets+pii");
    expect(out.what_i_needed).toBe("a tool to email [email]");
    expect(out.what_i_tried).toBe("called it with [secret:github] and again for [email] and [email]");
    expect(out.user_goal).toBe("reply to a customer");
    expect(out.session_id).toBe(email);
    expect(redactions).toEqual([
      { field: "what_i_needed", rule: "email", count: 1 },
      { field: "what_i_tried", rule: "github", count: 1 },
      { field: "what_i_tried", rule: "email", count: 2 },
    ]);
    expect(describeRedactions(redactions)).toBe(
      "email ×1 in what_i_needed; github ×1 in what_i_tried; email ×2 in what_i_tried",
    );
    expect(scrubReport(p, "off")).toEqual({ payload: p, redactions: [] });
  });

  it("never lets a match run from one field into the next", () => {
    const out = scrubFields({ a: "ends with password=", b: "hunter2 starts this one" }, "secrets");
    expect(out.fields).toEqual({ a: "ends with password=", b: "hunter2 starts this one" });
    const pem = secretSamples()[9]![1];
    const cut = pem.slice(0, 60);
    const both = scrubFields({ a: cut, b: "next field stays" }, "secrets");
    expect(both.fields).toEqual({ a: "[secret:private_key]", b: "next field stays" });
  });
});

describe("scrubJson", () => {
  it("scrubs every string, replaces whole values under secret-named keys, and names JSON paths", () => {
    const email = piiSamples()[0]![1];
    const value = {
      query: `find ${email}`,
      credentials: { user: "bob", password: "hunter2" },
      api_key: "abc",
      items: ["plain", `call +44 20 7946 0958`],
      n: 3,
      ok: true,
      none: null,
    };
    const out = scrubJson(value, "secrets+pii", "arguments");
    expect(out.value).toEqual({
      query: "find [email]",
      credentials: { user: "[secret:key_value]", password: "[secret:key_value]" },
      api_key: "[secret:key_value]",
      items: ["plain", "call [phone]"],
      n: 3,
      ok: true,
      none: null,
    });
    expect(out.redactions).toEqual([
      { field: "arguments.query", rule: "email", count: 1 },
      { field: "arguments.credentials.user", rule: "key_value", count: 1 },
      { field: "arguments.credentials.password", rule: "key_value", count: 1 },
      { field: "arguments.api_key", rule: "key_value", count: 1 },
      { field: "arguments.items[1]", rule: "phone", count: 1 },
    ]);
    expect(value.api_key).toBe("abc");
    expect(scrubJson(value, "off")).toEqual({ value, redactions: [] });
  });
});

describe("the prefilter", () => {
  it("reports exactly the literals that occur, and the longest digit run", () => {
    const scanner = new LiteralScanner(["ghp_", "sk-", "@", "private key", "xox"]);
    const got = scanner.scan("mail a@b, key ghp_x and sk- but no xo-x; call 020 7946-0958 then 12");
    expect([...got.found].sort()).toEqual(["@", "ghp_", "sk-"]);
    expect(got.digitRun).toBe(11);
    expect(() => new LiteralScanner(["GHP_"])).toThrow(/lower case/);
  });

  it("finds a literal wherever it is (the same answer as String#includes)", () => {
    const literals = ["ab", "abc", "b_", "zz", "://", "@"];
    const scanner = new LiteralScanner(literals);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "c", "_", ":", "/", "z", "@", " ", "é") }), (s) => {
        expect([...scanner.scan(s).found].sort()).toEqual(literals.filter((l) => s.includes(l)).sort());
      }),
      { numRuns: 500 },
    );
  });
});

describe("properties", () => {
  const samples = [...secretSamples(1), ...secretSamples(2), ...piiSamples(1), ...piiSamples(2)];

  it("text without secrets or personal data comes out unchanged", () => {
    fc.assert(
      fc.property(safeText, fc.constantFrom("secrets", "secrets+pii" as const), (text, mode) => {
        expect(scrubText(text, mode)).toEqual({ text, redactions: [] });
      }),
      { numRuns: 500 },
    );
  });

  it("every embedded secret and piece of personal data comes out replaced and counted", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(safeText, fc.constantFrom(...samples)), { minLength: 1, maxLength: 5 }),
        safeText,
        (parts, tail) => {
          // Each sample stands between spaces, as it would in prose.
          const text = `${parts.map(([t, [, s]]) => `${t} ${s} `).join("")}${tail}`;
          const out = scrubText(text, "secrets+pii");
          for (const [, [rule, sample]] of parts) {
            expect(out.text).not.toContain(secretPart(sample));
            expect(out.text).toContain(placeholder(rule));
          }
          const total = out.redactions.reduce((n, r) => n + r.count, 0);
          expect(total).toBe(parts.length);
          // Scrubbed text scrubs to itself.
          expect(scrubText(out.text, "secrets+pii")).toEqual({ text: out.text, redactions: [] });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("secrets mode replaces every secret and no personal data", () => {
    fc.assert(
      fc.property(fc.constantFrom(...secretSamples(3)), fc.constantFrom(...piiSamples(3)), safeText, (s, p, t) => {
        const out = scrubText(`${t} ${s[1]} ${p[1]} ${t}`, "secrets");
        expect(out.text).not.toContain(secretPart(s[1]));
        expect(out.text).toContain(p[1]);
      }),
      { numRuns: 200 },
    );
  });
});
