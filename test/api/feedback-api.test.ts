import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, validReport } from "../helpers/http.js";
import { onPostgres, startServe, type ServeProcess } from "../helpers/serve.js";

let server: ServeProcess;
let base: string;

beforeAll(async () => {
  server = await startServe();
  base = `${server.url}/api`;
});
afterAll(async () => {
  await server?.stop();
});

describe("POST /api/feedback", () => {
  it("stores a full report and returns 201 {id, status}", async () => {
    const full = validReport({
      server_name: "billing-mcp",
      server_version: "1.4.2",
      tool_name: "list_invoices",
      suggestion: "Add from/to ISO date parameters",
      user_goal: "Reconcile last quarter",
      resolution: "worked_around",
      tools_available: ["list_invoices", "get_invoice"],
      agent_model: "claude-sonnet-4-5",
      session_id: "sess-full",
      client_type: "claude-desktop",
    });
    const res = await request(`${base}/feedback`, { body: full });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), status: "recorded" });
    const got = await request(`${base}/feedback/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      ...full,
      id: res.body.id,
      status: "open",
      reviewed: false,
      notes: [],
      drafts: [],
    });
    expect(new Date(got.body.created_at).toString()).not.toBe("Invalid Date");
  });

  it("normalises what real drop-ins send", async () => {
    const cases: [unknown, string[]][] = [
      [null, []],
      [undefined, []],
      ['["a","b"]', ["a", "b"]],
      ["a, b ,c", ["a", "b", "c"]],
      ["", []],
    ];
    for (const [tools, expected] of cases) {
      const res = await request(`${base}/feedback`, {
        body: validReport({ tools_available: tools, resolution: "", suggestion: null, extra_field: { x: 1 } }),
      });
      expect(res.status).toBe(201);
      const got = await request(`${base}/feedback/${res.body.id}`);
      expect(got.body.tools_available).toEqual(expected);
      expect(got.body.resolution).toBeNull();
      expect(got.body.suggestion).toBeNull();
      expect(got.body.server_name).toBe("unknown");
      expect(got.body).not.toHaveProperty("extra_field");
    }
  });

  it("names every bad field in a 422", async () => {
    const res = await request(`${base}/feedback`, {
      body: {
        what_i_needed: "",
        gap_type: "nope",
        tools_available: [1],
        resolution: "maybe",
        server_name: "x".repeat(201),
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    const fields = (res.body.error.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual([
      "gap_type",
      "resolution",
      "server_name",
      "tools_available.0",
      "what_i_needed",
      "what_i_tried",
    ]);
    expect(res.body.error.message).toContain("gap_type must be one of");
  });

  it("rejects bodies that are not a JSON object, with JSON errors", async () => {
    const malformed = await request(`${base}/feedback`, {
      rawBody: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("invalid_json");
    for (const body of ["[1,2]", '"text"', "42", "null"]) {
      const res = await request(`${base}/feedback`, { rawBody: body, headers: { "content-type": "application/json" } });
      expect(res.status).toBe(422);
      expect(res.body.error.details[0]).toEqual({
        field: "(body)",
        message: "the feedback body must be a JSON object",
      });
    }
    const wrongType = await request(`${base}/feedback`, {
      rawBody: "a=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe("unsupported_media_type");
  });

  it("answers 413 for a body over the limit", async () => {
    const res = await request(`${base}/feedback`, { body: validReport({ what_i_tried: "x".repeat(1_200_000) }) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("is idempotent with an Idempotency-Key header or idempotency_key field", async () => {
    const first = await request(`${base}/feedback`, {
      body: validReport({ session_id: "idem" }),
      headers: { "idempotency-key": "key-1" },
    });
    const again = await request(`${base}/feedback`, {
      body: validReport({ session_id: "idem" }),
      headers: { "idempotency-key": "key-1" },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const viaField = await request(`${base}/feedback`, {
      body: validReport({ session_id: "idem", idempotency_key: "key-2" }),
    });
    const viaFieldAgain = await request(`${base}/feedback`, {
      body: validReport({ session_id: "idem", idempotency_key: "key-2" }),
    });
    expect(viaFieldAgain.body.id).toBe(viaField.body.id);
    // Concurrent retries of one key also collapse to a single report.
    const burst = await Promise.all(
      Array.from({ length: 8 }, () =>
        request(`${base}/feedback`, {
          body: validReport({ session_id: "idem" }),
          headers: { "idempotency-key": "key-3" },
        }),
      ),
    );
    expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
    const list = await request(`${base}/feedback?session_id=idem&limit=200`);
    expect(list.body.items).toHaveLength(3);
  });

  it("rejects an over-long Idempotency-Key", async () => {
    const res = await request(`${base}/feedback`, {
      body: validReport(),
      headers: { "idempotency-key": "k".repeat(201) },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_idempotency_key");
  });
});

describe("GET /api/feedback", () => {
  beforeAll(async () => {
    const combos = [
      {
        server_name: "alpha",
        gap_type: "missing_tool",
        resolution: "blocked",
        client_type: "cursor",
        agent_model: "m1",
        tool_name: "t1",
      },
      {
        server_name: "alpha",
        gap_type: "wrong_format",
        resolution: "partial",
        client_type: "claude-code",
        agent_model: "m2",
        tool_name: "t2",
      },
      {
        server_name: "beta",
        gap_type: "missing_tool",
        resolution: "worked_around",
        client_type: "cursor",
        agent_model: "m1",
        tool_name: "t2",
      },
    ];
    for (let i = 0; i < 30; i++) {
      const res = await request(`${base}/feedback`, {
        body: validReport({
          ...combos[i % 3],
          session_id: `filter-${i % 4}`,
          what_i_needed: i === 7 ? "Needs quaternion rotation support" : `need ${i}`,
        }),
      });
      expect(res.status).toBe(201);
    }
  });

  it("filters by each field and combinations", async () => {
    const count = async (query: string) =>
      (await request(`${base}/feedback?limit=200&${query}`)).body.items.length as number;
    expect(await count("server_name=alpha")).toBe(20);
    expect(await count("server_name=beta&gap_type=missing_tool")).toBe(10);
    expect(await count("server_name=alpha&resolution=blocked")).toBe(10);
    expect(await count("client_type=cursor&agent_model=m1")).toBe(20);
    expect(await count("tool_name=t2&server_name=alpha")).toBe(10);
    expect(await count("session_id=filter-1")).toBe(8);
    expect(await count("q=quaternion")).toBe(1);
    expect(await count("q=quatern")).toBe(1); // last word matches as a prefix
    expect(await count('q=" OR 1=1 -- ")')).toBe(0); // FTS syntax is neutralised, not an error
    const items = (await request(`${base}/feedback?q=quaternion`)).body.items;
    expect(items[0].what_i_needed).toBe("Needs quaternion rotation support");
  });

  it("filters by reviewed/status and by date range", async () => {
    const list = (await request(`${base}/feedback?server_name=beta&limit=3`)).body.items as { id: number }[];
    await request(`${base}/feedback/${list[0]!.id}`, { method: "PATCH", body: { reviewed: true } });
    await request(`${base}/feedback/${list[1]!.id}`, { method: "PATCH", body: { status: "dismissed" } });
    const reviewed = (await request(`${base}/feedback?server_name=beta&reviewed=true`)).body.items.map(
      (r: { id: number }) => r.id,
    );
    expect(reviewed.sort()).toEqual([list[0]!.id, list[1]!.id].sort());
    expect((await request(`${base}/feedback?server_name=beta&status=dismissed`)).body.items).toHaveLength(1);
    expect((await request(`${base}/feedback?server_name=beta&reviewed=false&limit=200`)).body.items).toHaveLength(8);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await request(`${base}/feedback?since=${future}`)).body.items).toHaveLength(0);
    expect((await request(`${base}/feedback?until=2000-01-01`)).body.items).toHaveLength(0);
    expect(
      (await request(`${base}/feedback?server_name=beta&since=2000-01-01&until=${future}&limit=200`)).body.items,
    ).toHaveLength(10);
  });

  it("pages newest first with cursors, each report exactly once", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: { id: number }[]; nextCursor: string | null } } = await request(
        `${base}/feedback?server_name=alpha&limit=7${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...res.body.items.map((r) => r.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(20);
    expect(new Set(seen).size).toBe(20);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it("defaults to 50, caps at 200 and explains bad parameters", async () => {
    for (let i = 0; i < 25; i++) await request(`${base}/feedback`, { body: validReport({ server_name: "many" }) });
    const all = await request(`${base}/feedback`);
    expect(all.body.items).toHaveLength(50);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    const tooMany = await request(`${base}/feedback?limit=201`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details).toEqual([{ field: "limit", message: "must be at most 200" }]);
    const bad = await request(`${base}/feedback?gap_type=nope&since=yesterday&reviewed=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      "gap_type",
      "reviewed",
      "since",
    ]);
    const cursor = await request(`${base}/feedback?cursor=not-a-cursor`);
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe("invalid_cursor");
  });
});

describe("one report: PATCH, notes, 404s", () => {
  it("toggles reviewed and sets status", async () => {
    const { body } = await request(`${base}/feedback`, { body: validReport() });
    const url = `${base}/feedback/${body.id}`;
    expect((await request(url, { method: "PATCH", body: { reviewed: true } })).body).toMatchObject({
      status: "reviewed",
      reviewed: true,
    });
    expect((await request(url, { method: "PATCH", body: { status: "resolved" } })).body).toMatchObject({
      status: "resolved",
      reviewed: true,
    });
    expect((await request(url, { method: "PATCH", body: { reviewed: false } })).body).toMatchObject({
      status: "open",
      reviewed: false,
    });
    const bad = await request(url, { method: "PATCH", body: { status: "closed", colour: "red" } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["(body)", "status"]);
    expect((await request(url, { method: "PATCH", body: {} })).status).toBe(422);
  });

  it("appends notes in order with timestamps", async () => {
    const { body } = await request(`${base}/feedback`, { body: validReport() });
    const url = `${base}/feedback/${body.id}/notes`;
    const a = await request(url, { body: { body: "same as #42" } });
    const b = await request(url, { body: { content: "shipped in v2.1", author: "dana" } });
    expect(a.status).toBe(201);
    expect(b.body).toMatchObject({ body: "shipped in v2.1", author: "dana", report_id: body.id });
    const detail = await request(`${base}/feedback/${body.id}`);
    expect(detail.body.notes.map((n: { body: string }) => n.body)).toEqual(["same as #42", "shipped in v2.1"]);
    expect((await request(url, { body: { body: "  " } })).status).toBe(422);
  });

  it("stores a NUL character in a report and a note (PostgreSQL's text holds U+FFFD in its place)", async () => {
    const stored = onPostgres() ? "a \uFFFD b" : "a \u0000 b";
    const one = await request(`${base}/feedback`, { body: validReport({ suggestion: "a \u0000 b" }) });
    const keyed = validReport({ suggestion: "\\u0000 is a literal, a \u0000 b", idempotency_key: "nul-key-\u0000" });
    const two = await request(`${base}/feedback`, { body: keyed });
    const retry = await request(`${base}/feedback`, { body: keyed });
    expect([one.status, two.status, retry.status]).toEqual([201, 201, 200]);
    expect(retry.body.id).toBe(two.body.id);
    const note = await request(`${base}/feedback/${one.body.id}/notes`, { body: { body: "a \u0000 b" } });
    expect(note.status).toBe(201);
    const detail = await request(`${base}/feedback/${one.body.id}`);
    expect(detail.body.suggestion).toBe(stored);
    expect(detail.body.notes.map((n: { body: string }) => n.body)).toEqual([stored]);
    expect((await request(`${base}/feedback/${two.body.id}`)).body.suggestion).toBe(`\\u0000 is a literal, ${stored}`);
  });

  it("answers 404 for unknown ids and 400 for malformed ones", async () => {
    for (const [method, path, body] of [
      ["GET", "/feedback/999999", undefined],
      ["PATCH", "/feedback/999999", { reviewed: true }],
      ["POST", "/feedback/999999/notes", { body: "x" }],
    ] as const) {
      const res = await request(`${base}${path}`, { method, body });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("report_not_found");
    }
    for (const id of ["abc", "-1", "0", "1.5", "99999999999999999999"]) {
      expect((await request(`${base}/feedback/${id}`)).status).toBe(400);
    }
    const route = await request(`${server.url}/api/nothing-here`);
    expect(route.status).toBe(404);
    expect(route.headers.get("content-type")).toContain("application/json");
  });
});

describe("stats, export, health", () => {
  it("counts by every dimension and per day", async () => {
    const res = await request(`${base}/stats?server_name=alpha`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(20);
    expect(res.body.by_gap_type).toEqual(
      expect.arrayContaining([
        { key: "missing_tool", count: 10 },
        { key: "wrong_format", count: 10 },
      ]),
    );
    expect(res.body.blocked).toBe(10);
    expect(res.body.servers).toBe(1);
    expect(res.body.per_day).toHaveLength(30);
    expect(res.body.per_day.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), count: 20 });
    for (const key of ["by_server", "by_resolution", "by_client", "by_tool", "by_status"])
      expect(Array.isArray(res.body[key])).toBe(true);
    expect((await request(`${base}/stats?days=400`)).status).toBe(400);
  });

  it("exports JSON, NDJSON and formula-safe CSV with the same filters", async () => {
    await request(`${base}/feedback`, {
      body: validReport({
        server_name: "export-me",
        what_i_needed: '=HYPERLINK("http://evil","x")',
        suggestion: '+1, "quoted"\nline',
      }),
    });
    const json = await request(`${base}/export?format=json&server_name=export-me`);
    expect(json.headers.get("content-disposition")).toMatch(/attachment; filename="patchworkmcp-feedback-.*\.json"/);
    expect(json.body).toHaveLength(1);
    const ndjson = await request(`${base}/export?format=ndjson&server_name=export-me`);
    expect(
      ndjson.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).server_name),
    ).toEqual(["export-me"]);
    const csv = await request(`${base}/export?format=csv&server_name=export-me`);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csv.text).toContain(`"'+1, ""quoted""\nline"`);
    const empty = await request(`${base}/export?format=json&server_name=nobody`);
    expect(empty.body).toEqual([]);
    const all = await request(`${base}/export?format=ndjson`);
    const count = (await request(`${base}/stats`)).body.total;
    expect(all.text.trim().split("\n")).toHaveLength(count);
    expect((await request(`${base}/export?format=xml`)).status).toBe(400);
  });

  it("reports health", async () => {
    const res = await request(`${server.url}/healthz`);
    expect(res.body).toMatchObject({ status: "ok", db: "open" });
    // The grouping worker's progress: every report at or below assigned_upto has its gap.
    expect(res.body.grouping).toMatchObject({
      mode: expect.any(String),
      pending: expect.any(Number),
      assigned_upto: expect.any(Number),
      latest_id: expect.any(Number),
    });
  });
});

describe("browser-facing protections", () => {
  it("refuses foreign Host headers (DNS rebinding) and foreign Origins, without wildcard CORS", async () => {
    // fetch does not let a caller set Host, so use node:http directly.
    const raw = await rawGet(server.port, "/api/feedback", { host: "attacker.example:8099" });
    expect(raw.status).toBe(403);
    expect(raw.body).toContain("host_not_allowed");
    const cross = await request(`${base}/feedback`, {
      body: validReport(),
      headers: { origin: "https://evil.example" },
    });
    expect(cross.status).toBe(403);
    expect(cross.body.error.code).toBe("origin_not_allowed");
    expect(cross.headers.get("access-control-allow-origin")).toBeNull();
    const same = await request(`${base}/feedback`, { headers: { origin: server.url } });
    expect(same.status).toBe(200);
    expect(same.headers.get("access-control-allow-origin")).toBeNull();
  });
});

async function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const http = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
