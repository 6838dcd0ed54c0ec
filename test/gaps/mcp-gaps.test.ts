/**
 * The gap tools over the real MCP endpoint of a `serve` child, with real SDK
 * clients per scope: tools listed and refused by scope, structured output,
 * the score line, inert Markdown, and the known-gap sentence in the feedback
 * reply. Requires `npm run build`.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import MarkdownIt from "markdown-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEEDBACK_REPLIES, recordedReply } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import { httpClient, textOf } from "../mcp/helpers.js";
import { groupingSettled } from "../helpers/gaps.js";
import { startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";

const md = new MarkdownIt();
let server: ServeProcess;
const clients: Partial<Record<"ingest" | "read" | "admin", Client>> = {};
const GAP_TOOLS = { list_gaps: "read", get_gap: "read", update_gap: "admin", merge_gaps: "admin", split_gap: "admin" };

const report = (i: number, over: Record<string, unknown> = {}) => ({
  server_name: "billing",
  tool_name: "list_invoices",
  gap_type: "missing_parameter",
  what_i_needed: `Filter invoices by a date range [click](http://evil.example) \`run ${i}\``,
  what_i_tried: `list_invoices page ${i}`,
  session_id: `m-${i}`,
  ...over,
});

beforeAll(async () => {
  const dbPath = testDbPath("pwm-gaps-mcp-");
  const store = FeedbackStore.open(dbPath);
  const keys = Object.fromEntries((["ingest", "read", "admin"] as const).map((s) => [s, store.createKey(s).key]));
  store.close();
  server = await startServe({ dbPath });
  for (const scope of ["ingest", "read", "admin"] as const)
    clients[scope] = (await httpClient(`${server.url}/mcp`, keys[scope])).client;
});
afterAll(async () => {
  for (const c of Object.values(clients)) await c?.close();
  await server?.stop();
});

const call = async (scope: "ingest" | "read" | "admin", name: string, args: Record<string, unknown>) =>
  clients[scope]!.callTool({ name, arguments: args });

describe("gap tools over MCP", () => {
  it("lists each gap tool only to the scopes allowed to call it, and refuses the rest", async () => {
    for (const scope of ["ingest", "read", "admin"] as const) {
      const names = (await clients[scope]!.listTools()).tools.map((t) => t.name);
      for (const [tool, need] of Object.entries(GAP_TOOLS)) {
        const allowed = scope === "admin" || (scope === "read" && need === "read");
        expect(names.includes(tool), `${scope} sees ${tool}`).toBe(allowed);
        // Over HTTP a call above the key's scope is refused before the tool runs (403 naming the scope).
        if (!allowed) await expect(call(scope, tool, { id: 1 })).rejects.toThrow(`lacks the feedback:${need} scope`);
      }
    }
  });

  it("files through feedback, then lists, reads, edits, splits and merges gaps; Markdown stays inert", async () => {
    const replies = [];
    for (const i of [1, 2, 3]) replies.push(textOf(await call("ingest", "feedback", report(i))));
    expect(replies[0]).toBe(FEEDBACK_REPLIES.recorded(1));
    await call("ingest", "feedback", report(9, { tool_name: "export", what_i_needed: "CSV export of customers" }));
    await groupingSettled(server.url);

    const listed = await call("read", "list_gaps", {});
    expect(listed.isError).toBeFalsy();
    const gaps = (listed.structuredContent as any).gaps;
    expect(gaps[0]).toMatchObject({ reports: 3, sessions: 3, server_name: "billing" });
    const gapId = gaps[0].id;
    const text = textOf(listed);
    expect(text).toContain(gaps[0].score_explain);
    // The agent-written title is a code span: a CommonMark parser finds no link, image or HTML in the output.
    const kinds = new Set<string>();
    const walk = (tokens: ReturnType<typeof md.parse>) => {
      for (const t of tokens) {
        kinds.add(t.type);
        if (t.children) walk(t.children);
      }
    };
    walk(md.parse(text, {}));
    expect([...kinds].filter((k) => /link|image|html/.test(k))).toEqual([]);
    expect(kinds.has("code_inline")).toBe(true);

    const reports = await call("read", "list_reports", { gap_id: gapId });
    expect((reports.structuredContent as any).reports.map((r: any) => r.gap_id)).toEqual([gapId, gapId, gapId]);
    const detail = textOf(await call("read", "get_gap", { id: gapId }));
    expect(detail).toContain(`# Gap ${gapId}`);
    expect(detail).toContain("**Score:** score");
    expect(textOf(await call("read", "get_report", { id: 1 }))).toContain(`- **Gap:** ${gapId}`);

    const stats = await call("read", "get_stats", {});
    expect((stats.structuredContent as any).top_gaps[0]).toMatchObject({ id: gapId, reports: 3 });
    expect(textOf(stats)).toContain("Top gaps by score:");

    const update = await call("admin", "update_gap", {
      id: gapId,
      status: "wontfix",
      agent_note: "Fetch all invoices and filter them yourself.",
    });
    expect(update.structuredContent).toMatchObject({ status: "wontfix" });
    const known = textOf(await call("ingest", "feedback", report(4)));
    expect(known).toBe(
      recordedReply(5, {
        id: gapId,
        status: "wontfix",
        reports: 4,
        agent_note: "Fetch all invoices and filter them yourself.",
      }),
    );
    expect(known).toContain("known gap");
    expect(known).toContain("Fetch all invoices and filter them yourself.");
    expect(known).not.toContain("Filter invoices by a date range"); // no agent's words

    const split = await call("admin", "split_gap", { id: gapId, report_ids: [1] });
    expect(split.structuredContent).toMatchObject({ from: gapId, from_reports: 3, to_reports: 1 });
    const to = (split.structuredContent as any).to;
    const bad = await call("admin", "merge_gaps", { id: to, into: to });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/itself/);
    const merged = await call("admin", "merge_gaps", { id: to, into: gapId });
    expect(merged.structuredContent).toMatchObject({ into: gapId, reports: 4 });
    const badArgs = await call("admin", "split_gap", { id: gapId, report_ids: [] });
    expect(badArgs.isError).toBe(true);
    expect(textOf(badArgs)).toMatch(/report_ids/);
  });
});
