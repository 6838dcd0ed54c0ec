/**
 * Draft PRs from the dashboard: secrets entered in Settings (and never shown
 * back), then the Draft PR button streaming progress from a real `serve`
 * whose GitHub and Anthropic are the loopback doubles from test/doubles.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnthropicDouble, startGitHubDouble, type GitHubDouble, type LlmDoubleBase } from "../doubles/index.js";
import { HAPPY_CHANGE_SET, REPO, REPO_FILES, WEATHER_REPORT } from "../draft/fixtures.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";
import { api, launchBrowser, poll, screenshot, seed, watchForProblems } from "./browser.js";
import { blankDraftEnv } from "../helpers/env.js";

const GH_TOKEN = "ghp_dashboardSecretToken9876";
let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let reportId: number;

interface SettingsView {
  default: { repo: string; base_branch: string | null } | null;
  llm: { provider: string | null };
  secrets: Record<string, { set: boolean; masked: string | null; source: string | null }>;
}

beforeAll(async () => {
  [gh, anthropic] = await Promise.all([
    startGitHubDouble({ tokens: [GH_TOKEN] }),
    startAnthropicDouble({ apiKey: "sk-ant-dashboard-key-5555" }),
  ]);
  gh.addRepo(REPO, REPO_FILES);
  // No draft configuration from the environment: everything comes from the Settings panel.
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
  await Promise.all([gh?.close(), anthropic?.close()]);
});

describe("draft PRs from the dashboard", () => {
  it("saves the configuration from Settings and never shows a secret back", async () => {
    await page.goto(`${serve.url}/#/settings`);
    await page.locator("#settings-draft").waitFor();
    expect(await page.locator("#set-secret-github_token-status").textContent()).toContain("Not set.");
    await page.fill("#set-default-repo", REPO);
    await page.selectOption("#set-provider", "anthropic");
    await page.fill("#set-secret-github_token", GH_TOKEN);
    await page.fill("#set-secret-github_api_url", gh.url);
    await page.fill("#set-secret-anthropic_api_key", anthropic.apiKey);
    await page.fill("#set-secret-anthropic_base_url", anthropic.url);
    await page.click("#settings-save");
    await page.locator(".toast-ok", { hasText: "Settings saved." }).waitFor();

    // The form re-renders from the server's answer: empty secret inputs, masked status.
    await poll(() => page.locator("#set-secret-github_token-status .secret-status").textContent()).toBe(
      "Saved: ••••9876",
    );
    expect(await page.locator("#set-secret-anthropic_api_key-status .secret-status").textContent()).toBe(
      "Saved: ••••5555",
    );
    expect(await page.locator("#set-secret-github_token").inputValue()).toBe("");
    expect(await page.locator("#set-default-repo").inputValue()).toBe(REPO);
    const html = await page.content();
    expect(html).not.toContain(GH_TOKEN);
    expect(html).not.toContain(anthropic.apiKey);
    const saved = await api<SettingsView>(serve.url, "/api/settings");
    expect(saved.default).toEqual({ repo: REPO, base_branch: null });
    expect(saved.llm.provider).toBe("anthropic");
    expect(saved.secrets.github_token).toMatchObject({ set: true, masked: "••••9876", source: "file" });
    await screenshot(page, "settings-draft-light");
  });

  it("shows validation problems field by field", async () => {
    await page.fill("#set-default-repo", "not a repo");
    await page.click("#settings-save");
    const errors = page.locator("#settings-errors .state-error");
    await errors.waitFor();
    expect(await errors.textContent()).toContain("owner/name");
    expect((await api<SettingsView>(serve.url, "/api/settings")).default?.repo).toBe(REPO);
    await page.fill("#set-default-repo", REPO);
    // The browser logs the 422 response itself; that one is expected.
    expect(problems).toEqual([expect.stringContaining("422")]);
    problems.length = 0;
  });

  it("saves, shows and removes per-server repositories named __proto__ and constructor", async () => {
    await page.goto(`${serve.url}/#/settings`);
    await page.locator("#settings-draft").waitFor();
    const names = [
      ["__proto__", "acme/proto"],
      ["constructor", "acme/ctor"],
    ];
    for (const [i, [name, repo]] of names.entries()) {
      await page.click("#add-server");
      await page.fill(`#set-server-${i}-name`, name!);
      await page.fill(`#set-server-${i}-repo`, repo!);
    }
    await page.click("#settings-save");
    // The previous test's "Settings saved." toast may still be on screen (the hash-only goto keeps
    // the page), so wait on what the server holds rather than on a toast.
    // JSON.parse makes "__proto__" an own key, so this reads what the server sent.
    const read = () => api<{ servers: Record<string, { repo: string }> }>(serve.url, "/api/settings");
    await poll(async () => Object.keys((await read()).servers).sort()).toEqual(["__proto__", "constructor"]);
    const saved = await read();
    expect(Object.getOwnPropertyDescriptor(saved.servers, "__proto__")?.value).toMatchObject({ repo: "acme/proto" });
    expect(saved.servers.constructor).toMatchObject({ repo: "acme/ctor" });

    // A fresh load shows both rows; removing them deletes both mappings.
    await page.reload();
    const rows = page.locator("#server-rows .server-row");
    await poll(() => rows.count()).toBe(2);
    const shown = await rows.evaluateAll((els) =>
      els.map((el) => [...el.querySelectorAll("input")].map((i) => (i as HTMLInputElement).value)),
    );
    expect(shown.map((r) => r.slice(0, 2)).sort()).toEqual([
      ["__proto__", "acme/proto"],
      ["constructor", "acme/ctor"],
    ]);
    for (let n = 0; n < 2; n++) await rows.first().getByRole("button", { name: "Remove this server" }).click();
    await page.click("#settings-save");
    await poll(async () => Object.keys((await api<{ servers: object }>(serve.url, "/api/settings")).servers)).toEqual(
      [],
    );
    expect(problems).toEqual([]);
  });

  it("drafts a PR with live progress, links it, and records it in the history", async () => {
    // The model "thinks" long enough for the progress view to be seen mid-run.
    anthropic.latencyMs = 1500;
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    await page.goto(`${serve.url}/#/r/${reportId}`);
    await page.locator("#drafts").waitFor();
    expect(await page.locator("#draft-button").textContent()).toBe("Draft PR");
    await page.click("#draft-button");
    await poll(() => page.locator("#draft-status").textContent()).toContain("Ask the model");
    expect(await page.locator("#draft-button").isDisabled()).toBe(true);
    expect(await page.locator("#draft-progress li").count()).toBeGreaterThanOrEqual(5);
    await screenshot(page, "draft-progress-light");

    const link = page.locator("#draft-pr-link");
    await link.waitFor();
    const pulls = gh.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.draft).toBe(true);
    expect(await link.getAttribute("href")).toBe(pulls[0]!.html_url);
    expect(await page.locator("#draft-status").textContent()).toBe("Done.");
    const meter = await page
      .locator("#draft-meter")
      .evaluate((el) => [(el as HTMLProgressElement).value, (el as HTMLProgressElement).max]);
    expect(meter[0]).toBe(meter[1]);
    const log = await page.locator("#draft-progress li").allTextContents();
    expect(log[log.length - 1]).toBe("Draft PR opened.");
    expect(await page.locator("#draft-history .draft").count()).toBe(1);
    expect(await page.locator("#draft-history .draft-link").getAttribute("href")).toBe(pulls[0]!.html_url);
    expect(await page.locator("#draft-button").textContent()).toBe("Re-draft");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "draft-done-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("re-drafts as a dry run showing the diff, and shows a model refusal as an error", async () => {
    anthropic.latencyMs = 0;
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    await page.check("#draft-dry-run");
    await page.click("#draft-button");
    const diff = page.locator("#draft-diff");
    await diff.waitFor();
    expect(await diff.textContent()).toContain("+# Hourly forecasts");
    expect(await page.locator("#draft-status").textContent()).toBe("Dry run done.");
    expect(gh.pulls(REPO)).toHaveLength(1);
    expect(await page.locator("#draft-history .draft").count()).toBe(1);

    anthropic.enqueue({ refusal: "I can't help with that." });
    await page.uncheck("#draft-dry-run");
    await page.click("#draft-button");
    const failure = page.locator("#draft-outcome .state-error");
    await failure.waitFor();
    expect(await failure.textContent()).toContain("Drafting failed");
    expect(await page.locator("#draft-progress .progress-error").count()).toBe(1);
    expect(gh.pulls(REPO)).toHaveLength(1);
  });

  it("stops watching a run on request, and the history survives a reload", async () => {
    anthropic.latencyMs = 5000;
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    await page.click("#draft-button");
    await poll(() => page.locator("#draft-status").textContent()).toContain("Ask the model");
    await page.click("#draft-stop");
    await poll(() => page.locator("#draft-status").textContent()).toBe("Stopped.");
    expect(await page.locator("#draft-button").isEnabled()).toBe(true);
    anthropic.latencyMs = 0;

    await page.reload();
    await page.locator("#draft-history .draft").first().waitFor();
    expect(await page.locator("#draft-history .draft").count()).toBe(1);
    const detail = await api<{ drafts: { url: string }[] }>(serve.url, `/api/feedback/${reportId}`);
    expect(detail.drafts.map((d) => d.url)).toEqual([gh.pulls(REPO)[0]!.html_url]);
    expect(gh.pulls(REPO)).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});
