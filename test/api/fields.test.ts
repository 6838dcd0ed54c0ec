/**
 * Every field of the zod schema, posted once, comes back from every surface:
 * REST get, the list JSON (fast path), JSON/NDJSON/CSV export and the MCP
 * get_report tool (each field under its table label, where its display says);
 * each searchable field is found by full-text search and each filterable field
 * by its filter. Values are generated from the schema, so a
 * field added to the contract is covered without editing this test.
 */
import MarkdownIt from "markdown-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  EXPORTED_FIELDS,
  FILTERABLE_FIELDS,
  feedbackToolInputSchema,
  REPORT_FIELD_NAMES,
  REPORT_FIELDS,
  SEARCHABLE_FIELDS,
} from "../../src/feedback/index.js";
import { httpClient, textOf } from "../mcp/helpers.js";
import { parseCsv } from "../helpers/csv.js";
import { request } from "../helpers/http.js";
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

/** A distinct word per field, so a full-text hit names the column it came from. */
const token = (field: string) => `zq${field.replace(/_/g, "")}`;

/** A value for each field, read off its zod schema: enums their last value, lists two items, text a token. */
function fullReport(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(feedbackToolInputSchema.shape)) {
    const schema = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : (field as z.ZodType);
    if (schema instanceof z.ZodEnum) out[name] = schema.options.at(-1);
    else if (schema instanceof z.ZodArray) out[name] = [`${token(name)}a`, `${token(name)}b`];
    else out[name] = `${token(name)} value of ${name}`;
  }
  return out;
}

/**
 * What report Markdown shows under a label, read with a CommonMark parser: the
 * code spans of a `- **label:** …` fact, and the fenced blocks and code spans
 * under a `## label` heading (up to the next heading).
 */
function underLabel(markdown: string, label: string): { line: string[][]; section: string[][] } {
  const tokens = new MarkdownIt().parse(markdown, {});
  const spans = (i: number) =>
    (tokens[i]!.children ?? []).filter((t) => t.type === "code_inline").map((t) => t.content);
  const line: string[][] = [];
  const section: string[][] = [];
  for (const [i, t] of tokens.entries()) {
    if (t.type === "inline" && t.content.startsWith(`**${label}:**`) && tokens[i - 1]?.type === "paragraph_open")
      line.push(spans(i));
    if (t.type === "heading_open" && t.tag === "h2" && tokens[i + 1]!.content === label) {
      const found: string[] = [];
      for (let j = i + 3; j < tokens.length && tokens[j]!.type !== "heading_open"; j++) {
        if (tokens[j]!.type === "fence") found.push(tokens[j]!.content.replace(/\n$/, ""));
        if (tokens[j]!.type === "inline") found.push(...spans(j));
      }
      section.push(found);
    }
  }
  return { line, section };
}

describe("every stored field, on every surface", () => {
  const report = fullReport();
  let id: number;
  const expectAllFields = (got: Record<string, unknown>, where: string) => {
    for (const name of REPORT_FIELD_NAMES) expect(got[name], `${name} from ${where}`).toEqual(report[name]);
  };

  beforeAll(async () => {
    const res = await request(`${base}/feedback`, { body: report });
    expect(res.status).toBe(201);
    id = res.body.id;
    // A second report with other values, so that filters and searches have something to leave out.
    await request(`${base}/feedback`, {
      body: { what_i_needed: "other", what_i_tried: "other", gap_type: "missing_tool", server_name: "other" },
    });
  });

  it("comes back from GET /api/feedback/:id", async () => {
    expectAllFields((await request(`${base}/feedback/${id}`)).body, "REST get");
  });

  it("comes back from the list JSON and both JSON exports", async () => {
    const list = await request(`${base}/feedback?limit=10`);
    expectAllFields(
      list.body.items.find((r: { id: number }) => r.id === id),
      "list",
    );
    const json = await request(`${base}/export?format=json`);
    expectAllFields(
      json.body.find((r: { id: number }) => r.id === id),
      "JSON export",
    );
    const ndjson = await request(`${base}/export?format=ndjson`);
    const line = ndjson.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((r: { id: number }) => r.id === id);
    expectAllFields(line, "NDJSON export");
  });

  it("comes back from the CSV export", async () => {
    const [header, ...rows] = parseCsv((await request(`${base}/export?format=csv`)).text);
    const row = rows.find((r) => r[header!.indexOf("id")] === String(id))!;
    expect(row).toBeDefined();
    for (const name of EXPORTED_FIELDS) {
      const value = report[name];
      expect(header, name).toContain(name);
      expect(row[header!.indexOf(name)], name).toBe(Array.isArray(value) ? value.join(", ") : String(value));
    }
  });

  it("comes back from the MCP get_report tool, each field under its label from the table", async () => {
    const { client } = await httpClient(`${server.url}/mcp`);
    try {
      const text = textOf(await client.callTool({ name: "get_report", arguments: { id } }));
      for (const name of REPORT_FIELD_NAMES) {
        const { label, display } = REPORT_FIELDS[name];
        const value = report[name];
        expect(label, name).toMatch(/\S/);
        expect(["line", "section"], name).toContain(display);
        const shown = underLabel(text, label);
        // Exactly one place shows the field: a fact line or a section, as the table says.
        expect(shown, `${name} (${label})`).toEqual({
          line: display === "line" ? [Array.isArray(value) ? value : [String(value)]] : [],
          section: display === "section" ? [Array.isArray(value) ? value : [String(value)]] : [],
        });
      }
    } finally {
      await client.close();
    }
  });

  it("is found by full-text search exactly when searchable, and by its filter when filterable", async () => {
    for (const name of REPORT_FIELD_NAMES) {
      const found = await request(`${base}/feedback?q=${token(name)}`);
      expect(found.status).toBe(200);
      const ids = found.body.items.map((r: { id: number }) => r.id);
      expect(ids, `q=${token(name)}`).toEqual(SEARCHABLE_FIELDS.includes(name) ? [id] : []);
    }
    for (const name of FILTERABLE_FIELDS) {
      const filtered = await request(`${base}/feedback?${new URLSearchParams({ [name]: String(report[name]) })}`);
      expect(filtered.status, name).toBe(200);
      expect(
        filtered.body.items.map((r: { id: number }) => r.id),
        name,
      ).toEqual([id]);
    }
  });
});
