/** The doubles speak the real wire format: the real SDKs work against them. */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Octokit } from "octokit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startAnthropicDouble,
  startGitHubDouble,
  startOpenAIDouble,
  type GitHubDouble,
  type LlmDoubleBase,
  type OpenAIDouble,
} from "../doubles/index.js";

let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let openai: OpenAIDouble;

beforeAll(async () => {
  [gh, anthropic, openai] = await Promise.all([startGitHubDouble(), startAnthropicDouble(), startOpenAIDouble()]);
  gh.addRepo("acme/tools", { "README.md": "hello\n", "src/index.ts": "export const a = 1;\n" });
});
afterAll(async () => {
  await Promise.all([gh.close(), anthropic.close(), openai.close()]);
});

describe("GitHub double", () => {
  it("computes real git object ids and serves the Git Data API to Octokit", async () => {
    const octokit = new Octokit({ auth: gh.token, baseUrl: gh.url });
    const repo = await octokit.rest.repos.get({ owner: "acme", repo: "tools" });
    expect(repo.data.default_branch).toBe("main");
    const ref = await octokit.rest.git.getRef({ owner: "acme", repo: "tools", ref: "heads/main" });
    const commit = await octokit.rest.git.getCommit({ owner: "acme", repo: "tools", commit_sha: ref.data.object.sha });
    const tree = await octokit.rest.git.getTree({
      owner: "acme",
      repo: "tools",
      tree_sha: commit.data.tree.sha,
      recursive: "1",
    });
    const readme = tree.data.tree.find((e) => e.path === "README.md")!;
    // `git hash-object` of "hello\n"
    expect(readme.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    expect(tree.data.tree.map((e) => e.path)).toEqual(["README.md", "src", "src/index.ts"]);
    const blob = await octokit.rest.git.getBlob({ owner: "acme", repo: "tools", file_sha: readme.sha });
    expect(Buffer.from(blob.data.content, "base64").toString()).toBe("hello\n");

    const newTree = await octokit.rest.git.createTree({
      owner: "acme",
      repo: "tools",
      base_tree: commit.data.tree.sha,
      tree: [
        { path: "docs/a.md", mode: "100644", type: "blob", content: "A" },
        { path: "README.md", mode: "100644", type: "blob", sha: null },
      ],
    });
    const c = await octokit.rest.git.createCommit({
      owner: "acme",
      repo: "tools",
      message: "m",
      tree: newTree.data.sha,
      parents: [commit.data.sha],
    });
    await octokit.rest.git.createRef({ owner: "acme", repo: "tools", ref: "refs/heads/x", sha: c.data.sha });
    expect(gh.repoFiles("acme/tools", "x")).toEqual({ "docs/a.md": "A", "src/index.ts": "export const a = 1;\n" });
    const pr = await octokit.rest.pulls.create({
      owner: "acme",
      repo: "tools",
      head: "x",
      base: "main",
      title: "t",
      body: "b",
      draft: true,
    });
    expect(pr.status).toBe(201);
    expect(pr.data.draft).toBe(true);
    await octokit.rest.git.deleteRef({ owner: "acme", repo: "tools", ref: "heads/x" });
    expect(gh.branches("acme/tools")).toEqual(["main"]);
  });

  it("answers with GitHub's error shapes", async () => {
    const bad = new Octokit({ auth: "nope", baseUrl: gh.url });
    await expect(bad.rest.repos.get({ owner: "acme", repo: "tools" })).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("Bad credentials"),
    });
    const good = new Octokit({ auth: gh.token, baseUrl: gh.url });
    await expect(good.rest.repos.get({ owner: "acme", repo: "missing" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("LLM doubles", () => {
  it("Anthropic: a forced tool call comes back as tool_use", async () => {
    anthropic.enqueue({ json: { ok: true } });
    const client = new Anthropic({ apiKey: anthropic.apiKey, baseURL: anthropic.url, maxRetries: 0 });
    const msg = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ name: "submit", input_schema: { type: "object" } }],
      tool_choice: { type: "tool", name: "submit" },
    });
    expect(msg.content[0]).toMatchObject({ type: "tool_use", name: "submit", input: { ok: true } });
    const bad = new Anthropic({ apiKey: "wrong", baseURL: anthropic.url, maxRetries: 0 });
    await expect(
      bad.messages.create({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("OpenAI: Responses API output_text and the chat completions shape", async () => {
    openai.enqueue({ json: { ok: 1 } }, { text: "plain" });
    const client = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.url, maxRetries: 0 });
    const r = await client.responses.create({ model: "gpt-5.4", input: "hi" });
    expect(r.output_text).toBe('{"ok":1}');
    const c = await client.chat.completions.create({ model: "gpt-5.4", messages: [{ role: "user", content: "hi" }] });
    expect(c.choices[0]!.message.content).toBe("plain");
  });
});
