/**
 * Tool-call analytics on the sidecar, through a real `serve` child on both backends:
 * POST /api/calls (raw events and spill rollups), GET /api/tools and /api/tools/detail (counts,
 * percentiles read off the summed histograms, filters, coverage and silent failures joined with
 * reports filed through POST /api/feedback), bad input as 4xx with codes, key scopes, the
 * retention pass, and get_tool_stats through a real MCP SDK client. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallEventInput,
  callBatchSchema,
  emptyHistogram,
  addToHistogram,
  HISTOGRAM_BOUNDS_MS,
  quantileMs,
} from "../../src/analytics/index.js";
import { callsStore, FeedbackStore } from "../../src/store/index.js";
import { httpClient, textOf } from "../mcp/helpers.js";
import { request, validReport } from "../helpers/http.js";
import { onPostgres, openRawDb, startServe, testDbPath, type ServeProcess } from "../helpers/serve.js";

const HOUR = 3_600_000;
/** Two whole hours a day ago: every event of these tests starts in one of them. */
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;
const H1 = H0 + HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const WINDOW = `since=${encodeURIComponent(iso(H0))}&until=${encodeURIComponent(iso(H1 + HOUR))}`;

const event = (over: Partial<CallEventInput> = {}): CallEventInput => ({
  server_name: "billing",
  tool_name: "list_invoices",
  started_at: iso(H0 + 60_000),
  duration_ms: 12,
  outcome: "ok",
  client_name: "cursor",
  session_id: "sess-ok",
  request_bytes: 120,
  response_bytes: 2400,
  ...over,
});

const round2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

function expectedLatency(durations: number[]) {
  const h = emptyHistogram();
  for (const d of durations) addToHistogram(h, d);
  return {
    p50_ms: round2(quantileMs(h, 0.5)),
    p95_ms: round2(quantileMs(h, 0.95)),
    p99_ms: round2(quantileMs(h, 0.99)),
  };
}

