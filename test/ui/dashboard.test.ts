/**
 * The dashboard end to end: Debian's Chromium (playwright-core) against a real
 * `patchworkmcp serve` child seeded through the REST API.
 */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServe, type ServeProcess } from "../helpers/serve.js";
import { CSV_COLUMNS } from "../../src/http/routes/export.js";
import { api, launchBrowser, poll, screenshot, seed, type SeedReport, watchForProblems } from "./browser.js";

const GAPS = ["missing_tool", "incomplete_results", "missing_parameter", "wrong_format", "other"];
const SERVERS = ["github", "linear", "postgres"];
const TOOLS = ["search_code", "list_issues", "run_query"];
const RESOLUTIONS = ["blocked", "worked_around", "partial"];

/** 60 reports: 20 per server, 12 per gap type, 3 per session; one mentions "zebrafish". */
const REPORTS: SeedReport[] = Array.from({ length: 60 }, (_, i) => ({
  what_i_needed: `Capability ${i}: list the ${["invoices", "projects", "pipelines"][i % 3]} of a customer by date range`,
  what_i_tried:
    i === 13
      ? "Called search_code with the zebrafish query; it returned nothing useful."
      : `Called ${TOOLS[i % 3]} with page=2; it ignored the page.`,
  gap_type: GAPS[i % 5]!,
  server_name: SERVERS[i % 3]!,
  server_version: "1.4.2",
  tool_name: TOOLS[i % 3]!,
  suggestion: `Add a ${TOOLS[i % 3]} parameter named since.`,
  user_goal: "Prepare the monthly report.",
  resolution: RESOLUTIONS[i % 3]!,
  tools_available: [...TOOLS, "get_user"],
  agent_model: "claude-sonnet-4-5",
  session_id: `session-${i % 20}`,
  client_type: i % 2 ? "cursor" : "claude-code",
}));

let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let ids: number[];

const rowIds = async (): Promise<number[]> =>
  await page.locator("#report-list a.row").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-id"))));

/** Wait until the list shows exactly `n` rows (or the empty state for 0). */
async function expectRows(n: number): Promise<void> {
  if (n === 0) await page.locator("#results .state-empty").waitFor();
  else await poll(async () => page.locator("#report-list a.row").count()).toBe(n);
}

