/**
 * The autonomy ladder in the dashboard: Debian's Chromium against a real `serve` child. The
 * settings view changes a server's level and guardrails (checked through REST; a bad value is
 * refused with the server's sentence); a gap's page shows the suggestions the guardrails kept
 * (model and command text as text, never markup) and rolls its open draft PR back (checked on
 * the GitHub double: PR closed, branch deleted).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFeedback } from "../../src/feedback/index.js";
import { autonomyOf, FeedbackStore } from "../../src/store/index.js";
import { startGitHubDouble, type GitHubDouble } from "../doubles/index.js";
import { REPO, REPO_FILES, WEATHER_REPORT } from "../draft/fixtures.js";
import { blankDraftEnv } from "../helpers/env.js";
import { startServe, testDbPath, type ServeProcess } from "../helpers/serve.js";
import { api, launchBrowser, poll, screenshot, watchForProblems } from "./browser.js";

const XSS = "<img src=x onerror=\"document.title='pwned'\">";
let gh: GitHubDouble;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let gapId: number;
const BRANCH = "patchworkmcp/gap-ui-test";

beforeAll(async () => {
  gh = await startGitHubDouble();
  gh.addRepo(REPO, REPO_FILES);
  // A branch and a draft PR on the double, as a draft run would have left them.
  const headers = { authorization: `Bearer ${gh.token}`, "content-type": "application/json" };
  const sha = gh.commitAt(REPO, "main")!.sha;
  await fetch(`${gh.url}/repos/${REPO}/git/refs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ ref: `refs/heads/${BRANCH}`, sha }),
  });
  const pr = (await (
    await fetch(`${gh.url}/repos/${REPO}/pulls`, {
      method: "POST",
      headers,
      body: JSON.stringify({ head: BRANCH, base: "main", title: "Hourly forecasts", draft: true }),
    })
  ).json()) as { number: number; html_url: string };

  const dbPath = testDbPath("pwm-ui-autonomy-");
  const store = FeedbackStore.open(dbPath);
  try {
    const parsed = parseFeedback({ ...WEATHER_REPORT, session_id: "s1" });
    if (!parsed.ok) throw new Error("bad fixture");
    const r = store.insertReport(parsed.payload);
    gapId = r.gap_id!;
    store.addDraft(
      r.id,
      {
        kind: "pull_request",
        url: pr.html_url,
        number: pr.number,
        repo: REPO,
        branch: BRANCH,
        base_branch: "main",
        commit_sha: sha,
        provider: "anthropic",
        model: "claude-sonnet-4-6",
        files: ["src/handlers/forecast.ts"],
        title: "Hourly forecasts",
      },
      { gapId, reportIds: [r.id] },
    );
    autonomyOf(store).addSuggestion(gapId, "verification_failed", {
      title: "get_forecast: hourly",
      confidence: 0.91,
      rationale: `Adds hours ${XSS}`,
      problems: ["the verification command failed (exit code 3)"],
      diff: "--- a/src/handlers/forecast.ts\n+++ b/src/handlers/forecast.ts\n",
      verification: { exit_code: 3, timed_out: false, output: `FAIL test/forecast.test.ts ${XSS}` },
    });
  } finally {
    store.close();
  }
  serve = await startServe({
    dbPath,
    env: { ...blankDraftEnv(), GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url },
  });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchForProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await gh?.close();
});

describe("the autonomy ladder in the dashboard", () => {
  it("sets a server's level and guardrails in Settings, and shows the server's refusal", async () => {
    await page.goto(`${serve.url}/#/settings`);
    await page.locator("#autonomy-server").fill("weather");
    await page.locator("#settings-autonomy button", { hasText: "Open" }).click();
    await page.locator("#autonomy-level").selectOption("auto_draft");
    await page.locator("#autonomy-min_sessions").fill("4");
    await page.locator("#autonomy-allowed-paths").fill("src/**\ntest/**");
    await page.locator("#autonomy-rollback").check();
    await page.locator("#autonomy-save").click();
    await poll(async () => (await api<{ level: string }>(serve.url, "/api/servers/weather/autonomy")).level).toBe(
      "auto_draft",
    );
    expect(await api(serve.url, "/api/servers/weather/autonomy")).toMatchObject({
      min_sessions: 4,
      allowed_paths: ["src/**", "test/**"],
      rollback_on_failure: true,
    });
    await poll(() => page.locator("#autonomy-known").textContent()).toContain("weather (auto_draft)");

    await page.locator("#autonomy-confidence_threshold").fill("7");
    await page.locator("#autonomy-save").click();
    await poll(() => page.locator("#autonomy-errors [role=alert]").textContent()).toContain(
      "confidence_threshold must be at most 1",
    );
    expect(
      (await api<{ confidence_threshold: number }>(serve.url, "/api/servers/weather/autonomy")).confidence_threshold,
    ).toBe(0.8);
    // The browser logs the refused PUT itself; that one is expected, nothing else is.
    expect(problems).toEqual([expect.stringContaining("status of 422")]);
    problems.length = 0;
    await screenshot(page, "settings-autonomy");
  });

  it("shows a gap's suggestions as text and rolls its open draft PR back", async () => {
    await page.goto(`${serve.url}/#/g/${gapId}`);
    const panel = page.locator("#gap-autonomy");
    await poll(() => panel.locator(".suggestion").count()).toBe(1);
    expect(await panel.locator(".suggestion").getAttribute("data-reason")).toBe("verification_failed");
    expect(await panel.textContent()).toContain("Verification failed");
    expect(await panel.textContent()).toContain(`Model confidence 0.91: Adds hours ${XSS}`);
    expect(await panel.locator(".verify-output").textContent()).toBe(`FAIL test/forecast.test.ts ${XSS}`);
    expect(await panel.locator("img").count()).toBe(0);

    const button = page.locator("#gap-rollback");
    await button.click();
    expect(await button.textContent()).toContain("Click again");
    expect(gh.pulls(REPO)[0]!.state).toBe("open");
    await button.click();
    await poll(() => gh.pulls(REPO)[0]!.state).toBe("closed");
    // The rollback closes the PR, then deletes its branch: wait for the second call too.
    await poll(() => gh.branches(REPO).includes(BRANCH)).toBe(false);
    await poll(() => page.locator("#gap-rollback").count()).toBe(0);
    const gap = await api<{ open_draft_id: number | null; history: { action: string }[] }>(
      serve.url,
      `/api/gaps/${gapId}`,
    );
    expect(gap.open_draft_id).toBeNull();
    expect(gap.history.some((e) => e.action === "draft_rolled_back")).toBe(true);
    expect(await page.title()).not.toBe("pwned");
    expect(problems).toEqual([]);
  });
});
