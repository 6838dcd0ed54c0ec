/**
 * The gap views end to end: Debian's Chromium against a real `serve` child
 * whose SQLite file holds reports from nine days ago (stored in-process with
 * a faked clock before the server starts) and reports posted through the
 * REST API now. Every action is checked through REST afterwards.
 */
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseFeedback } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import { startAnthropicDouble, startGitHubDouble, userText } from "../doubles/index.js";
import { HAPPY_CHANGE_SET, REPO, REPO_FILES } from "../draft/fixtures.js";
import { startServe, tempDir, type ServeProcess } from "../helpers/serve.js";
import { gapIdOf } from "../helpers/gaps.js";
import {
  api,
  launchBrowser,
  poll,
  SCREENSHOTS,
  screenshot,
  seed,
  type SeedReport,
  watchForProblems,
} from "./browser.js";
import { blankDraftEnv } from "../helpers/env.js";

interface GapJson {
  id: number;
  title: string;
  status: string;
  fixed_in: string | null;
  agent_note: string | null;
  duplicate_of: number | null;
  reports: number;
  sessions: number;
  score: number;
  score_explain: string;
}
interface ReportJson {
  id: number;
  gap_id: number;
}

// Five needs: the text differs only in numbers, so each template is one gap.
const invoices = (i: number): SeedReport => ({
  server_name: "billing",
  tool_name: "list_invoices",
  gap_type: "missing_parameter",
  what_i_needed: `Filter invoices by a date range for run ${7000 + i}`,
  what_i_tried: `Called list_invoices with page=${i}; it has no from/to parameters`,
  suggestion: "Add from and to parameters to list_invoices",
  resolution: i < 4 ? "blocked" : "worked_around",
  session_id: `inv-${i}`,
  client_type: "claude-code",
  agent_model: "claude-sonnet-4-5",
});
const exportCsv = (i: number): SeedReport => ({
  server_name: "billing",
  tool_name: "export_customers",
  gap_type: "wrong_format",
  what_i_needed: `Customer export as a CSV spreadsheet file, batch ${i}`,
  what_i_tried: "export_customers only returns nested JSON",
  suggestion: "Add format=csv to export_customers",
  resolution: i === 0 ? "blocked" : "partial",
  session_id: `csv-${Math.min(i, 3)}`, // two reports share a session
  client_type: "claude-code",
  agent_model: "claude-sonnet-4-5",
});
const forecast = (i: number): SeedReport => ({
  server_name: "weather",
  tool_name: "get_forecast",
  gap_type: "missing_parameter",
  what_i_needed: `Hourly forecast for the next ${12 + i} hours`,
  what_i_tried: "get_forecast only returns daily values",
  suggestion: "Add an hourly flag to get_forecast",
  resolution: "worked_around",
  session_id: `fc-${i}`,
  client_type: "claude-code",
  agent_model: "claude-sonnet-4-5",
});
const alerts = (i: number): SeedReport => ({
  server_name: "weather",
  gap_type: "missing_tool",
  what_i_needed: `A tool to list severe weather alerts for region ${i}`,
  what_i_tried: "Looked through the tool list; nothing about alerts",
  resolution: "blocked",
  session_id: `al-${i}`,
  client_type: i ? "cursor" : "claude-code",
  agent_model: i ? "gpt-5" : "claude-sonnet-4-5",
});
const refund: SeedReport = {
  server_name: "billing",
  tool_name: "list_invoices",
  gap_type: "missing_tool",
  what_i_needed: "Refund part of an invoice",
  what_i_tried: "There is no refund tool",
  resolution: "blocked",
  session_id: "ref-0",
};

let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
/** Gap ids by need. */
const gap = { invoices: 0, csv: 0, forecast: 0, alerts: 0, refund: 0 };
let forecastReport = 0;
let invoiceReports: number[] = [];

