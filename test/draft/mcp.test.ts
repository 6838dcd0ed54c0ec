/**
 * The `draft_pr` MCP tool through the real MCP SDK (client ↔ report server
 * over linked in-memory transports): progress notifications, the PR URL,
 * dry runs, errors and scope.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReportServer } from "../../src/mcp/server.js";
import type { FeedbackStore, KeyScope } from "../../src/store/index.js";
import { startAnthropicDouble, startGitHubDouble, type GitHubDouble, type LlmDoubleBase } from "../doubles/index.js";
import { addReport, HAPPY_CHANGE_SET, openTempStore, REPO, REPO_FILES } from "./fixtures.js";

let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let store: FeedbackStore;

async function connect(scope: KeyScope): Promise<Client> {
  const server = createReportServer({ store, scope });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "draft-test", version: "1.0.0" });
  await Promise.all([server.connect(a), client.connect(b)]);
  return client;
}

beforeAll(async () => {
  [gh, anthropic] = await Promise.all([startGitHubDouble(), startAnthropicDouble()]);
  gh.addRepo(REPO, REPO_FILES);
  store = openTempStore().store;
  // This test file runs in its own worker process, so its environment is its own.
  Object.assign(process.env, {
    GITHUB_TOKEN: gh.token,
    GITHUB_API_URL: gh.url,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropic.url,
    PATCHWORKMCP_LLM_PROVIDER: "anthropic",
    PATCHWORKMCP_GITHUB_REPO: REPO,
    FEEDBACK_PUBLIC_URL: "http://localhost:8099",
  });
});
afterAll(async () => {
  store.close();
  await Promise.all([gh.close(), anthropic.close()]);
});

describe("draft_pr", () => {
  it("is listed for admin sessions only", async () => {
    const admin = await connect("admin");
    const reader = await connect("read");
    expect((await admin.listTools()).tools.map((t) => t.name)).toContain("draft_pr");
    expect((await reader.listTools()).tools.map((t) => t.name)).not.toContain("draft_pr");
    await Promise.all([admin.close(), reader.close()]);
  });

  it("sends increasing progress notifications and returns the PR URL", async () => {
    const id = addReport(store);
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const client = await connect("admin");
    const progress: Progress[] = [];
    const result = await client.callTool({ name: "draft_pr", arguments: { id } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { url: string; draft_id: number; kind: string };
    expect(structured.kind).toBe("pull_request");
    expect(structured.url).toMatch(new RegExp(`^https://github.com/${REPO}/pull/\\d+$`));
    expect((result.content as { text: string }[])[0]!.text).toContain(structured.url);
    expect(store.listDrafts(id).map((d) => d.id)).toEqual([structured.draft_id]);

    expect(progress.length).toBeGreaterThanOrEqual(9);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress.every((p) => p.total === 9)).toBe(true);
    expect(progress.map((p) => p.message)).toContain("Recording the draft on the report");
    const pr = gh.pulls(REPO).find((p) => p.html_url === structured.url)!;
    expect(pr.body).toContain(`http://localhost:8099/#/r/${id}`);
    await client.close();
  });

  it("dry_run returns the diff", async () => {
    const id = addReport(store);
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const client = await connect("admin");
    const result = await client.callTool({ name: "draft_pr", arguments: { id: `#${id}`, dry_run: true } });
    expect(result.structuredContent).toMatchObject({ kind: "dry_run", url: null });
    expect((result.content as { text: string }[])[0]!.text).toContain("```diff\ndiff --git a/");
    await client.close();
  });

  it("cancelling the call aborts the run and deletes the branch it made", async () => {
    const id = addReport(store);
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    gh.slowNext({ method: "POST", path: "/pulls" }, 5_000);
    const branches = gh.branches(REPO).length;
    const client = await connect("admin");
    const controller = new AbortController();
    const call = client.callTool({ name: "draft_pr", arguments: { id } }, undefined, {
      signal: controller.signal,
      onprogress: (p) => {
        if (p.message?.startsWith("Opening a draft pull request")) controller.abort();
      },
    });
    await expect(call).rejects.toThrow();
    await expect
      .poll(() => gh.requests.some((r) => r.method === "DELETE"), { timeout: 20_000, interval: 100 })
      .toBe(true);
    expect(gh.branches(REPO)).toHaveLength(branches);
    expect(store.listDrafts(id)).toEqual([]);
    await client.close();
  });

  it("failures are isError results naming the code", async () => {
    const client = await connect("admin");
    const missing = await client.callTool({ name: "draft_pr", arguments: { id: 987654 } });
    expect(missing.isError).toBe(true);
    expect((missing.content as { text: string }[])[0]!.text).toContain("report_not_found");
    const id = addReport(store);
    anthropic.enqueue({ refusal: "no" });
    const refused = await client.callTool({ name: "draft_pr", arguments: { id } });
    expect((refused.content as { text: string }[])[0]!.text).toContain("model_refused");
    const bad = await client.callTool({ name: "draft_pr", arguments: { id: "x" } });
    expect(bad.isError).toBe(true);
    await client.close();
  });
});
