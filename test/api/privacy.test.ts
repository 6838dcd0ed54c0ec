/**
 * Privacy before storage, end to end on a real `serve` child (SQLite, and PostgreSQL in the
 * postgres project): a report carrying secrets and personal data comes back scrubbed with its
 * redactions over REST and MCP; a server set to `off` keeps its text; `secrets` leaves personal
 * data; the modes over REST (GET/PUT, 422 for a bad one) and the `--privacy` default; the MCP
 * feedback tool over HTTP and the stdio `mcp` command scrub too. Requires `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, validReport } from "../helpers/http.js";
import { piiSamples, secretSamples } from "../helpers/secrets.js";
import { onPostgres, startServe, testDbPath, type ServeProcess } from "../helpers/serve.js";
import { httpClient, stdioClient, textOf } from "../mcp/helpers.js";

let server: ServeProcess;
let base: string;

const [, github] = secretSamples(5)[0]!;
const [, slack] = secretSamples(5)[1]!;
const [, email] = piiSamples(5)[0]!;
const [, card] = piiSamples(5)[3]!;

const leaky = (server_name: string) =>
  validReport({
    server_name,
    what_i_needed: `Send the invoice to ${email}`,
    what_i_tried: `Called send_invoice with token ${github}, then for ${email} again; card ${card}`,
    suggestion: `Accept a webhook; ours is ${slack}`,
  });

beforeAll(async () => {
  server = await startServe();
  base = `${server.url}/api`;
});
afterAll(async () => {
  await server?.stop();
});

describe("reports are scrubbed before they are stored", () => {
  it("replaces secrets and personal data, and returns the redactions with the report", async () => {
    const posted = await request(`${base}/feedback`, { body: leaky("billing-mcp") });
    expect(posted.status).toBe(201);
    const expected = [
      { field: "what_i_needed", rule: "email", count: 1 },
      { field: "what_i_tried", rule: "github", count: 1 },
      { field: "what_i_tried", rule: "email", count: 1 },
      { field: "what_i_tried", rule: "card", count: 1 },
      { field: "suggestion", rule: "slack", count: 1 },
    ];
    expect(posted.body).toEqual({ id: expect.any(Number), status: "recorded", redactions: expected });
    const got = await request(`${base}/feedback/${posted.body.id}`);
    expect(got.body.what_i_needed).toBe("Send the invoice to [email]");
    expect(got.body.what_i_tried).toBe(
      "Called send_invoice with token [secret:github], then for [email] again; card [card]",
    );
    expect(got.body.suggestion).toBe("Accept a webhook; ours is [secret:slack]");
    expect(got.body.redactions).toEqual(expected);
    // Nowhere else either: not in the list, the export or a search.
    for (const path of ["/feedback?server_name=billing-mcp", "/export?format=json&server_name=billing-mcp"]) {
      const page = await request(`${base}${path}`);
      for (const secret of [github, email, slack, card]) expect(page.text).not.toContain(secret);
    }
    const list = await request(`${base}/feedback?server_name=billing-mcp`);
    expect(list.body.items[0].redactions).toEqual(expected);
    const found = await request(`${base}/feedback?q=${encodeURIComponent(email.split("@")[0]!)}`);
    expect(found.body.items).toEqual([]);
  });

  it("a server set to off keeps its text; one set to secrets keeps personal data", async () => {
    const off = await request(`${base}/servers/raw-mcp/privacy`, { method: "PUT", body: { mode: "off" } });
    expect(off.body).toEqual({ server_name: "raw-mcp", mode: "off", source: "server" });
    const put = await request(`${base}/servers/secrets-mcp/privacy`, { method: "PUT", body: { mode: "secrets" } });
    expect(put.status).toBe(200);

    const raw = await request(`${base}/feedback`, { body: leaky("raw-mcp") });
    expect(raw.body).toEqual({ id: expect.any(Number), status: "recorded" });
    const rawReport = await request(`${base}/feedback/${raw.body.id}`);
    expect(rawReport.body.what_i_tried).toBe(leaky("raw-mcp").what_i_tried);
    expect(rawReport.body.redactions).toEqual([]);

    const partial = await request(`${base}/feedback`, { body: leaky("secrets-mcp") });
    const partialReport = await request(`${base}/feedback/${partial.body.id}`);
    expect(partialReport.body.what_i_tried).toBe(
      `Called send_invoice with token [secret:github], then for ${email} again; card ${card}`,
    );
    expect(partialReport.body.redactions.map((r: { rule: string }) => r.rule).sort()).toEqual(["github", "slack"]);

    // Clearing the override brings the default (secrets+pii) back.
    const cleared = await request(`${base}/servers/raw-mcp/privacy`, { method: "PUT", body: { mode: null } });
    expect(cleared.body).toEqual({ server_name: "raw-mcp", mode: "secrets+pii", source: "built-in" });
    const again = await request(`${base}/feedback`, { body: leaky("raw-mcp") });
    expect((await request(`${base}/feedback/${again.body.id}`)).body.what_i_needed).toBe("Send the invoice to [email]");
  });

  it("lists the modes and saves a default; a bad mode is a 422 naming the three", async () => {
    const view = await request(`${base}/privacy`);
    expect(view.body).toEqual({
      default: "secrets+pii",
      default_source: "built-in",
      saved_default: null,
      servers: [{ server_name: "secrets-mcp", mode: "secrets" }],
    });
    const bad = await request(`${base}/servers/x/privacy`, { method: "PUT", body: { mode: "most" } });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("off, secrets, secrets+pii");
    const badDefault = await request(`${base}/privacy`, { method: "PUT", body: { default: "none" } });
    expect(badDefault.status).toBe(422);
    const notJson = await request(`${base}/privacy`, {
      method: "PUT",
      rawBody: "off",
      headers: { "content-type": "text/plain" },
    });
    expect(notJson.status).toBe(415);

    const saved = await request(`${base}/privacy`, { method: "PUT", body: { default: "secrets" } });
    expect(saved.body).toMatchObject({ default: "secrets", default_source: "saved", saved_default: "secrets" });
    expect((await request(`${base}/servers/other-mcp/privacy`)).body).toEqual({
      server_name: "other-mcp",
      mode: "secrets",
      source: "saved",
    });
    const posted = await request(`${base}/feedback`, { body: leaky("other-mcp") });
    const report = await request(`${base}/feedback/${posted.body.id}`);
    expect(report.body.what_i_needed).toBe(`Send the invoice to ${email}`);
    await request(`${base}/privacy`, { method: "PUT", body: { default: null } });
  });

  it("the MCP feedback tool and get_report: scrubbed, and the reply says what was replaced", async () => {
    const { client } = await httpClient(`${server.url}/mcp`);
    try {
      const result = await client.callTool({ name: "feedback", arguments: leaky("mcp-http") });
      const text = textOf(result);
      expect(text).toContain("privacy replaced email ×1 in what_i_needed; github ×1 in what_i_tried");
      const id = Number(/\d+/.exec(text)![0]);
      const stored = await request(`${base}/feedback/${id}`);
      expect(stored.body.what_i_tried).toContain("[secret:github]");
      const md = textOf(await client.callTool({ name: "get_report", arguments: { id } }));
      expect(md).toContain("**Redacted before storage:** `email ×1 in what_i_needed; github ×1 in what_i_tried;");
      expect(md).not.toContain(github);
    } finally {
      await client.close();
    }
  });
});

describe("the process default", () => {
  it("serve --privacy off stores reports as sent, but a server's own mode still wins", async () => {
    const own = await startServe({ args: ["--privacy", "off"] });
    try {
      const api = `${own.url}/api`;
      expect((await request(`${api}/privacy`)).body).toMatchObject({ default: "off", default_source: "process" });
      const plain = await request(`${api}/feedback`, { body: leaky("a-mcp") });
      expect((await request(`${api}/feedback/${plain.body.id}`)).body.what_i_needed).toBe(
        `Send the invoice to ${email}`,
      );
      await request(`${api}/servers/b-mcp/privacy`, { method: "PUT", body: { mode: "secrets+pii" } });
      const scrubbed = await request(`${api}/feedback`, { body: leaky("b-mcp") });
      expect((await request(`${api}/feedback/${scrubbed.body.id}`)).body.what_i_needed).toBe(
        "Send the invoice to [email]",
      );
    } finally {
      await own.stop();
    }
  });

  it("refuses an unknown --privacy mode", async () => {
    await expect(startServe({ args: ["--privacy", "some"] })).rejects.toThrow(/off, secrets, secrets\+pii/);
  });
});

describe.skipIf(onPostgres())("the stdio mcp command", () => {
  it("scrubs feedback before writing it to the file", async () => {
    const dbPath = testDbPath();
    const session = await stdioClient({ dbPath, args: ["--create"] });
    try {
      const text = textOf(await session.client.callTool({ name: "feedback", arguments: leaky("stdio-mcp") }));
      const id = Number(/\d+/.exec(text)![0]);
      const md = textOf(await session.client.callTool({ name: "get_report", arguments: { id } }));
      expect(md).toContain("[secret:github]");
      expect(md).not.toContain(github);
      expect(md).not.toContain(email);
    } finally {
      await session.close();
    }
  });
});