/** Poll until `check` returns a value (condition waits, never sleeps). */
async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("POST /api/calls and GET /api/tools", () => {
  let server: ServeProcess;
  let api: string;
  beforeAll(async () => {
    server = await startServe();
    api = `${server.url}/api`;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("stores raw events and answers counts, error rates and percentiles from the rollups", async () => {
    const durations = [0.5, 3, 7, 15, 40, 90, 150, 400, 900, 4000, 45_000, 200_000];
    const calls = durations.map((d, i) =>
      event({
        server_name: "ledger",
        tool_name: "post_entry",
        duration_ms: d,
        started_at: iso(H0 + i * 1000),
        outcome: i % 4 === 0 ? "error" : i % 4 === 1 ? "tool_error" : "ok",
        error_code: i % 4 === 0 ? -32602 : null,
        session_id: null,
      }),
    );
    calls.push(event({ server_name: "ledger", tool_name: "get_entry", duration_ms: 2, session_id: null }));
    const res = await request(`${api}/calls`, { body: { calls } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ accepted: { calls: 13, rollups: 0 } });

    const stats = await request(`${api}/tools?server_name=ledger&${WINDOW}`);
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body.since).toBe(iso(H0));
    expect(stats.body.until).toBe(iso(H1 + HOUR));
    expect(stats.body.items).toEqual([
      {
        server_name: "ledger",
        tool_name: "post_entry",
        calls: 12,
        errors: 6,
        error_rate: 0.5,
        ...expectedLatency(durations),
        last_call_at: iso(H0 + 11_000),
      },
      {
        server_name: "ledger",
        tool_name: "get_entry",
        calls: 1,
        errors: 0,
        error_rate: 0,
        ...expectedLatency([2]),
        last_call_at: iso(H0 + 60_000),
      },
    ]);
    // The slowest call lands in the open last bucket: p99 reads its lower bound.
    expect(stats.body.items[0].p99_ms).toBe(HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.length - 1]);

    // Every field of the event is in its raw row, the start time normalised to UTC.
    const db = openRawDb(server.dbPath, { readonly: true });
    try {
      const rows = db
        .prepare(
          "SELECT * FROM tool_calls WHERE server_name = 'ledger' AND tool_name = 'post_entry' ORDER BY started_at",
        )
        .all() as Record<string, unknown>[];
      expect(rows).toHaveLength(12);
      expect(rows[0]).toMatchObject({
        started_at: iso(H0),
        duration_ms: 0.5,
        outcome: "error",
        error_code: -32602,
        client_name: "cursor",
        request_bytes: 120,
        response_bytes: 2400,
        arguments: null,
      });
      expect(typeof rows[0]!.received_at).toBe("string");
    } finally {
      db.close();
    }
  });

  it("adds rollups up across batches and hours, and counts spill rollups without raw rows", async () => {
    const first = [5, 5, 30].map((d) => event({ server_name: "adder", duration_ms: d, session_id: null }));
    const second = [700, 1500].map((d) =>
      event({ server_name: "adder", duration_ms: d, started_at: iso(H0 + 30 * 60_000), session_id: null }),
    );
    const later = [8].map((d) =>
      event({
        server_name: "adder",
        duration_ms: d,
        started_at: iso(H1 + 5 * 60_000),
        outcome: "error",
        session_id: null,
      }),
    );
    for (const calls of [first, second, later])
      expect((await request(`${api}/calls`, { body: { calls } })).status).toBe(202);
    // A proxy's spill: 10 calls it could not deliver one by one, 4 of them errors, 40-50 ms.
    const spill = emptyHistogram();
    spill[HISTOGRAM_BOUNDS_MS.indexOf(50)] = 10;
    const res = await request(`${api}/calls`, {
      body: {
        rollups: [
          {
            server_name: "adder",
            tool_name: "list_invoices",
            client_name: "cursor",
            hour: iso(H0),
            calls: 10,
            errors: 4,
            histogram: spill,
          },
          {
            server_name: "adder",
            tool_name: "list_invoices",
            client_name: null,
            hour: iso(H1),
            calls: 2,
            errors: 0,
            histogram: [2, ...emptyHistogram().slice(1)],
          },
        ],
      },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ accepted: { calls: 0, rollups: 2 } });

    const stats = await request(`${api}/tools?server_name=adder&${WINDOW}`);
    const h = emptyHistogram();
    for (const d of [5, 5, 30, 700, 1500, 8]) addToHistogram(h, d);
    h[HISTOGRAM_BOUNDS_MS.indexOf(50)]! += 10;
    h[0]! += 2;
    expect(stats.body.items).toHaveLength(1);
    expect(stats.body.items[0]).toMatchObject({
      calls: 18,
      errors: 5,
      error_rate: Math.round((5 / 18) * 10_000) / 10_000,
      p50_ms: round2(quantileMs(h, 0.5)),
      p95_ms: round2(quantileMs(h, 0.95)),
      p99_ms: round2(quantileMs(h, 0.99)),
    });

    const detail = await request(`${api}/tools/detail?server_name=adder&tool_name=list_invoices&${WINDOW}`);
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body.calls).toBe(18);
    expect(detail.body.trend).toEqual([
      { hour: iso(H0), calls: 15, errors: 4, p95_ms: expect.any(Number) },
      { hour: iso(H1), calls: 3, errors: 1, p95_ms: expect.any(Number) },
    ]);
    expect(detail.body.by_client).toEqual([
      expect.objectContaining({ client_name: "cursor", calls: 16, errors: 5 }),
      expect.objectContaining({ client_name: null, calls: 2, errors: 0, p50_ms: 0.5 }),
    ]);
    // No raw row came with the spill: 6 raw events on this server.
    const db = openRawDb(server.dbPath, { readonly: true });
    try {
      expect(
        (db.prepare("SELECT count(*) AS n FROM tool_calls WHERE server_name = 'adder'").get() as { n: number }).n,
      ).toBe(6);
    } finally {
      db.close();
    }
  });

  it("stores every batch of many posted at once (they share transactions), each answered with its own counts", async () => {
    const posts = Array.from({ length: 12 }, (_, k) =>
      request(`${api}/calls`, {
        body: {
          calls: Array.from({ length: 40 + k }, (_, i) =>
            event({ server_name: "concurrent", tool_name: `t${k % 3}`, duration_ms: i, session_id: null }),
          ),
          rollups:
            k % 4 === 0
              ? [
                  {
                    server_name: "concurrent",
                    tool_name: "t0",
                    hour: iso(H0),
                    calls: 1,
                    errors: 1,
                    histogram: [1, ...emptyHistogram().slice(1)],
                  },
                ]
              : [],
        },
      }),
    );
    const answers = await Promise.all(posts);
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 12 }, () => 202));
    expect(answers.map((a) => a.body.accepted)).toEqual(
      Array.from({ length: 12 }, (_, k) => ({ calls: 40 + k, rollups: k % 4 === 0 ? 1 : 0 })),
    );
    const items = (await request(`${api}/tools?server_name=concurrent&${WINDOW}`)).body.items as {
      tool_name: string;
      calls: number;
      errors: number;
    }[];
    const raw = Array.from({ length: 12 }, (_, k) => 40 + k).reduce((a, b) => a + b, 0);
    expect(items.reduce((n, i) => n + i.calls, 0)).toBe(raw + 3);
    expect(items.find((i) => i.tool_name === "t0")).toMatchObject({ errors: 3 });
  });

  it("filters by server, client and window (hour granularity)", async () => {
    const calls = [
      event({ server_name: "filters", client_name: "cursor", started_at: iso(H0 + 1000), session_id: null }),
      event({ server_name: "filters", client_name: "claude-code", started_at: iso(H0 + 2000), session_id: null }),
      event({ server_name: "filters", client_name: "claude-code", started_at: iso(H1 + 2000), session_id: null }),
      event({
        server_name: "filters",
        client_name: null,
        tool_name: "other",
        started_at: iso(H1 + 3000),
        session_id: null,
      }),
    ];
    expect((await request(`${api}/calls`, { body: { calls } })).status).toBe(202);
    const get = async (q: string) =>
      (await request(`${api}/tools?server_name=filters&${q}`)).body.items as { tool_name: string; calls: number }[];
    expect(await get(WINDOW)).toEqual([
      expect.objectContaining({ tool_name: "list_invoices", calls: 3 }),
      expect.objectContaining({ tool_name: "other", calls: 1 }),
    ]);
    expect(await get(`${WINDOW}&client=claude-code`)).toEqual([
      expect.objectContaining({ tool_name: "list_invoices", calls: 2 }),
    ]);
    // until at H1 leaves out H1's hour; since inside H0 still counts H0's hour (it overlaps).
    expect(await get(`since=${iso(H0 + 1500)}&until=${iso(H1)}`)).toEqual([
      expect.objectContaining({ tool_name: "list_invoices", calls: 2 }),
    ]);
    expect(await get(`since=${iso(H1)}&until=${iso(H1 + HOUR)}`)).toEqual([
      expect.objectContaining({ tool_name: "list_invoices", calls: 1 }),
      expect.objectContaining({ tool_name: "other", calls: 1 }),
    ]);
    // A date with an offset means the same instant.
    const shifted = new Date(H0).toISOString().replace("Z", "+00:00");
    expect(
      (await request(`${api}/tools?server_name=filters&since=${encodeURIComponent(shifted)}&until=${iso(H1)}`)).body
        .since,
    ).toBe(iso(H0));
    // The default window is the last 7 days to now: it holds yesterday's calls.
    const recent = await request(`${api}/tools?server_name=filters`);
    expect(recent.body.items).toHaveLength(2);
    expect(Date.parse(recent.body.until) - Date.parse(recent.body.since)).toBe(7 * 24 * HOUR);
    // Another server's calls are not in this one's answer, and every server is without the filter.
    const all = (await request(`${api}/tools?${WINDOW}`)).body.items as { server_name: string }[];
    expect([...new Set(all.map((i) => i.server_name))]).toEqual(expect.arrayContaining(["ledger", "adder", "filters"]));
  });

  it("answers bad input with a 4xx and a code, never a 500", async () => {
    const raw = await fetch(`${api}/calls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe("invalid_json");

    const cases: [unknown, string][] = [
      [{ calls: [event({ duration_ms: -1 })] }, "calls.0.duration_ms"],
      [{ calls: [event({ outcome: "crashed" as never })] }, "calls.0.outcome"],
      [{ calls: [event({ started_at: "yesterday" })] }, "calls.0.started_at"],
      [{ calls: [{ ...event(), tool_name: undefined }] }, "calls.0.tool_name"],
      [{ calls: [] }, "(body)"],
      [[event()], "(body)"],
      [
        {
          rollups: [
            {
              server_name: "s",
              tool_name: "t",
              hour: iso(H0 + 1000),
              calls: 1,
              errors: 0,
              histogram: [1, ...emptyHistogram().slice(1)],
            },
          ],
        },
        "rollups.0.hour",
      ],
      [
        { rollups: [{ server_name: "s", tool_name: "t", hour: iso(H0), calls: 1, errors: 0, histogram: [1] }] },
        "rollups.0.histogram",
      ],
      [
        {
          rollups: [
            {
              server_name: "s",
              tool_name: "t",
              hour: iso(H0),
              calls: 1,
              errors: 2,
              histogram: [1, ...emptyHistogram().slice(1)],
            },
          ],
        },
        "rollups.0.errors",
      ],
      [
        {
          rollups: [
            {
              server_name: "s",
              tool_name: "t",
              hour: iso(H0),
              calls: 3,
              errors: 0,
              histogram: [1, ...emptyHistogram().slice(1)],
            },
          ],
        },
        "rollups.0.histogram",
      ],
    ];
    for (const [body, field] of cases) {
      const res = await request(`${api}/calls`, { body });
      expect(res.status, `${field}: ${res.text}`).toBe(422);
      expect(res.body.error.code).toBe("invalid_calls");
      expect(
        res.body.error.details.map((d: { field: string }) => d.field),
        res.text,
      ).toContain(field);
    }
    const text = await request(`${api}/calls`, {
      rawBody: JSON.stringify({ calls: [event()] }),
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const huge = await request(`${api}/calls`, {
      rawBody: JSON.stringify({ calls: [event({ tool_name: "x".repeat(2_000_000) })] }),
      headers: { "content-type": "application/json" },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");

    for (const [q, field] of [
      ["since=2026-02-30", "since"],
      ["until=soon", "until"],
      ["server_name=", "server_name"],
      [`client=${"c".repeat(201)}`, "client"],
    ] as const) {
      const res = await request(`${api}/tools?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    const backwards = await request(`${api}/tools?since=${iso(H1)}&until=${iso(H0)}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe("invalid_range");
    const noTool = await request(`${api}/tools/detail?server_name=billing`);
    expect(noTool.status).toBe(400);
    expect(noTool.body.error.details.map((d: { field: string }) => d.field)).toEqual(["tool_name"]);
    const missing = await request(`${api}/tools/detail?server_name=billing&tool_name=never_called&${WINDOW}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("tool_not_found");
  });

  it("stores recorded arguments as JSON text, cut to the limit and still JSON", async () => {
    const res = await request(`${api}/calls`, {
      body: {
        calls: [
          event({ server_name: "args", arguments: { q: "invoices", page: 2 }, session_id: null }),
          event({ server_name: "args", tool_name: "big", arguments: { blob: '"'.repeat(9000) }, session_id: null }),
        ],
      },
    });
    expect(res.status, res.text).toBe(202);
    const db = openRawDb(server.dbPath, { readonly: true });
    try {
      const rows = db
        .prepare("SELECT tool_name, arguments FROM tool_calls WHERE server_name = 'args' ORDER BY tool_name")
        .all() as { tool_name: string; arguments: string }[];
      expect(JSON.parse(rows[1]!.arguments)).toEqual({ q: "invoices", page: 2 });
      expect(rows[0]!.arguments.length).toBeLessThanOrEqual(4000);
      const cut = JSON.parse(rows[0]!.arguments) as { $truncated: number; $text: string };
      expect(cut.$truncated).toBe(JSON.stringify({ blob: '"'.repeat(9000) }).length);
      expect(cut.$text.startsWith('{"blob":"\\"')).toBe(true);
    } finally {
      db.close();
    }
  });

  it("scrubs recorded arguments for the server's privacy mode before storing them", async () => {
    // Built here so no credential-shaped literal sits in the repository.
    const token = ["ghp", "_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"].join("");
    const args = { to: "ada.lovelace@example.org", note: `use Bearer ${token}`, password: "hunter2-hunter2", n: 3 };
    const off = await request(`${api}/servers/raw-args/privacy`, { method: "PUT", body: { mode: "off" } });
    expect(off.status, off.text).toBe(200);
    const res = await request(`${api}/calls`, {
      body: {
        calls: [
          event({ server_name: "scrubbed-args", arguments: args, session_id: null }),
          event({ server_name: "raw-args", arguments: args, session_id: null }),
        ],
      },
    });
    expect(res.status, res.text).toBe(202);
    const db = openRawDb(server.dbPath, { readonly: true });
    try {
      const stored = (name: string) =>
        JSON.parse(
          (db.prepare("SELECT arguments FROM tool_calls WHERE server_name = ?").get(name) as { arguments: string })
            .arguments,
        ) as Record<string, unknown>;
      const scrubbed = stored("scrubbed-args");
      expect(scrubbed.to).toBe("[email]");
      expect(String(scrubbed.note)).not.toContain(token);
      expect(scrubbed.password).not.toBe("hunter2-hunter2");
      expect(scrubbed.n).toBe(3);
      expect(stored("raw-args")).toEqual(args);
    } finally {
      db.close();
    }
  });

  it("finds silent failures and feedback coverage from reports filed with the session id", async () => {
    const calls = [
      event({
        server_name: "coverage",
        session_id: "s-reported",
        outcome: "error",
        error_code: -32603,
        started_at: iso(H0 + 1000),
      }),
      event({ server_name: "coverage", session_id: "s-reported", outcome: "ok", started_at: iso(H0 + 2000) }),
      event({ server_name: "coverage", session_id: "s-silent-1", outcome: "tool_error", started_at: iso(H0 + 3000) }),
      event({ server_name: "coverage", session_id: "s-silent-1", outcome: "tool_error", started_at: iso(H0 + 4000) }),
      event({
        server_name: "coverage",
        session_id: "s-silent-2",
        outcome: "error",
        client_name: null,
        started_at: iso(H1 + 5000),
      }),
      // A clean session, and an error on another tool: neither is a silent failure of list_invoices.
      event({ server_name: "coverage", session_id: "s-clean", outcome: "ok", started_at: iso(H0 + 6000) }),
      event({
        server_name: "coverage",
        tool_name: "export",
        session_id: "s-other-tool",
        outcome: "error",
        started_at: iso(H0 + 7000),
      }),
      // The same session id on another server is another session.
      event({ server_name: "elsewhere", session_id: "s-silent-1", outcome: "error", started_at: iso(H0 + 8000) }),
    ];
    expect((await request(`${api}/calls`, { body: { calls } })).status).toBe(202);
    // The agent in s-reported filed a report about the tool; one on another server does not count.
    const filed = await request(`${api}/feedback`, {
      body: validReport({ server_name: "coverage", session_id: "s-reported", tool_name: "list_invoices" }),
    });
    expect(filed.status, filed.text).toBe(201);
    expect(
      (
        await request(`${api}/feedback`, {
          body: validReport({ server_name: "elsewhere-2", session_id: "s-silent-2" }),
        })
      ).status,
    ).toBe(201);

    const stats = await request(`${api}/tools?server_name=coverage&${WINDOW}`);
    expect(stats.body.coverage).toEqual({ sessions_with_errors: 4, sessions_reported: 1, ratio: 0.25 });
    const none = await request(`${api}/tools?server_name=ledger&${WINDOW}`);
    expect(none.body.coverage).toEqual({ sessions_with_errors: 0, sessions_reported: 0, ratio: null });

    // The report's gap names the tool: it shows in the detail once grouping has assigned it.
    const detail = await until(async () => {
      const d = await request(`${api}/tools/detail?server_name=coverage&tool_name=list_invoices&${WINDOW}`);
      return d.body.gaps?.length > 0 ? d : undefined;
    }, "the report's gap");
    const report = await request(`${api}/feedback/${filed.body.id}`);
    expect(detail.body.gaps).toEqual([
      { id: report.body.gap_id, title: expect.any(String), status: "open", reports: 1 },
    ]);
    expect(detail.body.silent_failures).toEqual({
      sessions_with_errors: 3,
      sessions_reported: 1,
      ratio: 0.3333,
      sessions: [
        { session_id: "s-silent-2", client_name: null, errors: 1, first_error_at: iso(H1 + 5000) },
        { session_id: "s-silent-1", client_name: "cursor", errors: 2, first_error_at: iso(H0 + 3000) },
      ],
    });
    const exportTool = await request(`${api}/tools/detail?server_name=coverage&tool_name=export&${WINDOW}`);
    expect(exportTool.body.gaps).toEqual([]);
    expect(exportTool.body.silent_failures.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      "s-other-tool",
    ]);
  });

  it("get_tool_stats answers the same numbers over MCP", async () => {
    const { client } = await httpClient(`${server.url}/mcp`);
    try {
      const listed = (await client.listTools()).tools.find((t) => t.name === "get_tool_stats");
      expect(listed?.annotations?.readOnlyHint).toBe(true);
      const table = textOf(
        await client.callTool({
          name: "get_tool_stats",
          arguments: { server_name: "ledger", since: iso(H0), until: iso(H1 + HOUR) },
        }),
      );
      const rest = (await request(`${server.url}/api/tools?server_name=ledger&${WINDOW}`)).body;
      expect(table).toContain("| `ledger` | `post_entry` | 12 | 6 | 50.0% |");
      expect(table).toContain(`${rest.items[0].p95_ms} ms`);
      expect(table).toContain("Feedback coverage: no session had a failed call.");
      const detail = textOf(
        await client.callTool({
          name: "get_tool_stats",
          arguments: { tool_name: "list_invoices", server_name: "coverage", since: iso(H0), until: iso(H1 + HOUR) },
        }),
      );
      expect(detail).toContain("## Silent failures");
      expect(detail).toContain("1 of 3 sessions with a failed call filed a report (33.3%)");
      expect(detail).toContain("`s-silent-1` (`cursor`): 2 failed calls");
      // Without server_name, a tool name several servers share is a question back.
      const shared = await client.callTool({
        name: "get_tool_stats",
        arguments: { tool_name: "list_invoices", since: iso(H0), until: iso(H1 + HOUR) },
      });
      expect(shared.isError).toBe(true);
      expect(textOf(shared)).toContain("call again with server_name");
      const unique = textOf(
        await client.callTool({
          name: "get_tool_stats",
          arguments: { tool_name: "post_entry", since: iso(H0), until: iso(H1 + HOUR) },
        }),
      );
      expect(unique).toContain("# `post_entry` on `ledger`");
      const bad = await client.callTool({ name: "get_tool_stats", arguments: { since: "2026-02-30" } });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toContain("since");
      const never = await client.callTool({
        name: "get_tool_stats",
        arguments: { tool_name: "never_called", server_name: "ledger" },
      });
      expect(never.isError).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe("scopes", () => {
  let server: ServeProcess;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    const dbPath = testDbPath();
    const store = FeedbackStore.open(dbPath);
    try {
      for (const scope of ["ingest", "read"] as const) keys[scope] = store.createKey(scope, `${scope} key`).key;
    } finally {
      store.close();
    }
    server = await startServe({ dbPath });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("an ingest key posts calls but cannot read them; a read key reads; no key is a 401", async () => {
    const body = { calls: [event({ server_name: "scoped" })] };
    expect((await request(`${server.url}/api/calls`, { body })).status).toBe(401);
    expect((await request(`${server.url}/api/calls`, { body, key: keys.ingest })).status).toBe(202);
    const denied = await request(`${server.url}/api/tools?${WINDOW}`, { key: keys.ingest });
    expect(denied.status).toBe(403);
    expect(
      (await request(`${server.url}/api/tools/detail?server_name=scoped&tool_name=list_invoices`, { key: keys.ingest }))
        .status,
    ).toBe(403);
    const read = await request(`${server.url}/api/tools?${WINDOW}`, { key: keys.read });
    expect(read.status).toBe(200);
    expect(read.body.items).toEqual([expect.objectContaining({ server_name: "scoped", calls: 1 })]);
    expect((await request(`${server.url}/api/tools?${WINDOW}`)).status).toBe(401);
  });
});

describe("retention", () => {
  it("serve purges raw events past --call-retention-days and rollups past --rollup-retention-days", async () => {
    const DAY = 24 * HOUR;
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    const server = await startServe({
      args: ["--call-purge-interval", "100", "--rollup-retention-days", "10"],
      env: { PATCHWORKMCP_CALL_RETENTION_DAYS: "2" },
    });
    try {
      const calls = [
        event({ server_name: "old", started_at: iso(now - 20 * DAY), session_id: null }),
        event({ server_name: "old", started_at: iso(now - 5 * DAY), session_id: null }),
        event({ server_name: "old", started_at: iso(now - HOUR), session_id: null }),
      ];
      expect((await request(`${server.url}/api/calls`, { body: { calls } })).status).toBe(202);
      const db = openRawDb(server.dbPath, { readonly: !onPostgres() });
      try {
        const left = await until(() => {
          const raw = (
            db.prepare("SELECT started_at FROM tool_calls ORDER BY started_at").all() as { started_at: string }[]
          ).map((r) => r.started_at);
          const hours = (
            db.prepare("SELECT hour FROM tool_call_rollups ORDER BY hour").all() as { hour: string }[]
          ).map((r) => r.hour);
          // The log line may reach the pipe a moment after the commit: wait for both.
          return raw.length === 1 && hours.length === 2 && /retention removed/.test(server.stderr())
            ? { raw, hours }
            : undefined;
        }, "the retention pass");
        expect(left).toEqual({ raw: [iso(now - HOUR)], hours: [iso(now - 5 * DAY), iso(now - HOUR)] });
      } finally {
        db.close();
      }
      expect(server.stderr()).toMatch(
        /retention removed 2 call events older than 2 days and 1 rollup older than 10 days/,
      );
      // The 5-day-old call still counts in the answers (from its rollup).
      const stats = await request(`${server.url}/api/tools?server_name=old&since=${iso(now - 9 * DAY)}`);
      expect(stats.body.items[0].calls).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it("purges once across processes: a second store skips while another holds the retention lock", () => {
    const dbPath = testDbPath();
    const a = FeedbackStore.open(dbPath);
    const b = FeedbackStore.open(dbPath);
    try {
      const old = Date.now() - 40 * 24 * HOUR;
      callsStore(a).insertCalls(
        callBatchSchema.parse({ calls: [event({ started_at: iso(old) }), event({ started_at: iso(old + 1000) })] }),
      );
      const release = callsStore(a).claimRetention();
      expect(release).not.toBeNull();
      if (onPostgres()) {
        // Another sidecar on the same database: its pass finds the lock taken and does nothing.
        expect(callsStore(b).purgeExpired({ callDays: 30, rollupDays: 400 })).toBeNull();
        expect(callsStore(b).countCalls()).toBe(2);
      }
      release!();
      expect(callsStore(b).purgeExpired({ callDays: 30, rollupDays: 400 })).toEqual({ calls: 2, rollups: 0 });
      expect(callsStore(a).purgeExpired({ callDays: 30, rollupDays: 400 })).toEqual({ calls: 0, rollups: 0 });
      expect(callsStore(a).countCalls()).toBe(0);
      // Rollups outlive the raw events.
      expect(callsStore(a).toolStats({ since: iso(old - HOUR), until: iso(old + HOUR) }).items[0]!.calls).toBe(2);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("the store on its own", () => {
  it("sums a large batch into one rollup row per key, in chunks of any size", () => {
    const store = FeedbackStore.open(testDbPath());
    try {
      const calls = callsStore(store);
      // 1,537 events: three full INSERT chunks and one power-of-two remainder of every size.
      const events = Array.from({ length: 1537 }, (_, i) =>
        event({
          tool_name: `t${i % 3}`,
          client_name: i % 2 ? "a" : null,
          duration_ms: i % 250,
          started_at: iso(H0 + i * 3000),
        }),
      );
      expect(calls.insertCalls(callBatchSchema.parse({ calls: events }))).toEqual({ calls: 1537, rollups: 0 });
      expect(calls.countCalls()).toBe(1537);
      const rows = store.db.prepare("SELECT count(*) AS n, sum(calls) AS c FROM tool_call_rollups").get() as {
        n: number;
        c: number;
      };
      // 3 tools x 2 clients x 2 hours (4,611 s from the start of H0).
      expect(Number(rows.c)).toBe(1537);
      expect(Number(rows.n)).toBe(12);
      const stats = calls.toolStats({ since: iso(H0), until: iso(H1 + HOUR) });
      expect(stats.items.map((i) => i.calls).reduce((a, b) => a + b, 0)).toBe(1537);
    } finally {
      store.close();
    }
  });
});
