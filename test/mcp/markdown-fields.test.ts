/**
 * Adding a field to the report table (src/feedback/fields.ts) is enough for
 * report Markdown to show it: the table is mocked here with two new rows (a
 * one-line fact and a section), and renderReport must show both under their
 * labels without any edit to the renderer.
 */
import { describe, expect, it, vi } from "vitest";
import type { ReportDetail } from "../../src/store/index.js";

vi.mock(import("../../src/feedback/fields.js"), async (importOriginal) => {
  const real = await importOriginal();
  const extra = {
    deploy_region: { storage: "text", searchable: false, exported: true, label: "Deploy region", display: "line" },
    repro_steps: { storage: "text", searchable: true, exported: true, label: "Steps to reproduce", display: "section" },
  } as const;
  return {
    ...real,
    REPORT_FIELDS: { ...real.REPORT_FIELDS, ...extra },
    REPORT_FIELD_NAMES: [...real.REPORT_FIELD_NAMES, ...(Object.keys(extra) as never[])],
  };
});

const { renderReport } = await import("../../src/mcp/markdown.js");

describe("a field added to the table", () => {
  it("shows in report Markdown under its label, quoted like the others", () => {
    const report = {
      id: 1,
      created_at: "2026-01-02T03:04:05.000Z",
      updated_at: null,
      server_name: "billing",
      server_version: null,
      tool_name: null,
      what_i_needed: "n",
      what_i_tried: "t",
      gap_type: "other",
      suggestion: null,
      user_goal: null,
      resolution: null,
      tools_available: [],
      agent_model: null,
      session_id: null,
      client_type: null,
      status: "open",
      reviewed: false,
      notes: [],
      drafts: [],
      deploy_region: "eu-west-1`x",
      repro_steps: "1. call list\n2. see nothing",
    } as unknown as ReportDetail;
    const text = renderReport(report);
    expect(text).toContain("- **Deploy region:** ``eu-west-1`x``\n");
    expect(text).toContain("## Steps to reproduce\n\n```text\n1. call list\n2. see nothing\n```\n");
    // Table order: the new section comes after the table's last section (tools), before the notes.
    expect(text.indexOf("## Tools the agent saw")).toBeLessThan(text.indexOf("## Steps to reproduce"));
    expect(text.indexOf("## Steps to reproduce")).toBeLessThan(text.indexOf("## Notes"));
  });
});
