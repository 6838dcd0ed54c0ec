/** The field table (src/feedback/fields.ts) against the zod schema and the migrated SQLite schema. */
import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CSV_COLUMNS } from "../../src/http/routes/export.js";
import {
  EXPORTED_FIELDS,
  FILTERABLE_FIELDS,
  feedbackToolInputSchema,
  REPORT_FIELD_NAMES,
  REPORT_FIELDS,
  SEARCHABLE_FIELDS,
} from "../../src/feedback/index.js";
import { FeedbackStore, reportFilterShape, StoreError } from "../../src/store/index.js";
import { tableColumns } from "../../src/store/store.js";
import { FILTER_KEYS } from "../../src/ui/app/types.js";
import { STORED_FIELDS } from "../../scripts/generate-spec.js";
import { tempDir } from "../helpers/serve.js";

const schemaFields = Object.keys(feedbackToolInputSchema.shape);

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

describe("REPORT_FIELDS", () => {
  it("names every field of the zod schema, and nothing else", () => {
    expect([...REPORT_FIELD_NAMES].sort()).toEqual([...schemaFields].sort());
  });

  it("gives each field the storage its zod schema implies", () => {
    for (const name of REPORT_FIELD_NAMES) {
      const schema = unwrap(feedbackToolInputSchema.shape[name]);
      const expected = schema instanceof z.ZodEnum ? "enum" : schema instanceof z.ZodArray ? "json_list" : "text";
      expect(REPORT_FIELDS[name].storage, name).toBe(expected);
    }
  });

  it("reaches every derived list: spec vectors, CSV columns, filters, dashboard keys", () => {
    expect(STORED_FIELDS).toEqual(REPORT_FIELD_NAMES);
    for (const f of EXPORTED_FIELDS) expect(CSV_COLUMNS).toContain(f);
    for (const f of FILTERABLE_FIELDS) {
      expect(Object.keys(reportFilterShape)).toContain(f);
      expect(FILTER_KEYS).toContain(f);
    }
    // The dashboard knows every filter the API takes except the boolean `reviewed` (its status select covers it)
    // and `gap_id` (a gap's own page lists its reports, and each report card links to its gap).
    expect([...FILTER_KEYS].sort()).toEqual(
      Object.keys(reportFilterShape)
        .filter((k) => k !== "reviewed" && k !== "gap_id")
        .sort(),
    );
  });
});

describe("the migrated schema", () => {
  it("has a column for every field and a full-text index over exactly the searchable ones", () => {
    const store = FeedbackStore.open(join(tempDir(), "f.db"));
    expect(tableColumns(store.db, "reports")).toEqual(expect.arrayContaining([...REPORT_FIELD_NAMES]));
    expect([...tableColumns(store.db, "reports_fts")].sort()).toEqual([...SEARCHABLE_FIELDS].sort());
    store.close();
  });

  it("refuses to open a database missing a field's column", () => {
    const path = join(tempDir(), "f.db");
    FeedbackStore.open(path).close();
    const raw = new Database(path);
    raw.exec("DROP INDEX reports_client_type; ALTER TABLE reports DROP COLUMN client_type;");
    raw.close();
    let error: unknown;
    try {
      FeedbackStore.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe("schema_mismatch");
    expect((error as StoreError).message).toMatch(/no column client_type/);
  });

  it("refuses to open a database whose full-text index covers other columns", () => {
    const path = join(tempDir(), "f.db");
    FeedbackStore.open(path).close();
    const raw = new Database(path);
    raw.exec(`DROP TRIGGER reports_fts_delete; DROP TRIGGER reports_fts_update; DROP TABLE reports_fts;
      CREATE VIRTUAL TABLE reports_fts USING fts5 (what_i_needed, content = 'reports', content_rowid = 'id');`);
    raw.close();
    expect(() => FeedbackStore.open(path)).toThrow(/full-text index covers what_i_needed but/);
  });
});
