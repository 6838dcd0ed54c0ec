/**
 * Every field of the zod schema, posted once, comes back from every surface:
 * REST get, the list JSON (fast path), JSON/NDJSON/CSV export and the MCP
 * get_report tool; each searchable field is found by full-text search and each
 * filterable field by its filter. Values are generated from the schema, so a
 * field added to the contract is covered without editing this test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  EXPORTED_FIELDS,
  FILTERABLE_FIELDS,
  feedbackToolInputSchema,
  REPORT_FIELD_NAMES,
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

  it("comes back from the MCP get_report tool", async () => {
    const { client } = await httpClient(`${server.url}/mcp`);
    try {
      const text = textOf(await client.callTool({ name: "get_report", arguments: { id } }));
      for (const name of REPORT_FIELD_NAMES) {
        const value = report[name];
        for (const part of Array.isArray(value) ? value : [value]) expect(text, name).toContain(String(part));
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
