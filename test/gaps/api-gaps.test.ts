import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { request } from "../helpers/http.js";
import { gapIdOf as waitGapId } from "../helpers/gaps.js";
import { startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";

let server: ServeProcess;
const keys: Record<"ingest" | "read" | "admin", string> = { ingest: "", read: "", admin: "" };

const need = (i: number, over: Record<string, unknown> = {}) => ({
  server_name: "billing",
  tool_name: "list_invoices",
  gap_type: "missing_parameter",
  what_i_needed: `Filter invoices by a date range for run ${7000 + i}`,
  what_i_tried: `Called list_invoices with page=${i}; no from/to parameters`,
  suggestion: "Add from/to to list_invoices",
  session_id: `sess-${i}`,
  ...over,
});
const other = (i: number, over: Record<string, unknown> = {}) => ({
  server_name: "billing",
  tool_name: "export_customers",
  gap_type: "wrong_format",
  what_i_needed: `Customer export as CSV spreadsheet file, batch ${i}`,
  what_i_tried: "export_customers only returns nested JSON",
  ...over,
});

const url = (path: string) => `${server.url}${path}`;
const post = (path: string, body: unknown, key = keys.admin) => request(url(path), { body, key });
const patch = (path: string, body: unknown, key = keys.admin) => request(url(path), { method: "PATCH", body, key });
const get = (path: string, key = keys.admin) => request(url(path), { key });

beforeAll(async () => {
  const dbPath = testDbPath("pwm-gaps-api-");
  const store = FeedbackStore.open(dbPath);
  for (const scope of ["ingest", "read", "admin"] as const) keys[scope] = store.createKey(scope, `${scope}-key`).key;
  store.close();
  server = await startServe({ dbPath });
});
afterAll(async () => {
  await server?.stop();
});

describe("gaps over REST", () => {
  it("groups posted reports; lists, shows, filters and pages gaps", async () => {
    const gapOf = async (res: { body: { id: number } }) => ({
      body: { ...res.body, gap_id: await waitGapId(server.url, res.body.id, keys.read) },
    });
    const posted = await post("/api/feedback", need(1), keys.ingest);
    expect(posted.status).toBe(201);
    expect(posted.body).toEqual({ id: expect.any(Number), status: "recorded" }); // nothing to echo yet
    const a1 = await gapOf(posted);
    const a2 = await gapOf(await post("/api/feedback", need(2, { resolution: "blocked" }), keys.ingest));
    const b1 = await gapOf(await post("/api/feedback", other(1), keys.ingest));
    expect(a1.body.gap_id).toEqual(expect.any(Number));
    expect(a2.body.gap_id).toBe(a1.body.gap_id);
    expect(b1.body.gap_id).not.toBe(a1.body.gap_id);

    const list = await get("/api/gaps", keys.read);
    expect(list.status).toBe(200);
    const top = list.body.items[0];
    expect(top).toMatchObject({ id: a1.body.gap_id, reports: 2, sessions: 2, blocked: 1, server_name: "billing" });
    expect(top.score_explain).toMatch(/^score [\d.]+ = 2 sessions × \(1 \+ 0\.5 blocked share/);
    expect(list.body.grouping.mode).toBe("idle");

    expect((await get("/api/gaps?tool_name=export_customers", keys.read)).body.items.map((g: any) => g.id)).toEqual([
      b1.body.gap_id,
    ]);
    expect((await get("/api/gaps?server_name=nowhere", keys.read)).body.items).toEqual([]);
    const first = await get("/api/gaps?limit=1&sort=reports", keys.read);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await get(`/api/gaps?limit=1&sort=reports&cursor=${first.body.nextCursor}`, keys.read);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);

    const detail = await get(`/api/gaps/${a1.body.gap_id}?limit=1`, keys.read);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      reports: 2,
      tools: [{ tool_name: "list_invoices", count: 2 }],
      resolution_mix: { blocked: 1, partial: 0, worked_around: 0, unspecified: 1 },
      top_suggestions: [{ text: "Add from/to to list_invoices", count: 2 }],
    });
    expect(detail.body.timeline).toHaveLength(30);
    expect(detail.body.timeline.at(-1).count).toBe(2);
    expect(detail.body.reports_page.items).toHaveLength(1);
    expect(detail.body.reports_page.nextCursor).toEqual(expect.any(String));
    expect(detail.body.history[0]).toMatchObject({ action: "created", actor: "auto" });

    // gap_id on every report surface: list (fast path), one report, filter, export.
    const reports = await get(`/api/feedback?gap_id=${a1.body.gap_id}`, keys.read);
    expect(reports.body.items.map((r: any) => r.id).sort()).toEqual([a1.body.id, a2.body.id].sort());
    expect(reports.body.items.every((r: any) => r.gap_id === a1.body.gap_id)).toBe(true);
    expect((await get(`/api/feedback/${b1.body.id}`, keys.read)).body.gap_id).toBe(b1.body.gap_id);
    const exported = await get("/api/export?format=ndjson", keys.read);
    expect(
      exported.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).gap_id),
    ).toContain(b1.body.gap_id);
    expect((await get("/api/export?format=csv", keys.read)).text.split("\r\n")[0]).toContain("gap_id");
  });

  it("echoes a gap the developers acted on, on the fast path and through express alike, with admin text only", async () => {
    const first = await post("/api/feedback", need(10, { user_goal: "AGENT-PRIVATE goal text" }), keys.ingest);
    const gapId = await waitGapId(server.url, first.body.id, keys.read);
    const edited = await patch(`/api/gaps/${gapId}`, {
      status: "planned",
      agent_note: "Until then, call list_payments with since/until.",
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      status: "planned",
      agent_note: "Until then, call list_payments with since/until.",
    });

    const fast = await post("/api/feedback", need(11), keys.ingest);
    // application/*+json is not taken by the fast path: express answers it.
    const viaExpress = await request(url("/api/feedback"), {
      rawBody: JSON.stringify(need(12)),
      headers: { "content-type": "application/vnd.agent+json" },
      key: keys.ingest,
    });
    for (const res of [fast, viaExpress]) {
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        status: "recorded",
        gap: {
          id: gapId,
          status: "planned",
          reports: expect.any(Number),
          agent_note: "Until then, call list_payments with since/until.",
        },
      });
      expect(res.text).not.toContain("AGENT-PRIVATE");
      expect(res.text).not.toContain("Filter invoices");
    }
    expect(viaExpress.body.gap.reports).toBe(fast.body.gap.reports + 1);

    // An idempotent replay answers 200 with the same echo.
    const keyed = await request(url("/api/feedback"), {
      body: need(13),
      key: keys.ingest,
      headers: { "idempotency-key": "k-13" },
    });
    const replay = await request(url("/api/feedback"), {
      body: need(13),
      key: keys.ingest,
      headers: { "idempotency-key": "k-13" },
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: keyed.body.id, gap: { id: gapId, status: "planned" } });

    const history = (await get(`/api/gaps/${gapId}`)).body.history;
    expect(history[0]).toMatchObject({ action: "updated", actor: expect.stringMatching(/^key:[0-9a-f]{12}$/) });
  });

  it("merges, splits and moves, and refuses what makes no sense with a 4xx naming it", async () => {
    const a = await Promise.all(
      [20, 21, 22].map((i) => post("/api/feedback", need(i, { server_name: "ledger" }), keys.ingest)),
    );
    const b = await post("/api/feedback", other(20, { server_name: "ledger" }), keys.ingest);
    const c = await post("/api/feedback", need(23, { server_name: "elsewhere" }), keys.ingest);
    const gapIdOf = (id: number) => waitGapId(server.url, id, keys.admin);
    const ga = await gapIdOf(a[0]!.body.id);
    const gb = await gapIdOf(b.body.id);
    const gc = await gapIdOf(c.body.id);

    const bad = async (res: Promise<{ status: number; body: any }>, status: number, code: string, words: RegExp) => {
      const r = await res;
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toMatch(words);
    };
    await bad(post(`/api/gaps/${ga}/merge`, { into: ga }), 400, "merge_into_itself", /itself/);
    await bad(post(`/api/gaps/${ga}/merge`, { into: gc }), 400, "merge_across_servers", /different servers/);
    await bad(post(`/api/gaps/${ga}/merge`, { into: 987654 }), 404, "gap_not_found", /987654/);
    await bad(post(`/api/gaps/${ga}/merge`, { into: "x" }), 422, "validation_failed", /into/);
    await bad(post(`/api/gaps/abc/merge`, { into: 1 }), 400, "invalid_id", /abc/);
    await bad(
      post(`/api/gaps/${ga}/split`, { report_ids: [b.body.id] }),
      400,
      "reports_not_in_gap",
      new RegExp(`${b.body.id}`),
    );
    await bad(post(`/api/gaps/${ga}/split`, { report_ids: [] }), 422, "validation_failed", /at least one/);
    await bad(
      post(`/api/gaps/${ga}/split`, { report_ids: Array.from({ length: 1001 }, (_, i) => i + 1) }),
      422,
      "validation_failed",
      /at most 1000/,
    );
    await bad(patch(`/api/gaps/${ga}`, { status: "duplicate" }), 422, "validation_failed", /merge/);
    await bad(patch(`/api/gaps/${ga}`, { status: "sideways" }), 422, "validation_failed", /status/);
    await bad(patch(`/api/gaps/${ga}`, { fixed_in: "next week" }), 422, "invalid_version", /not a version/);
    await bad(patch(`/api/gaps/${ga}`, {}), 422, "validation_failed", /at least one/);
    await bad(patch(`/api/gaps/${ga}`, { agent_note: "x".repeat(501) }), 422, "validation_failed", /500/);
    await bad(patch(`/api/gaps/424242`, { title: "t" }), 404, "gap_not_found", /424242/);
    await bad(post(`/api/feedback/${c.body.id}/gap`, { gap_id: ga }), 400, "move_across_servers", /its server/);
    await bad(post(`/api/feedback/999999/gap`, { gap_id: ga }), 404, "report_not_found", /999999/);
    await bad(get(`/api/gaps?status=nope`), 400, "validation_failed", /status/);
    await bad(get(`/api/gaps?cursor=bogus`), 400, "invalid_cursor", /cursor/);
    await bad(get(`/api/gaps/0`), 400, "invalid_id", /gap id/);

    const split = await post(`/api/gaps/${ga}/split`, { report_ids: [a[2]!.body.id] });
    expect(split.status).toBe(201);
    expect(split.body.from).toMatchObject({ id: ga, reports: 2 });
    expect(split.body.to).toMatchObject({ reports: 1, server_name: "ledger" });
    const moved = await post(`/api/feedback/${a[1]!.body.id}/gap`, { gap_id: gb });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ report: { id: a[1]!.body.id, gap_id: gb }, gap: { id: gb, reports: 2 } });
    const merged = await post(`/api/gaps/${gb}/merge`, { into: ga });
    expect(merged.body).toMatchObject({ id: ga, reports: 3 });
    expect((await get(`/api/gaps/${gb}`)).body).toMatchObject({ status: "duplicate", duplicate_of: ga, reports: 0 });
    await bad(post(`/api/gaps/${gb}/merge`, { into: ga }), 409, "gap_merged", new RegExp(`merged into gap ${ga}`));
  });

  it("checks the scope on every route: read reads, admin writes", async () => {
    const r = await post("/api/feedback", need(40), keys.ingest);
    const gapId = await waitGapId(server.url, r.body.id, keys.admin);
    const routes: { method: string; path: string; body?: unknown; need: "read" | "admin" }[] = [
      { method: "GET", path: "/api/gaps", need: "read" },
      { method: "GET", path: `/api/gaps/${gapId}`, need: "read" },
      { method: "GET", path: `/api/feedback?gap_id=${gapId}`, need: "read" },
      { method: "PATCH", path: `/api/gaps/${gapId}`, body: { title: "Date ranges" }, need: "admin" },
      { method: "POST", path: `/api/gaps/${gapId}/merge`, body: { into: gapId }, need: "admin" },
      { method: "POST", path: `/api/gaps/${gapId}/split`, body: { report_ids: [r.body.id] }, need: "admin" },
      { method: "POST", path: `/api/feedback/${r.body.id}/gap`, body: { gap_id: gapId }, need: "admin" },
    ];
    for (const route of routes) {
      const call = (key?: string) => request(url(route.path), { method: route.method, body: route.body, key });
      expect((await call()).status, `${route.method} ${route.path} without a key`).toBe(401);
      expect((await call(keys.ingest)).status, `${route.method} ${route.path} with ingest`).toBe(403);
      const withRead = await call(keys.read);
      if (route.need === "admin") {
        expect(withRead.status, `${route.method} ${route.path} with read`).toBe(403);
        expect(withRead.body.error.details).toEqual({ required_scope: "feedback:admin", key_scope: "feedback:read" });
      } else expect(withRead.status, `${route.method} ${route.path} with read`).toBe(200);
      expect((await call(keys.admin)).status, `${route.method} ${route.path} with admin`).toBeLessThan(500);
    }
  });
});
