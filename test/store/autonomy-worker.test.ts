/**
 * The autonomy worker never spends without the settings: a gap over every threshold on a
 * server at auto_draft is not sent to the model while the repository, the GitHub token or
 * the LLM key is missing, nor while the server is below auto_draft (real store on either
 * backend, the worker in-process, the Anthropic double counting requests).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAutonomy } from "../../src/draft/autonomy-worker.js";
import { parseFeedback } from "../../src/feedback/index.js";
import { updateAutonomy } from "../../src/settings/index.js";
import { autonomyOf, FeedbackStore } from "../../src/store/index.js";
import { startAnthropicDouble, type LlmDoubleBase } from "../doubles/index.js";
import { REPO, WEATHER_REPORT } from "../draft/fixtures.js";
import { blankDraftEnv } from "../helpers/env.js";
import { testDbPath } from "../helpers/serve.js";

let store: FeedbackStore;
let anthropic: LlmDoubleBase;
let gapId: number;

beforeAll(async () => {
  anthropic = await startAnthropicDouble();
  anthropic.fallback = () => ({ status: 500, body: { error: { message: "must not be called" } } });
  store = FeedbackStore.open(testDbPath("pwm-autonomy-worker-"));
  for (const s of ["a", "b", "c"]) {
    const parsed = parseFeedback({ ...WEATHER_REPORT, session_id: s, resolution: "blocked" });
    if (!parsed.ok) throw new Error("bad fixture");
    gapId = store.insertReport(parsed.payload).gap_id!;
  }
});

afterAll(async () => {
  store?.close();
  await anthropic?.close();
});

async function tickWith(env: Record<string, string>): Promise<string[]> {
  const lines: string[] = [];
  const worker = startAutonomy(store, { env: { ...blankDraftEnv(), ...env }, log: (l) => lines.push(l) });
  try {
    await worker.tick();
  } finally {
    worker.stop();
  }
  return lines;
}

describe("the autonomy worker", () => {
  it("does nothing at suggest or draft, however far a gap is over the thresholds", async () => {
    const full = {
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      GITHUB_TOKEN: "ghp_x",
      PATCHWORKMCP_GITHUB_REPO: REPO,
    };
    for (const level of ["suggest", "draft"] as const) {
      updateAutonomy(store, "weather", { level, min_sessions: 1 });
      expect(await tickWith(full)).toEqual([]);
    }
    expect(anthropic.requests).toHaveLength(0);
  });

  it("waits, without calling the model, until a repository, a token and a key are configured", async () => {
    updateAutonomy(store, "weather", { level: "auto_draft", min_sessions: 1 });
    const llm = { ANTHROPIC_API_KEY: anthropic.apiKey, ANTHROPIC_BASE_URL: anthropic.url };
    expect(await tickWith({ ...llm, GITHUB_TOKEN: "ghp_x" })).toEqual([
      expect.stringContaining("no GitHub repository is configured"),
    ]);
    expect(await tickWith({ ...llm, PATCHWORKMCP_GITHUB_REPO: REPO })).toEqual([
      expect.stringContaining("no GitHub token is configured"),
    ]);
    expect(
      await tickWith({ ANTHROPIC_BASE_URL: anthropic.url, GITHUB_TOKEN: "ghp_x", PATCHWORKMCP_GITHUB_REPO: REPO }),
    ).toEqual([expect.stringContaining("no anthropic API key is configured")]);
    expect(anthropic.requests).toHaveLength(0);
    expect(autonomyOf(store).lastAttempt(gapId)).toBeUndefined();
  });
});
