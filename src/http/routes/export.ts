/**
 * GET /api/export?format=json|ndjson|csv streams every report matching the
 * list filters. Rows are read in keyset chunks so the connection is never held
 * by an open iterator while we wait for a slow client.
 */
import { Router, type Response } from "express";
import { once } from "node:events";
import { z } from "zod";
import { reportFilterShape, type FeedbackStore, type Report } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { parseOr400 } from "../errors.js";

const exportQuery = z.object({
  ...reportFilterShape,
  format: z.enum(["json", "ndjson", "csv"], { error: "must be json, ndjson or csv" }).default("json"),
});

export const CSV_COLUMNS = [
  "id",
  "created_at",
  "server_name",
  "server_version",
  "tool_name",
  "gap_type",
  "resolution",
  "status",
  "what_i_needed",
  "what_i_tried",
  "suggestion",
  "user_goal",
  "tools_available",
  "agent_model",
  "session_id",
  "client_type",
  "gap_id",
] as const satisfies readonly (keyof Report)[];

/**
 * One CSV cell. Cells a spreadsheet would read as a formula (leading = + - @,
 * tab or CR) get a leading apostrophe; every cell is quoted.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
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
