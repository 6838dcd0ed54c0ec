/**
 * The `.env` writer against the readers that meet the file in practice: a real
 * bash sourcing it (`set -a; . ./.env`), Node's dotenv-style `util.parseEnv`,
 * and our own parser.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv as nodeParseEnv } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envValueProblem, parseEnv, updateEnvFile } from "../../src/settings/env-file.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "pwm-env-"));

/** Source the file in a real bash and print one variable back, NUL-terminated (exactly, no trailing newline). */
function sourcedByBash(dir: string, name: string): string {
  const out = spawnSync("bash", ["-c", `set -a; . ./.env; printf '%s\\0' "$${name}"`], { cwd: dir, encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  expect(out.stderr).toBe("");
  return out.stdout.replace(/\0$/, "");
}

describe(".env values a shell sources", () => {
  it("never runs $(…) or backticks, and every reader gets the value back", () => {
    const dir = tempDir();
    const path = join(dir, ".env");
    const ran = [join(dir, "ran-dollar"), join(dir, "ran-backtick"), join(dir, "ran-quoted")];
    const values = {
      A_DOLLAR: `sk-$(touch ${ran[0]})-$HOME-\${PATH}`,
      B_BACKTICK: `tok\`touch ${ran[1]}\`en"x"\\y#z`,
      // A single quote inside: written as '\'' so the shell cannot be tricked out of the quotes.
      C_QUOTE: `it's'; touch ${ran[2]}; echo '`,
      D_QUOTE_PLAIN: "it's plain",
    };
    updateEnvFile(path, values);
    for (const [name, value] of Object.entries(values)) expect(sourcedByBash(dir, name), name).toBe(value);
    for (const file of ran) expect(existsSync(file), file).toBe(false);

    const text = readFileSync(path, "utf8");
    expect(Object.fromEntries(parseEnv(text))).toEqual(values);
    // Node's dotenv-style reader agrees on every value without a `'`, and on a `'` in a value
    // that nothing else in it needs quoting for.
    const dotenv = nodeParseEnv(text);
    expect(dotenv.A_DOLLAR).toBe(values.A_DOLLAR);
    expect(dotenv.B_BACKTICK).toBe(values.B_BACKTICK);
    expect(dotenv.D_QUOTE_PLAIN).toBe(values.D_QUOTE_PLAIN);
  });

  it("round-trips arbitrary printable values through bash and our parser", () => {
    const dir = tempDir();
    const path = join(dir, ".env");
    fc.assert(
      fc.property(
        fc
          .string({ unit: "grapheme", maxLength: 40 })
          .map((s) => s.trim())
          .filter((s) => envValueProblem(s) === undefined),
        fc.constantFrom("'", "$(", "`", '"', "\\", "'\\''", " #", "${X}"),
        (body, special) => {
          const value = `${special}${body}${special}`;
          writeFileSync(path, "");
          updateEnvFile(path, { OPENAI_API_KEY: value });
          expect(parseEnv(readFileSync(path, "utf8")).get("OPENAI_API_KEY")).toBe(value);
          expect(sourcedByBash(dir, "OPENAI_API_KEY")).toBe(value);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("line and paragraph separators", () => {
  it("refuses U+2028, U+2029, NEL, NUL and lone surrogates", () => {
    const path = join(tempDir(), ".env");
    for (const bad of ["a\u2028b", "a\u2029b", "a\u0085b", "a\u0000b", "a\ud800b"]) {
      expect(() => updateEnvFile(path, { GITHUB_TOKEN: bad }), JSON.stringify(bad)).toThrow(/A \.env value must/);
    }
    expect(existsSync(path)).toBe(false);
  });

  it("finds, replaces and clears a line that already holds one (written by an older version)", () => {
    const path = join(tempDir(), ".env");
    writeFileSync(path, 'OTHER=1\nGITHUB_TOKEN="ghp_a\u2028b"\n');
    expect(parseEnv(readFileSync(path, "utf8")).get("GITHUB_TOKEN")).toBe("ghp_a\u2028b");
    updateEnvFile(path, { GITHUB_TOKEN: null });
    expect(readFileSync(path, "utf8")).toBe("OTHER=1\n");

    writeFileSync(path, 'GITHUB_TOKEN="ghp_a\u2029b"\n');
    updateEnvFile(path, { GITHUB_TOKEN: "ghp_new" });
    expect(readFileSync(path, "utf8")).toBe("GITHUB_TOKEN='ghp_new'\n");
  });
});
