/**
 * The settings API and the SSE endpoint against a real `patchworkmcp serve`
 * child process, configured through the API itself (secrets land in the
 * `.env` file beside its database), talking to the loopback doubles.
 */
import { readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import express from "express";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../src/settings/index.js";
import { openSse } from "../../src/http/routes/draft.js";
import { FeedbackStore } from "../../src/store/index.js";
import { startAnthropicDouble, startGitHubDouble, type GitHubDouble, type LlmDoubleBase } from "../doubles/index.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";
import { addReport, HAPPY_CHANGE_SET, openTempStore, REPO, REPO_FILES } from "./fixtures.js";
import { readSse, SseParser, type SseEvent } from "./sse.js";
import { blankDraftEnv } from "../helpers/env.js";

const ADMIN = "admin-key-for-draft-tests-0001";
const CLEAN_ENV = { FEEDBACK_API_KEY: ADMIN, ...blankDraftEnv() };

let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let serve: ServeProcess;
let dir: string;
let readKey: string;
let reportId: number;

const api = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${serve.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${init.key ?? ADMIN}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
      ...(init.headers ?? {}),
    },
  });
const putSettings = (body: unknown) => api("/api/settings", { method: "PUT", body: JSON.stringify(body) });

beforeAll(async () => {
  [gh, anthropic] = await Promise.all([startGitHubDouble(), startAnthropicDouble()]);
  gh.addRepo(REPO, REPO_FILES);
  const temp = openTempStore();
  dir = temp.dir;
  reportId = addReport(temp.store);
  temp.store.addNote(reportId, "Prefer an optional hours parameter.", "dana");
  readKey = temp.store.createKey("read", "reader").key;
  temp.store.close();
  serve = await startServe({ dbPath: temp.dbPath, env: CLEAN_ENV });
});
afterAll(async () => {
  await serve?.stop();
  await Promise.all([gh?.close(), anthropic?.close()]);
});

