/**
 * Drafting a PR from the dashboard before any repository is configured: the
 * error tells a browser user what to do in the dashboard (the settings view),
 * not to pass a CLI flag, and links there.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEATHER_REPORT } from "../draft/fixtures.js";
import { type ServeProcess, startServe } from "../helpers/serve.js";
import { launchBrowser, seed, watchForProblems } from "./browser.js";
import { blankDraftEnv } from "../helpers/env.js";

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let reportId: number;

beforeAll(async () => {
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
});

describe("drafting with no repository configured", () => {
  it("points to the settings view, not to a CLI flag", async () => {
    await page.goto(`${serve.url}/#/r/${reportId}`);
    await page.locator("#drafts").waitFor();
    await page.click("#draft-button");
    const failure = page.locator("#draft-outcome .state-error");
    await failure.waitFor();
    const text = (await failure.textContent()) ?? "";
    expect(text).toContain(`No GitHub repository is configured for server "${WEATHER_REPORT.server_name}"`);
    expect(text).toContain("In Settings");
    expect(text).not.toContain("--repo");
    expect(await page.locator("#draft-progress").textContent()).not.toContain("--repo");

    await failure.locator('a[href="#/settings"]').click();
    await page.locator("#settings-draft").waitFor();
    expect(problems).toEqual([]);
  });
});