const getGap = (id: number) => api<GapJson>(serve.url, `/api/gaps/${id}`);
// serve groups reports on its worker thread, moments after storing them.
const gapOf = (reportId: number) => gapIdOf(serve.url, reportId);
const rowIds = () =>
  page.locator("#gap-list li.gap-row").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-id"))));
/** A request the test made fail on purpose logs one console error; take exactly that one off the problem list. */
function expectFailedLoad(status: number): void {
  const at = problems.findIndex((p) => p.includes(`Failed to load resource`) && p.includes(`status of ${status}`));
  expect(at, `a console error for the expected ${status}`).toBeGreaterThanOrEqual(0);
  problems.splice(at, 1);
}
const apiOrder = async (query = "") =>
  (await api<{ items: GapJson[] }>(serve.url, `/api/gaps${query}`)).items.map((g) => g.id);

beforeAll(async () => {
  const dbPath = join(tempDir("pwm-gaps-ui-"), "feedback.db");
  // Last week: five forecast reports and two CSV ones, stored nine days ago.
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 9 * 86_400_000 });
  const store = FeedbackStore.open(dbPath);
  try {
    for (const report of [0, 1, 2, 3, 4].map(forecast).concat([0, 1].map(exportCsv))) {
      const parsed = parseFeedback(report);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      store.insertReport(parsed.payload);
    }
  } finally {
    store.close();
    vi.useRealTimers();
  }
  // No draft configuration from the environment: the draft tests configure it through the API.
  serve = await startServe({ dbPath, env: blankDraftEnv() });
  // This week: invoices ×7, CSV ×3, forecast ×1, alerts ×2, refund ×1 (in that order).
  invoiceReports = await seed(
    serve.url,
    Array.from({ length: 7 }, (_, i) => invoices(i)),
  );
  await seed(serve.url, [2, 3, 4].map(exportCsv));
  [forecastReport] = (await seed(serve.url, [forecast(5)])) as [number];
  const alertIds = await seed(serve.url, [alerts(0), alerts(1)]);
  const [refundId] = (await seed(serve.url, [refund])) as [number];
  gap.invoices = await gapOf(invoiceReports[0]!);
  gap.csv = await gapOf(
    (
      await api<{ items: ReportJson[] }>(
        serve.url,
        "/api/feedback?server_name=billing&tool_name=export_customers&limit=1",
      )
    ).items[0]!.id,
  );
  gap.forecast = await gapOf(forecastReport);
  gap.alerts = await gapOf(alertIds[0]!);
  gap.refund = await gapOf(refundId!);
  expect(new Set(Object.values(gap)).size).toBe(5);

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  page = await context.newPage();
  problems = watchForProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe("gaps in the dashboard", () => {
  it("makes Gaps the home view, ranked by score with the right counts", async () => {
    await page.goto(`${serve.url}/`);
    await poll(() => page.locator("#gap-list li.gap-row").count()).toBe(5);
    expect(await page.locator('#nav a[aria-current="page"]').textContent()).toBe("Gaps");
    expect(await rowIds()).toEqual(await apiOrder());
    const row = page.locator(`#gap-list li.gap-row[data-id="${gap.invoices}"]`);
    expect(await row.locator(".gap-title").textContent()).toMatch(/^Filter invoices by a date range for run 70\d\d$/);
    expect(await row.locator(".row-server").textContent()).toBe("billing");
    expect(await row.locator(".gap-tool").textContent()).toBe("list_invoices");
    expect(await row.locator(".gap-reports .cell-value").textContent()).toBe("7");
    expect(await row.locator(".gap-sessions .cell-value").textContent()).toBe("7");
    expect(await row.locator(".gap-blocked .cell-value").textContent()).toBe("57%"); // 4 of 7
    expect(await row.locator(".gap-status").textContent()).toBe("Open");
    expect(await row.locator(".gap-seen time").count()).toBe(2);
    const csv = page.locator(`#gap-list li.gap-row[data-id="${gap.csv}"]`);
    expect(await csv.locator(".gap-reports .cell-value").textContent()).toBe("5");
    expect(await csv.locator(".gap-sessions .cell-value").textContent()).toBe("4");
    // Sparklines cover 30 days: the forecast gap's reports from nine days ago count too.
    await poll(() => page.locator(`[data-spark="${gap.forecast}"] svg`).getAttribute("data-total")).toBe("6");
    expect(await page.locator(`[data-spark="${gap.invoices}"] svg`).getAttribute("data-total")).toBe("7");
    expect(await page.locator(`[data-spark="${gap.forecast}"] svg rect.bar`).count()).toBe(2); // two days with reports
    await screenshot(page, "gaps-light", { fullPage: false });
  });

  it("shows the score's formula as a tooltip and an accessible popover", async () => {
    const explain = (await getGap(gap.invoices)).score_explain;
    expect(explain).toMatch(/^score [\d.]+ = 7 sessions/);
    const button = page.locator(`#gap-list li.gap-row[data-id="${gap.invoices}"] button.score`);
    expect(await button.getAttribute("title")).toBe(explain);
    const popId = (await button.getAttribute("aria-describedby"))!;
    const popover = page.locator(`[id="${popId}"]`);
    expect(await popover.isVisible()).toBe(false);
    await button.click();
    await poll(() => popover.isVisible()).toBe(true);
    expect(await popover.locator(".score-formula").textContent()).toBe(explain);
    await screenshot(page, "gaps-score-popover-light", { fullPage: false });
    await page.keyboard.press("Escape");
    await poll(() => popover.isVisible()).toBe(false);
  });

  it("filters and sorts the list through the address", async () => {
    await page.selectOption("#gap-filter-server_name", "weather");
    await poll(rowIds).toEqual(await apiOrder("?server_name=weather"));
    expect(new Set(await rowIds())).toEqual(new Set([gap.forecast, gap.alerts]));
    expect(page.url()).toContain("server_name=weather");
    await page.selectOption("#gap-filter-tool_name", "get_forecast");
    await poll(rowIds).toEqual([gap.forecast]);
    await page.click("#gap-filter-reset");
    await poll(() => page.locator("#gap-list li.gap-row").count()).toBe(5);

    const byScore = await apiOrder();
    const byReports = await apiOrder("?sort=reports");
    const bySeen = await apiOrder("?sort=last_seen");
    expect(byReports).not.toEqual(byScore);
    await page.selectOption("#gap-sort", "reports");
    await poll(rowIds).toEqual(byReports);
    expect(page.url()).toContain("sort=reports");
    await page.selectOption("#gap-sort", "last_seen");
    await poll(rowIds).toEqual(bySeen);
    expect(bySeen[0]).toBe(gap.refund); // posted last
    await page.selectOption("#gap-sort", "score");
    await poll(rowIds).toEqual(byScore);

    await page.fill("#gap-filter-q", "invoices");
    await page.press("#gap-filter-q", "Enter");
    await poll(rowIds).toEqual([gap.invoices]);
    await page.fill("#gap-filter-q", "");
    await page.press("#gap-filter-q", "Enter");
    await page.selectOption("#gap-filter-status", "planned");
    await page.locator("#gap-results .state-empty").waitFor();
    expect(await page.locator("#gap-results").textContent()).toContain("No gaps match these filters.");
    await page.click("#gap-filter-reset");
    await poll(() => page.locator("#gap-list li.gap-row").count()).toBe(5);
  });

  it("opens a gap page with its reports, suggestions, timeline and history", async () => {
    await page.click(`#gap-list li.gap-row[data-id="${gap.invoices}"] a.gap-title`);
    await page.locator(`#gap-page[data-id="${gap.invoices}"]`).waitFor();
    expect(page.url()).toContain(`#/g/${gap.invoices}`);
    const detail = await getGap(gap.invoices);
    expect(await page.locator("#gap-title").textContent()).toBe(detail.title);
    expect(await page.locator("#gap-page button.score").getAttribute("title")).toBe(detail.score_explain);
    expect(await page.locator("#gap-tile-reports .tile-value").textContent()).toBe("7");
    expect(await page.locator("#gap-tile-sessions .tile-value").textContent()).toBe("7");
    expect(await page.locator("#gap-tile-blocked .tile-value").textContent()).toBe("57% (4)");
    expect(
      await page
        .locator("#gap-report-list li.gap-report")
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-id")))),
    ).toEqual([...invoiceReports].reverse());
    expect(await page.locator("#gap-suggestion-list li").first().textContent()).toBe(
      "Add from and to parameters to list_invoices× 7",
    );
    expect(await page.locator("#gap-timeline rect.bar").count()).toBe(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(await page.locator(`#gap-timeline rect.bar[data-day="${today}"] title`).textContent()).toBe(`${today}: 7`);
    expect(await page.locator("#gap-history-list li").count()).toBeGreaterThan(0);
    expect(await page.locator('#gap-history-list li[data-action="created"]').count()).toBe(1);
    expect(await page.locator("#gap-tools").textContent()).toContain("list_invoices");
    expect(await page.locator("#gap-analysis").count()).toBe(0); // no analysis on this server yet
    await screenshot(page, "gap-light");
  });

  it("sets status and fixed_in, then writes and clears the agent note", async () => {
    await page.selectOption("#gap-status", "fixed");
    await page.fill("#gap-fixed-in", "1.5.0");
    await page.click("#gap-status-save");
    await page.locator(".toast-ok", { hasText: `Gap #${gap.invoices} is now fixed, fixed in 1.5.0.` }).waitFor();
    const fixed = await getGap(gap.invoices);
    expect([fixed.status, fixed.fixed_in]).toEqual(["fixed", "1.5.0"]);
    await poll(() => page.locator("#gap-page .badge-gap-status-fixed").count()).toBe(1);
    await poll(() => page.locator('#gap-history-list li[data-action="updated"]').count()).toBe(1);
    expect(await page.locator('#gap-history-list li[data-action="updated"] .history-text').textContent()).toContain(
      'status to "fixed"',
    );

    const noteText = "Use list_invoices with page until 1.5.0 ships the date range.";
    await page.fill("#gap-agent-note", noteText);
    await page.click("#gap-note-save");
    await page.locator(".toast-ok", { hasText: "Agent note saved." }).waitFor();
    expect((await getGap(gap.invoices)).agent_note).toBe(noteText);
    await poll(() => page.locator("#gap-agent-note").inputValue()).toBe(noteText);
    await page.click("#gap-note-clear");
    await page.locator(".toast-ok", { hasText: "Agent note cleared." }).waitFor();
    expect((await getGap(gap.invoices)).agent_note).toBeNull();

    // Back to open for the rest of the file.
    await page.selectOption("#gap-status", "open");
    await page.fill("#gap-fixed-in", "");
    await page.click("#gap-status-save");
    await page.locator(".toast-ok", { hasText: `Gap #${gap.invoices} is now open.` }).waitFor();
    expect((await getGap(gap.invoices)).fixed_in).toBeNull();
  });

  it("merges a gap into another on its server", async () => {
    await page.goto(`${serve.url}/#/g/${gap.refund}`);
    await page.locator(`#gap-page[data-id="${gap.refund}"]`).waitFor();
    // The picker offers the other billing gaps only.
    await poll(() => page.locator("#gap-others option").count()).toBe(2);
    expect(
      await page
        .locator("#gap-others option")
        .evaluateAll((o) => o.map((x) => Number((x as HTMLOptionElement).value)).sort()),
    ).toEqual([gap.invoices, gap.csv].sort());
    await page.fill("#gap-merge-into", String(gap.invoices));
    await page.click("#gap-merge");
    await page.locator(`#gap-page[data-id="${gap.invoices}"]`).waitFor();
    const source = await getGap(gap.refund);
    expect([source.status, source.duplicate_of]).toEqual(["duplicate", gap.invoices]);
    expect((await getGap(gap.invoices)).reports).toBe(8);
    await poll(() => page.locator("#gap-tile-reports .tile-value").textContent()).toBe("8");
    expect(await page.locator('#gap-history-list li[data-action="merged_from"]').count()).toBe(1);

    // A merge across servers is refused with the server's sentence.
    await page.fill("#gap-merge-into", String(gap.forecast));
    await page.click("#gap-merge");
    await page.locator(".toast-error").waitFor();
    expect(await page.locator(".toast-error").last().textContent()).toMatch(/different servers cannot be merged/);
    expect((await getGap(gap.invoices)).status).toBe("open");
    expectFailedLoad(400);
  });

  it("splits selected reports into a new gap and moves one back", async () => {
    const [a, b] = [invoiceReports[5]!, invoiceReports[6]!];
    await page.check(`#gap-report-list li[data-id="${a}"] input.report-select`);
    await page.check(`#gap-report-list li[data-id="${b}"] input.report-select`);
    expect(await page.locator("#gap-selection").textContent()).toBe("2 selected");
    await page.click("#gap-split");
    await poll(() => page.url()).not.toContain(`#/g/${gap.invoices}`);
    const newId = Number(/#\/g\/(\d+)/.exec(page.url())?.[1]);
    await page.locator(`#gap-page[data-id="${newId}"]`).waitFor();
    expect([await gapOf(a), await gapOf(b)]).toEqual([newId, newId]);
    expect((await getGap(newId)).reports).toBe(2);
    expect((await getGap(gap.invoices)).reports).toBe(6);
    expect(await page.locator("#gap-report-list li.gap-report").count()).toBe(2);
    expect(await page.locator('#gap-history-list li[data-action="split_from"]').count()).toBe(1);

    // Move one of them back.
    await page.check(`#gap-report-list li[data-id="${a}"] input.report-select`);
    await page.fill("#gap-move-to", String(gap.invoices));
    await page.click("#gap-move");
    await page.locator(".toast-ok", { hasText: `1 report moved to gap #${gap.invoices}.` }).waitFor();
    expect(await gapOf(a)).toBe(gap.invoices);
    expect(await gapOf(b)).toBe(newId);
    await poll(() => page.locator("#gap-report-list li.gap-report").count()).toBe(1);
    await poll(() => page.locator('#gap-history-list li[data-action="report_moved_out"]').count()).toBe(1);
  });

  it("drafts from a gap: with no repository configured, Draft PR says which settings to fill in", async () => {
    await page.goto(`${serve.url}/#/g/${gap.invoices}`);
    await page.locator(`#gap-page[data-id="${gap.invoices}"]`).waitFor();
    expect(await page.locator("#draft-button").textContent()).toBe("Draft PR");
    await page.click("#draft-button");
    const failure = page.locator("#draft-outcome .state-error");
    await failure.waitFor();
    expect(await failure.textContent()).toContain('No GitHub repository is configured for server "billing"');
    expect(await failure.locator('a[href="#/settings"]').count()).toBe(1);
    expect(await page.locator("#draft-status").textContent()).toBe("Failed.");
    // The server drafts from gaps: the button stays, and there is no "cannot draft from a gap" note.
    expect(await page.locator("#draft-button").isVisible()).toBe(true);
    expect(await page.locator("#draft-unavailable").isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it("drafts from a gap as a dry run: live progress, then the diff, nothing pushed", async () => {
    const ghToken = "ghp_gapPageSecretToken4321";
    const [gh, anthropic] = await Promise.all([
      startGitHubDouble({ tokens: [ghToken] }),
      startAnthropicDouble({ apiKey: "sk-ant-gap-page-key-7777" }),
    ]);
    const putSettings = async (body: unknown) => {
      const res = await fetch(`${serve.url}/api/settings`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.text()).toBe(200);
    };
    try {
      gh.addRepo(REPO, REPO_FILES);
      await putSettings({
        servers: { weather: { repo: REPO, base_branch: "main" } },
        llm: { provider: "anthropic" },
        secrets: {
          github_token: ghToken,
          github_api_url: gh.url,
          anthropic_api_key: anthropic.apiKey,
          anthropic_base_url: anthropic.url,
        },
      });
      // The model "thinks" long enough for the progress view to be seen mid-run.
      anthropic.latencyMs = 1500;
      anthropic.enqueue({ json: HAPPY_CHANGE_SET });
      await page.goto(`${serve.url}/#/g/${gap.forecast}`);
      await page.locator(`#gap-page[data-id="${gap.forecast}"]`).waitFor();
      await page.check("#draft-dry-run");
      await page.click("#draft-button");
      await poll(() => page.locator("#draft-status").textContent()).toContain("Ask the model");
      expect(await page.locator("#draft-button").isDisabled()).toBe(true);

      const diff = page.locator("#draft-diff");
      await diff.waitFor();
      expect(await diff.textContent()).toContain("+# Hourly forecasts");
      expect(await page.locator("#draft-status").textContent()).toBe("Dry run done.");
      const log = await page.locator("#draft-progress li").allTextContents();
      expect(log.length).toBeGreaterThanOrEqual(5);
      expect(log.at(-1)).toBe("Dry run complete.");
      // The model was given the gap's reports as evidence; a dry run pushes nothing and records no draft.
      expect(anthropic.requests).toHaveLength(1);
      expect(userText(anthropic.requests[0]!)).toContain("Hourly forecast for the next");
      expect(gh.pulls(REPO)).toHaveLength(0);
      expect(await page.locator("#draft-history .draft").count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await putSettings({
        servers: {},
        secrets: { github_token: null, github_api_url: null, anthropic_api_key: null, anthropic_base_url: null },
      });
      await Promise.all([gh.close(), anthropic.close()]);
    }
  });

  it("links a report card to its gap", async () => {
    await page.goto(`${serve.url}/#/r/${forecastReport}`);
    await page.locator("#report-card").waitFor();
    const link = page.locator("#report-gap-link");
    const title = (await getGap(gap.forecast)).title;
    await poll(() => link.textContent()).toBe(`Gap #${gap.forecast}: ${title}`);
    await link.click();
    await page.locator(`#gap-page[data-id="${gap.forecast}"]`).waitFor();
  });

  it("shows new reports without a reload, on the gap page and in the list", async () => {
    await page.evaluate(() => {
      (window as unknown as { __stayed: boolean }).__stayed = true;
    });
    await seed(serve.url, [forecast(6)]);
    await poll(() => page.locator("#gap-tile-reports .tile-value").textContent()).toBe("7");
    expect(await page.locator("#gap-report-list li.gap-report").count()).toBe(7);

    await page.click("#back-to-gaps");
    await page.locator("#gap-list").waitFor();
    const before = await page.locator("#gap-list li.gap-row").count();
    await seed(serve.url, [
      alerts(2),
      { ...refund, what_i_needed: "Void a whole invoice", what_i_tried: "No void tool" },
    ]);
    await poll(() => page.locator("#gap-list li.gap-row").count()).toBe(before + 1);
    await poll(() =>
      page.locator(`#gap-list li.gap-row[data-id="${gap.alerts}"] .gap-reports .cell-value`).textContent(),
    ).toBe("3");
    expect(await page.locator(`#gap-list li.gap-row[data-id="${gap.alerts}"]`).getAttribute("class")).toContain(
      "gap-row-new",
    );
    expect(await page.evaluate(() => (window as unknown as { __stayed?: boolean }).__stayed)).toBe(true);
  });

  it("breaks gaps down by server and tool, and compares this week with last", async () => {
    await page.goto(`${serve.url}/#/overview`);
    await page.locator("#gap-breakdown").waitFor();
    const server = (name: string) => page.locator(`#gap-breakdown li.bd-server[data-server="${name}"]`);
    expect(
      await server("billing")
        .locator("li.bd-tool")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-tool"))),
    ).toEqual(expect.arrayContaining(["list_invoices", "export_customers"]));
    // weather: the forecast gap under its tool; the alerts gap (no tool named) directly under the server.
    const weather = server("weather");
    expect(
      await weather.locator("li.bd-tool").evaluateAll((els) => els.map((e) => e.getAttribute("data-tool"))),
    ).toEqual(["get_forecast"]);
    expect(await weather.locator(`.bd-direct li[data-gap-id="${gap.alerts}"]`).count()).toBe(1);
    expect(
      await weather
        .locator(".bd-tool li.bd-gap")
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-gap-id")))),
    ).toEqual([gap.forecast]);
    expect(await page.locator("#gap-overview").textContent()).not.toContain("(none)");
    expect(await page.locator("#chart-tool .rank-label").allTextContents()).not.toContain("(none)");
    expect(await page.locator("#chart-tool h2").textContent()).toMatch(/named none/);

    // This week: invoices lead (new: nothing last week); forecast fell from first.
    const now = (id: number) => page.locator(`#trend-now li[data-gap-id="${id}"]`);
    expect(await page.locator("#trend-now li").first().getAttribute("data-gap-id")).toBe(String(gap.invoices));
    expect(await now(gap.invoices).locator(".trend-move").textContent()).toBe("new");
    expect(await now(gap.forecast).locator(".trend-move").textContent()).toMatch(/^▼ \d/);
    expect(await now(gap.csv).locator(".trend-move").textContent()).not.toBe("new");
    expect(
      await page
        .locator("#trend-before li")
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-gap-id")))),
    ).toEqual([gap.forecast, gap.csv]);
    expect(await page.locator(`#trend-before li[data-gap-id="${gap.forecast}"] .rank-count`).textContent()).toBe("5");
    await screenshot(page, "overview-gaps-light");
  });

  it("fits light and dark, desktop and phone (screenshots of every gap view)", async () => {
    const overflow = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    for (const scheme of ["light", "dark"] as const) {
      for (const device of ["desktop", "phone"] as const) {
        const ctx = await browser.newContext({
          colorScheme: scheme,
          ...(device === "phone"
            ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
            : { viewport: { width: 1280, height: 800 } }),
        });
        try {
          const p = await ctx.newPage();
          const pageProblems = watchForProblems(p);
          await p.goto(`${serve.url}/`);
          await p.locator(`[data-spark="${gap.invoices}"] svg`).waitFor();
          expect(await overflow(p)).toBeLessThanOrEqual(0);
          await screenshot(p, `gaps-${device}-${scheme}`, { fullPage: device === "phone" });
          await p.goto(`${serve.url}/#/g/${gap.invoices}`);
          await p.locator("#gap-page").waitFor();
          expect(await overflow(p)).toBeLessThanOrEqual(0);
          await screenshot(p, `gap-${device}-${scheme}`);
          if (device === "phone") await screenshot(p, `gap-${device}-${scheme}-top`, { fullPage: false });
          await p.goto(`${serve.url}/#/overview`);
          await p.locator("#gap-breakdown").waitFor();
          expect(await overflow(p)).toBeLessThanOrEqual(0);
          await screenshot(p, `overview-${device}-${scheme}`);
          if (device === "phone") {
            await p.locator("#gap-trend").scrollIntoViewIfNeeded();
            await p.screenshot({ path: join(SCREENSHOTS, `overview-${device}-${scheme}-gaps.png`) });
          }
          expect(pageProblems).toEqual([]);
        } finally {
          await ctx.close();
        }
      }
    }
  });

  it("raised no page errors, console errors or dialogs", () => {
    expect(problems).toEqual([]);
  });
});