describe("settings API", () => {
  it("needs the admin scope", async () => {
    expect((await api("/api/settings", { key: readKey })).status).toBe(403);
    expect((await fetch(`${serve.url}/api/settings`)).status).toBe(401);
    expect(await putSettings({}).then((r) => r.status)).toBe(200);
  });

  it("starts empty, with built-in defaults as the effective LLM", async () => {
    const body = await (await api("/api/settings")).json();
    expect(body.servers).toEqual({});
    expect(body.default).toBeNull();
    expect(body.llm.effective).toEqual({ provider: "anthropic", model: "claude-sonnet-4-6", context_tokens: 200000 });
    expect(body.secrets.github_token).toEqual({ set: false, masked: null, source: null, env: "GITHUB_TOKEN" });
    expect(body.env_file).toBe(join(dir, ".env"));
  });

  it("saves secrets only in a 0600 .env file and returns them masked", async () => {
    const res = await putSettings({
      servers: { weather: { repo: REPO, base_branch: "main" } },
      llm: { provider: "anthropic" },
      secrets: {
        github_token: gh.token,
        github_api_url: gh.url,
        anthropic_api_key: anthropic.apiKey,
        anthropic_base_url: anthropic.url,
      },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(gh.token);
    expect(text).not.toContain(anthropic.apiKey);
    const body = JSON.parse(text);
    expect(body.secrets.github_token).toEqual({
      set: true,
      masked: `••••${gh.token.slice(-4)}`,
      source: "file",
      env: "GITHUB_TOKEN",
    });
    expect(body.servers.weather).toEqual({ repo: REPO, base_branch: "main" });

    const envPath = join(dir, ".env");
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    expect(parseEnv(readFileSync(envPath, "utf8")).get("GITHUB_TOKEN")).toBe(gh.token);
    for (const f of ["feedback.db", "feedback.db-wal"]) {
      let bytes = "";
      try {
        bytes = readFileSync(join(dir, f)).toString("latin1");
      } catch {
        continue;
      }
      expect(bytes).not.toContain(gh.token);
    }
  });

  it("refuses newline injection and stores quotes and backslashes literally", async () => {
    const injected = await putSettings({ secrets: { openai_api_key: 'sk-abc"\nEVIL=1' } });
    expect(injected.status).toBe(422);
    const text = await injected.text();
    expect(JSON.parse(text).error.code).toBe("validation_failed");
    expect(text).not.toContain("sk-abc");
    const tricky = 'sk-quote"back\\slash$HOME';
    expect((await putSettings({ secrets: { openai_api_key: tricky } })).status).toBe(200);
    const vars = parseEnv(readFileSync(join(dir, ".env"), "utf8"));
    expect(vars.get("OPENAI_API_KEY")).toBe(tricky);
    expect([...vars.keys()].sort()).toEqual([
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_BASE_URL",
      "GITHUB_API_URL",
      "GITHUB_TOKEN",
      "OPENAI_API_KEY",
    ]);
  });

  it("clears a secret with null and keeps absent ones", async () => {
    const body = await (await putSettings({ secrets: { openai_api_key: null } })).json();
    expect(body.secrets.openai_api_key.set).toBe(false);
    expect(body.secrets.github_token.set).toBe(true);
    expect(readFileSync(join(dir, ".env"), "utf8")).not.toContain("OPENAI_API_KEY");
  });

  it("rejects bad values with 422 naming the field", async () => {
    const res = await putSettings({ servers: { weather: { repo: "not a repo" } }, llm: { provider: "gemini" } });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(JSON.stringify(error.details)).toContain("servers");
    expect((await putSettings({ secrets: { github_api_url: "ftp://x" } })).status).toBe(422);
    expect((await putSettings({ surprise: 1 })).status).toBe(422);
  });
});

describe("POST /api/feedback/:id/draft-pr (SSE)", () => {
  const payloads = (events: SseEvent[]) =>
    events.map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));

  it("streams step/detail events and ends with done carrying the PR URL; the draft is on the report", async () => {
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const res = await api(`/api/feedback/${reportId}/draft-pr`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { events, raw } = await readSse(res);
    const parsed = payloads(events);
    expect(parsed.filter((e) => e.event === "step").map((e) => e.data.step)).toEqual([
      "settings",
      "read_repo",
      "select_files",
      "prompt",
      "model",
      "validate",
      "commit",
      "pull_request",
      "record",
    ]);
    const done = parsed.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data.url).toMatch(new RegExp(`^https://github.com/${REPO}/pull/\\d+$`));
    expect((done.data.draft as { url: string }).url).toBe(done.data.url);

    // Framing survives any chunking: re-split the raw stream at every boundary size.
    for (const size of [1, 2, 3, 7, 64]) {
      const parser = new SseParser();
      const again: SseEvent[] = [];
      for (let i = 0; i < raw.length; i += size) again.push(...parser.feed(raw.slice(i, i + size)));
      expect(again).toEqual(events);
    }

    const detail = await (await api(`/api/feedback/${reportId}`)).json();
    expect(detail.drafts.at(-1).url).toBe(done.data.url);
    const pr = gh.pulls(REPO).at(-1)!;
    expect(pr.body).toContain(`/#/r/${reportId}`);
    expect(pr.body).toContain("> Prefer an optional hours parameter.");
    for (const secret of [gh.token, anthropic.apiKey]) expect(raw).not.toContain(secret);
  });

  it("dry_run: true ends with the diff and no PR", async () => {
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const pulls = gh.pulls(REPO).length;
    const res = await api(`/api/feedback/${reportId}/draft-pr`, {
      method: "POST",
      body: JSON.stringify({ dry_run: true }),
    });
    const done = payloads((await readSse(res)).events).at(-1)!;
    expect(done).toMatchObject({ event: "done", data: { dry_run: true, kind: "dry_run", url: null, draft: null } });
    expect(done.data.diff).toContain("+++ b/docs/hourly.md");
    expect(gh.pulls(REPO)).toHaveLength(pulls);
  });

  it("pipeline errors arrive as an error event", async () => {
    anthropic.enqueue({ refusal: "No." });
    const res = await api(`/api/feedback/${reportId}/draft-pr`, { method: "POST", body: "{}" });
    const last = payloads((await readSse(res)).events).at(-1)!;
    expect(last).toMatchObject({ event: "error", data: { code: "model_refused", step: "model" } });
  });

  it("problems found before streaming are JSON errors", async () => {
    expect((await api("/api/feedback/999999/draft-pr", { method: "POST" })).status).toBe(404);
    expect((await api("/api/feedback/abc/draft-pr", { method: "POST" })).status).toBe(400);
    expect(
      (await api(`/api/feedback/${reportId}/draft-pr`, { method: "POST", body: JSON.stringify({ dry_run: "yes" }) }))
        .status,
    ).toBe(422);
    expect((await api(`/api/feedback/${reportId}/draft-pr`, { method: "POST", key: readKey })).status).toBe(403);
    const plain = await fetch(`${serve.url}/api/feedback/${reportId}/draft-pr`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "text/plain" },
      body: "dry_run=true",
    });
    expect(plain.status).toBe(415);
  });

  it("a client that disconnects mid-run aborts the pipeline and the branch is cleaned up", async () => {
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    gh.slowNext({ method: "POST", path: "/pulls" }, 5_000);
    const branches = gh.branches(REPO).length;
    const drafts = FeedbackStore.open(serve.dbPath, { readonly: true });
    const before = drafts.listDrafts(reportId).length;
    const controller = new AbortController();
    const res = await api(`/api/feedback/${reportId}/draft-pr`, { method: "POST", signal: controller.signal });
    await readSse(res, (e) => !(e.event === "step" && JSON.parse(e.data).step === "pull_request"));
    controller.abort();
    // The PR call is in flight; the server aborts it and deletes the branch.
    await expect
      .poll(() => gh.requests.some((r) => r.method === "DELETE"), { timeout: 20_000, interval: 100 })
      .toBe(true);
    expect(gh.branches(REPO)).toHaveLength(branches);
    expect(drafts.listDrafts(reportId)).toHaveLength(before);
    drafts.close();
  });

  it("never writes a secret to the server's log", () => {
    const log = serve.stderr();
    for (const secret of [gh.token, anthropic.apiKey]) expect(log).not.toContain(secret);
  });
});

describe("SSE plumbing", () => {
  it("sends keep-alive comments while a step is slow, and aborts when the client leaves", async () => {
    const app = express();
    let aborted = false;
    app.get("/stream", (_req, res) => {
      const stream = openSse(res, 20);
      stream.signal.addEventListener("abort", () => {
        aborted = true;
        stream.end();
      });
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`, {
      signal: controller.signal,
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    while (parser.comments < 3) parser.feed((await reader.read()).value ?? "");
    controller.abort();
    await expect.poll(() => aborted, { timeout: 10_000, interval: 20 }).toBe(true);
    server.close();
  });
});
