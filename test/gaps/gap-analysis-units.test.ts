/**
 * Gap analysis in process, through the real OpenAI SDK against the loopback
 * double (Responses API and the Chat Completions fallback), plus the settings
 * precedence and the evidence collapse. The serve-level behaviour is in
 * gap-llm.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeGap, GapAnalysisError } from "../../src/draft/gap-analysis.js";
import { collapseEvidence } from "../../src/gaps/evidence.js";
import { DraftSettings } from "../../src/settings/index.js";
import type { FeedbackStore } from "../../src/store/index.js";
import { isAnalysisRequest, startOpenAIDouble, type OpenAIDouble } from "../doubles/index.js";
import { addReport, openTempStore } from "../draft/fixtures.js";

const ANSWER = {
  title: "get_forecast: hourly forecasts",
  summary: "Agents wanted hourly forecasts and only got a daily summary.",
  proposed_change: { kind: "new_parameter", signature: "get_forecast(city: string, hours?: number)", detail: "" },
};

let openai: OpenAIDouble;
let store: FeedbackStore;
let gapId: number;

const settingsWith = (env: Record<string, string>) =>
  new DraftSettings(store, {
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.url,
    PATCHWORKMCP_LLM_PROVIDER: "openai",
    ...env,
  });

beforeAll(async () => {
  openai = await startOpenAIDouble();
  store = openTempStore().store;
  const first = addReport(store, { session_id: "a" });
  addReport(store, { session_id: "b" });
  addReport(store, { session_id: "c", suggestion: "An hours argument" });
  gapId = store.getReport(first)!.gap_id!;
});
afterAll(async () => {
  store?.close();
  await openai?.close();
});

describe("gap analysis settings", () => {
  it("is off by default and an env var overrides what is saved", async () => {
    const plain = new DraftSettings(store, {});
    expect(plain.gapAnalysis()).toEqual({ enabled: false, refresh_after_reports: 5, auto_at_reports: null });
    plain.update({ gap_analysis: { enabled: true, refresh_after_reports: 3, auto_at_reports: 10 } });
    expect(plain.gapAnalysis()).toEqual({ enabled: true, refresh_after_reports: 3, auto_at_reports: 10 });
    const env = new DraftSettings(store, {
      PATCHWORKMCP_GAP_ANALYSIS: "off",
      PATCHWORKMCP_GAP_ANALYSIS_REFRESH_AFTER: "8",
      PATCHWORKMCP_GAP_ANALYSIS_AUTO_AT: "off",
    });
    expect(env.gapAnalysis()).toEqual({ enabled: false, refresh_after_reports: 8, auto_at_reports: null });
    await expect(analyzeGap({ store, settings: env, gapId, actor: "t" })).rejects.toMatchObject({
      code: "gap_analysis_off",
    });
    plain.update({ gap_analysis: { enabled: null, refresh_after_reports: null, auto_at_reports: null } });
    expect(plain.gapAnalysis().enabled).toBe(false);
    expect(openai.requests).toHaveLength(0);
  });
});

describe("gap analysis over the OpenAI SDK", () => {
  it("asks the Responses API for the strict gap_analysis schema and stores the redacted answer", async () => {
    openai.enqueue({ json: { ...ANSWER, summary: `${ANSWER.summary} Key: ${openai.apiKey}` } });
    const settings = settingsWith({ PATCHWORKMCP_GAP_ANALYSIS: "on" });
    const { analysis, cached } = await analyzeGap({ store, settings, gapId, actor: "t" });
    expect(cached).toBe(false);
    expect(analysis).toMatchObject({ title: ANSWER.title, provider: "openai", model: "gpt-5.4", report_count: 3 });
    expect(analysis.summary).toContain("[redacted]");
    expect(analysis.summary).not.toContain(openai.apiKey);
    const req = openai.requests.at(-1)!;
    expect(req.path).toBe("/v1/responses");
    expect(isAnalysisRequest(req)).toBe(true);
    const format = (req.body.text as { format: { name: string; strict: boolean; schema: Record<string, unknown> } })
      .format;
    expect(format).toMatchObject({ name: "gap_analysis", strict: true });
    expect(format.schema.required).toEqual(["title", "summary", "proposed_change"]);
    expect(format.schema.additionalProperties).toBe(false);
    expect(store.gaps.getGap(gapId)!.title).toBe(ANSWER.title);
  });

  it("falls back to Chat Completions on a server without the Responses API", async () => {
    openai.responsesApi = false;
    try {
      openai.enqueue({ json: { ...ANSWER, title: "Hourly forecasts in get_forecast" } });
      const { analysis } = await analyzeGap({
        store,
        settings: settingsWith({ PATCHWORKMCP_GAP_ANALYSIS: "on" }),
        gapId,
        actor: "t",
        force: true,
      });
      expect(analysis.title).toBe("Hourly forecasts in get_forecast");
      expect(openai.requests.at(-1)!.path).toBe("/v1/chat/completions");
    } finally {
      openai.responsesApi = true;
    }
  });

  it("a refusal is a clear error and leaves the cache alone", async () => {
    const before = store.gaps.getGap(gapId)!.analysis;
    openai.enqueue({ refusal: "I cannot help with that." });
    const err = await analyzeGap({
      store,
      settings: settingsWith({ PATCHWORKMCP_GAP_ANALYSIS: "on" }),
      gapId,
      actor: "t",
      force: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GapAnalysisError);
    expect((err as GapAnalysisError).code).toBe("model_refused");
    expect((err as Error).message).toContain("analyse this gap");
    expect(store.gaps.getGap(gapId)!.analysis).toEqual(before);
  });
});

describe("evidence", () => {
  it("collapses identical reports into one entry, most representative first", () => {
    const rows = store.gapEvidence(gapId, 100);
    expect(rows).toHaveLength(3);
    const evidence = collapseEvidence(rows);
    expect(evidence.sampled).toBe(3);
    // Same fingerprint (what_i_needed, tool, type): one entry; the one with a suggestion speaks for it.
    expect(evidence.items).toHaveLength(1);
    expect(evidence.items[0]!.report.suggestion).toBe("An hours argument");
    expect(evidence.items[0]!.duplicate_ids).toHaveLength(2);
  });
});