beforeAll(async () => {
  serve = await startServe();
  ids = await seed(serve.url, REPORTS);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
  page = await context.newPage();
  problems = watchForProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe("dashboard", () => {
  it("serves the page with a strict CSP, no inline script and immutable hashed assets", async () => {
    const res = await fetch(`${serve.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    // Every script has a src; no inline handlers.
    expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\ssrc="\/assets\/[\w-]+\.js"/.test(tag))).toBe(true);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const asset = /src="(\/assets\/app-[\w-]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${serve.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${serve.url}/assets/nope.js`)).status).toBe(404);
  });

  it("lists reports newest first with tiles", async () => {
    await page.goto(`${serve.url}/#/reports`);
    await expectRows(50);
    expect(await rowIds()).toEqual(ids.slice(-50).reverse());
    await poll(() => page.locator("#tile-total .tile-value").textContent()).toBe("60");
    expect(await page.locator("#tile-unreviewed .tile-value").textContent()).toBe("60");
    expect(await page.locator("#tile-blocked .tile-value").textContent()).toBe("20");
    expect(await page.locator("#tile-servers .tile-value").textContent()).toBe("3");
    await screenshot(page, "list-light", { fullPage: false });
  });

  it("pages with keyset cursors (Older / Newer)", async () => {
    const listRequest = page.waitForRequest((r) => r.url().includes("/api/feedback?") && r.url().includes("cursor="));
    await page.click("#page-older");
    expect(new URL((await listRequest).url()).searchParams.has("offset")).toBe(false);
    await expectRows(10);
    expect(await rowIds()).toEqual(ids.slice(0, 10).reverse());
    expect(await page.locator("#page-number").textContent()).toBe("Page 2");
    expect(await page.locator("#page-older").isDisabled()).toBe(true);
    await page.click("#page-newer");
    await expectRows(50);
    expect((await rowIds())[0]).toBe(ids[59]);
    expect(await page.locator("#page-newer").isDisabled()).toBe(true);
  });

  it("filters by server, gap type, status and dates, and searches the text", async () => {
    await page.selectOption("#filter-server_name", "github");
    await expectRows(20);
    expect(new Set(await page.locator("#report-list .row-server").allTextContents())).toEqual(new Set(["github"]));
    expect(page.url()).toContain("server_name=github");
    await poll(() => page.locator("#tile-total .tile-value").textContent()).toBe("20");

    // github is i%3==0, missing_tool is i%5==0: i in {0,15,30,45}
    await page.selectOption("#filter-gap_type", "missing_tool");
    await expectRows(4);
    await page.selectOption("#filter-status", "resolved");
    await expectRows(0);
    expect(await page.locator("#results").textContent()).toContain("No reports match these filters.");

    await page.click("#filter-reset");
    await expectRows(50);

    await page.fill("#filter-q", "zebrafish");
    await page.press("#filter-q", "Enter");
    await expectRows(1);
    expect(await rowIds()).toEqual([ids[13]]);
    await page.fill("#filter-q", "");
    await page.press("#filter-q", "Enter");
    await expectRows(50);

    // Everything was filed today (UTC): a range ending yesterday is empty, one ending today is not.
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.fill("#filter-until", yesterday);
    await expectRows(0);
    await page.fill("#filter-until", today);
    await page.fill("#filter-since", today);
    await expectRows(50);
    // Reset also shows 50 rows: wait for the old rows to go, or the next test's keys land on them.
    const old = await page.locator("#report-list a.row").first().elementHandle();
    await page.click("#filter-reset");
    await old?.waitForElementState("hidden");
    await expectRows(50);
  });

  it("opens a report card and follows its session", async () => {
    const target = ids[59]!;
    // Keyboard: j focuses the first row, Enter opens it.
    await page.locator("body").press("j");
    await page.keyboard.press("Enter");
    await page.locator("#report-card").waitFor();
    expect(page.url()).toContain(`#/r/${target}`);
    const card = page.locator("#report-card");
    expect(await card.locator("#field-needed .agent-text").textContent()).toBe(REPORTS[59]!.what_i_needed);
    expect(await card.locator("#field-tried .agent-text").textContent()).toBe(REPORTS[59]!.what_i_tried);
    expect(await card.locator("#field-suggestion .agent-text").textContent()).toBe(REPORTS[59]!.suggestion);
    expect(await card.locator("#field-goal .agent-text").textContent()).toBe(REPORTS[59]!.user_goal);
    expect(await card.locator("#tools-seen li").allTextContents()).toEqual(REPORTS[59]!.tools_available);
    const meta = await card.locator(".meta").textContent();
    expect(meta).toContain("claude-sonnet-4-5");
    expect(meta).toContain("cursor");
    await screenshot(page, "card-light");

    await page.click("#session-link");
    await expectRows(3);
    expect(page.url()).toContain("session_id=session-19");
    expect(await page.locator(".chips .chip").textContent()).toContain("session-19");
    expect((await rowIds()).sort((a, b) => a - b)).toEqual([ids[19], ids[39], ids[59]]);
  });

  it("adds notes with the keyboard and changes the status", async () => {
    const id = ids[59]!;
    await page.goto(`${serve.url}/#/r/${id}`);
    await page.locator("#report-card").waitFor();
    await page.locator("body").press("n");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("note-body");
    await page.keyboard.type("Checked with the team: add a since parameter.");
    await page.keyboard.press("Control+Enter");
    await page.locator("#notes-list .note").waitFor();
    expect(await page.locator("#notes-list .note-body").allTextContents()).toEqual([
      "Checked with the team: add a since parameter.",
    ]);
    expect(await page.locator("#note-body").inputValue()).toBe("");
    await page.fill("#note-body", "Second note");
    await page.click("#add-note");
    await poll(() => page.locator("#notes-list .note").count()).toBe(2);
    await poll(() => page.locator("#add-note").isEnabled()).toBe(true);
    const detail = await api<{ notes: { body: string; created_at: string }[] }>(serve.url, `/api/feedback/${id}`);
    expect(detail.notes.map((n) => n.body)).toEqual(["Checked with the team: add a since parameter.", "Second note"]);

    await page.selectOption("#status-select", "resolved");
    await poll(async () => (await api<{ status: string }>(serve.url, `/api/feedback/${id}`)).status).toBe("resolved");
    await poll(() => page.locator("#toggle-reviewed").textContent()).toBe("Reopen");
    // Shortcuts are ignored while a form control has focus: click outside the controls first.
    await page.locator("#report-card h1").click();
    await page.keyboard.press("r");
    await poll(async () => (await api<{ status: string }>(serve.url, `/api/feedback/${id}`)).status).toBe("open");
    await poll(() => page.locator("#toggle-reviewed").textContent()).toBe("Mark reviewed");
    await page.click("#toggle-reviewed");
    await poll(async () => (await api<{ status: string }>(serve.url, `/api/feedback/${id}`)).status).toBe("reviewed");
    await poll(() => page.locator("#report-card .badge-status").textContent()).toBe("Reviewed");

    // Esc goes back to the list we came from (the session's three reports), where the change shows.
    await page.keyboard.press("Escape");
    await page.locator("#report-list").waitFor();
    expect(page.url()).toContain("session_id=session-19");
    await poll(() => page.locator(`#report-list a.row[data-id="${id}"] .badge-status`).textContent()).toBe("Reviewed");
    await poll(() => page.locator("#tile-unreviewed .tile-value").textContent()).toBe("2");
  });

  it("exports what the filters select as CSV and JSON", async () => {
    await page.goto(`${serve.url}/#/reports?server_name=linear&resolution=worked_around`);
    // linear is i%3==1 and worked_around is i%3==1: all 20 linear reports
    await expectRows(20);
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
    expect(csv.suggestedFilename()).toMatch(/^patchworkmcp-feedback-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync((await csv.path())!, "utf8")
      .trim()
      .split("\r\n");
    // The columns derive from the field table (src/http/routes/export.ts), gap_id included.
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines[0]).toMatch(/^id,created_at,status,server_name,.*,gap_id$/);
    expect(lines).toHaveLength(21);
    expect(lines.slice(1).every((l) => l.includes('"linear"'))).toBe(true);

    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const rows = JSON.parse(readFileSync((await json.path())!, "utf8")) as { id: number; server_name: string }[];
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.server_name === "linear")).toBe(true);
    expect(rows.map((r) => r.id)).toEqual(ids.filter((_, i) => i % 3 === 1).reverse());
  });

  it("draws the overview charts and drills into a bar", async () => {
    await page.goto(`${serve.url}/#/overview`);
    await page.locator("#chart-days svg").waitFor();
    expect(await page.locator("#chart-days rect.bar").count()).toBe(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(await page.locator(`#chart-days rect.bar[data-day="${today}"] title`).textContent()).toBe(`${today}: 60`);
    expect(await page.locator("#chart-server .rank-label").allTextContents()).toEqual(["github", "linear", "postgres"]);
    expect(await page.locator("#chart-gap .rank-count").allTextContents()).toEqual(["12", "12", "12", "12", "12"]);
    expect(await page.locator("#chart-tool .rank-row").count()).toBe(3);
    await screenshot(page, "overview-light");
    await page.locator("#chart-server a.rank-row", { hasText: "postgres" }).click();
    await expectRows(20);
    expect(page.url()).toContain("server_name=postgres");
  });

  it("follows the system theme, toggles, and remembers the choice", async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.goto(`${serve.url}/#/settings`);
    await page.locator("#settings-theme").waitFor();
    await screenshot(page, "settings-light");
    const light = await background();

    await page.emulateMedia({ colorScheme: "dark" });
    await poll(background).not.toBe(light);
    const dark = await background();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();

    // Toggle to light while the system is dark; the choice survives a reload.
    await poll(() => page.locator("#theme-toggle").getAttribute("aria-label")).toBe("Switch to light theme");
    await page.click("#theme-toggle");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    expect(await background()).toBe(light);
    await page.reload();
    await page.locator("#settings-theme").waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    expect(await background()).toBe(light);
    expect(await page.locator("#theme-light").isChecked()).toBe(true);

    // Back to following the system (dark here).
    await page.check("#theme-system");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
    expect(await background()).toBe(dark);
    await screenshot(page, "settings-dark");

    await page.goto(`${serve.url}/#/reports`);
    await expectRows(50);
    await screenshot(page, "list-dark", { fullPage: false });
    await page.goto(`${serve.url}/#/r/${ids[13]}`);
    await page.locator("#report-card").waitFor();
    await screenshot(page, "card-dark");
    await page.goto(`${serve.url}/#/overview`);
    await page.locator("#chart-days svg").waitFor();
    await screenshot(page, "overview-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("fits a phone screen", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    try {
      const p = await phone.newPage();
      const phoneProblems = watchForProblems(p);
      const overflow = () => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await p.goto(`${serve.url}/#/reports`);
      await p.locator("#report-list a.row").first().waitFor();
      await p.locator("#tile-total").waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(p, "phone-list", { fullPage: false });
      await p.goto(`${serve.url}/#/r/${ids[13]}`);
      await p.locator("#report-card").waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(p, "phone-card");
      expect(phoneProblems).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it("shows on a report's card what privacy replaced before storage", async () => {
    // An ordinary report: nothing replaced.
    await page.goto(`${serve.url}/#/r/${ids[13]}`);
    await page.locator("#report-card").waitFor();
    expect(await page.locator("#redactions").textContent()).toBe("Nothing.");

    // Built here, so no real-looking token sits in the repository.
    const token = `ghp_${"Ab3".repeat(12)}`;
    const [id] = await seed(serve.url, [
      {
        ...REPORTS[0]!,
        what_i_tried: `Sent it to ana@example.com and to bo@example.com with ${token}`,
        suggestion: "Call +44 20 7946 0958 for access.",
      },
    ]);
    await page.goto(`${serve.url}/#/r/${id}`);
    await page.locator("#redactions li").first().waitFor();
    expect(await page.locator("#redactions li").allTextContents()).toEqual([
      "email ×2 in what_i_tried",
      "github ×1 in what_i_tried",
      "phone ×1 in suggestion",
    ]);
    expect(await page.locator("#field-tried .agent-text").textContent()).toBe(
      "Sent it to [email] and to [email] with [secret:github]",
    );
    expect(await page.locator("#report-card").textContent()).not.toContain(token);
    await screenshot(page, "card-redactions");
  });

  it("raised no page errors, console errors or dialogs", () => {
    expect(problems).toEqual([]);
  });
});
