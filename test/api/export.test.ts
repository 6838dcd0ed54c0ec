/**
 * Defect 9: CSV cells that a spreadsheet would run as a formula, also behind
 * invisible or blank leading characters, and impossible dates in every date
 * filter (REST list, export, stats; MCP list_reports and get_stats).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient, textOf } from "../mcp/helpers.js";
import { parseCsv } from "../helpers/csv.js";
import { request, validReport } from "../helpers/http.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";

let server: ServeProcess;
let base: string;

beforeAll(async () => {
  server = await startServe();
  base = `${server.url}/api`;
});
afterAll(async () => {
  await server?.stop();
});

const LEADERS: Record<string, string> = {
  none: "",
  LF: "\n",
  CR: "\r",
  tab: "\t",
  space: " ",
  NBSP: "\u00A0",
  BOM: "\uFEFF",
  ZWSP: "\u200B",
  ZWNJ: "\u200C",
  ZWJ: "\u200D",
  "word joiner": "\u2060",
  "mixed run": "\u200B \t\u00A0\n",
};
const FORMULA_CHARS = ["=", "+", "-", "@", "\uFF1D", "\uFF0B", "\uFF0D", "\uFF20"];
const HARMLESS = ["plain text", "a=b", " leading space only", "\u200Bzero width then text", "1+1"];

describe("CSV export neutralises formulas", () => {
  it("prefixes an apostrophe to every leader and formula character, and to nothing else", async () => {
    const cases: { name: string; value: string; neutralised: boolean }[] = [];
    for (const [leader, chars] of Object.entries(LEADERS))
      for (const f of FORMULA_CHARS)
        cases.push({
          name: `${leader} + U+${f.codePointAt(0)!.toString(16)}`,
          value: `${chars}${f}SUM(A1)`,
          neutralised: true,
        });
    for (const value of HARMLESS) cases.push({ name: JSON.stringify(value), value, neutralised: false });
    for (const [i, c] of cases.entries()) {
      const res = await request(`${base}/feedback`, {
        body: validReport({ server_name: "csv-variants", session_id: `case-${i}`, suggestion: c.value }),
      });
      expect(res.status, c.name).toBe(201);
    }
    const csv = await request(`${base}/export?format=csv&server_name=csv-variants`);
    expect(csv.status).toBe(200);
    const [header, ...rows] = parseCsv(csv.text);
    expect(rows).toHaveLength(cases.length);
    const session = header!.indexOf("session_id");
    const suggestion = header!.indexOf("suggestion");
    for (const row of rows) {
      const c = cases[Number(row[session]!.slice("case-".length))]!;
      expect(row[suggestion], c.name).toBe(c.neutralised ? `'${c.value}` : c.value);
    }
  });
});

describe("impossible dates are refused on every surface", () => {
  const BAD = [
    ["since", "2026-02-30"],
    ["until", "2025-02-29"],
    ["since", "2026-04-31T10:00:00Z"],
    ["until", "2026-01-01T24:00:00Z"],
    ["since", "2026-13-01"],
  ] as const;

  it("answers 400 naming the field on list, export and stats", async () => {
    for (const path of ["/feedback", "/export", "/export?format=csv", "/stats"]) {
      for (const [field, value] of BAD) {
        const url = `${base}${path}${path.includes("?") ? "&" : "?"}${field}=${encodeURIComponent(value)}`;
        const res = await request(url);
        expect(res.status, url).toBe(400);
        expect(res.body.error.code).toBe("validation_failed");
        expect(res.body.error.details).toEqual([{ field, message: expect.stringContaining("is not a real date") }]);
        expect(res.body.error.message).toContain(`${field}: ${value} is not a real date`);
      }
    }
  });

  it("still takes real dates, leap days included, and filters by them", async () => {
    await request(`${base}/feedback`, { body: validReport({ server_name: "dated" }) });
    const today = new Date().toISOString().slice(0, 10);
    const since = await request(`${base}/feedback?server_name=dated&since=${today}`);
    expect(since.status).toBe(200);
    expect(since.body.items).toHaveLength(1);
    const before = await request(`${base}/feedback?server_name=dated&until=2024-02-29`);
    expect(before.status).toBe(200);
    expect(before.body.items).toHaveLength(0);
    expect((await request(`${base}/stats?since=2024-02-29T23:59:59%2B01:00`)).status).toBe(200);
  });

  it("is an error from the MCP list_reports and get_stats tools, naming the field", async () => {
    const { client } = await httpClient(`${server.url}/mcp`);
    try {
      for (const name of ["list_reports", "get_stats"]) {
        for (const [field, value] of BAD) {
          const result = await client.callTool({ name, arguments: { [field]: value } });
          expect(result.isError, `${name} ${field}=${value}`).toBe(true);
          expect(textOf(result)).toContain(`${field}: ${value} is not a real date`);
        }
        const ok = await client.callTool({ name, arguments: { since: "2024-02-29" } });
        expect(ok.isError ?? false).toBe(false);
      }
    } finally {
      await client.close();
    }
  });
});
