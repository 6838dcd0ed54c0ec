/**
 * GET /api/export?format=json|ndjson|csv streams every report matching the
 * list filters. Rows are read in keyset chunks so the connection is never held
 * by an open iterator while we wait for a slow client.
 */
import { Router, type Response } from "express";
import { once } from "node:events";
import { z } from "zod";
import { EXPORTED_FIELDS } from "../../feedback/index.js";
import { reportFilterShape, type FeedbackStore, type Report } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { parseOr400 } from "../errors.js";

const exportQuery = z.object({
  ...reportFilterShape,
  format: z.enum(["json", "ndjson", "csv"], { error: "must be json, ndjson or csv" }).default("json"),
});

/** The CSV columns: the store's id, timestamp and status, every exported field of REPORT_FIELDS, then the report's gap. */
export const CSV_COLUMNS: readonly (keyof Report)[] = ["id", "created_at", "status", ...EXPORTED_FIELDS, "gap_id"];

/**
 * What a spreadsheet may read as the start of a formula: = + - @ (and their
 * fullwidth forms, which some spreadsheets fold to ASCII), possibly behind
 * characters it skips or that a reader does not see: controls (tab, CR, LF),
 * spaces of every kind (NBSP included) and format characters (BOM, zero-width
 * space/joiners, word joiner, bidi marks). A lone leading tab or CR also
 * counts, as before.
 */
const FORMULA_START = /^(?:[\p{Cc}\p{Cf}\p{Z}]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|[\t\r])/u;

/** One CSV cell. Cells a spreadsheet could read as a formula get a leading apostrophe; every cell is quoted. */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

const CONTENT_TYPES = { json: "application/json", ndjson: "application/x-ndjson", csv: "text/csv" } as const;

async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await once(res, "drain");
}

export function exportRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const router = Router();
  router.get("/", deps.auth.require("read"), async (req, res) => {
    const { format, ...filter } = parseOr400(exportQuery, req.query);
    const stamp = new Date().toISOString().slice(0, 10);
    res.setHeader("Content-Type", `${CONTENT_TYPES[format]}; charset=utf-8`);
    res.setHeader("Content-Disposition", `attachment; filename="patchworkmcp-feedback-${stamp}.${format}"`);
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    let first = true;
    if (format === "json") await write(res, "[");
    if (format === "csv") await write(res, `${CSV_COLUMNS.join(",")}\r\n`);
    for (const chunk of deps.store.scanReports(filter)) {
      if (closed) return;
      let text = "";
      for (const report of chunk) {
        if (format === "json") text += (first ? "\n" : ",\n") + JSON.stringify(report);
        else if (format === "ndjson") text += `${JSON.stringify(report)}\n`;
        else text += `${CSV_COLUMNS.map((c) => csvCell(report[c])).join(",")}\r\n`;
        first = false;
      }
      await write(res, text);
    }
    if (format === "json") await write(res, first ? "]" : "\n]\n");
    res.end();
  });
  return router;
}
