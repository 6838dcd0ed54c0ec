/**
 * The gap page's issue panel in Chromium: a refusal is shown as a toast with
 * its sentence; once configured, the button creates the issue on the GitHub
 * double and the page then shows the link instead of the button.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitHubDouble, type GitHubDouble } from "../doubles/index.js";
import { REPO, REPO_FILES, WEATHER_REPORT } from "../draft/fixtures.js";
import { blankDraftEnv } from "../helpers/env.js";
import { type ServeProcess, startServe } from "../helpers/serve.js";
import { api, launchBrowser, poll, seed, watchForProblems } from "./browser.js";

let serve: ServeProcess;
let gh: GitHubDouble;
let browser: Browser;
let page: Page;
let problems: string[];
let reportId: number;

beforeAll(async () => {
  gh = await startGitHubDouble();
  gh.addRepo(REPO, REPO_FILES);
  serve = await startServe({ env: blankDraftEnv() });
  [reportId] = (await seed(serve.url, [
    { ...WEATHER_REPORT, tools_available: [...WEATHER_REPORT.tools_available] },
  ])) as [number];
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchForProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await gh?.close();
});

describe("the gap page's issue button", () => {
  it("shows why it cannot, then creates the issue and shows its link", async () => {
    // serve groups in the background: wait for the report's gap.
    const gapOf = async () => (await api<{ gap_id: number | null }>(serve.url, `/api/feedback/${reportId}`)).gap_id;
    await poll(gapOf).toBeTruthy();
    const gapId = (await gapOf())!;
    await page.goto(`${serve.url}/#/g/${gapId}`);
    await page.locator("#gap-issue-create").waitFor();
    await page.click("#gap-issue-create");
    await page.getByText(`No GitHub repository is configured for server "${WEATHER_REPORT.server_name}"`).waitFor();
    expect(gh.issues.list(REPO)).toHaveLength(0);

    const put = await fetch(`${serve.url}/api/settings`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        servers: { weather: { repo: REPO } },
        secrets: { github_token: gh.token, github_api_url: gh.url },
      }),
    });
    expect(put.status).toBe(200);
    await page.click("#gap-issue-create");
    const link = page.locator("#gap-issue-link");
    await link.waitFor();
    const [issue] = gh.issues.list(REPO);
    expect(await link.getAttribute("href")).toBe(issue!.html_url);
    expect(await link.textContent()).toBe(`${REPO}#${issue!.number}`);
    expect(await page.locator("#gap-issue-create").count()).toBe(0);
    expect(problems.filter((p) => !p.includes("409"))).toEqual([]);
  });
});
