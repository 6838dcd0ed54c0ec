/**
 * The Tools views in Chromium against a real serve: calls posted through POST /api/calls,
 * one report filed from a session that had an error; the list's table (busiest tool first,
 * error %), the silent-failure count and coverage, a tool's view with its silent session and
 * a link to the gap that names it — and a tool name with markup shown as text.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CallEventInput } from "../../src/analytics/index.js";
import { type ServeProcess, startServe } from "../helpers/serve.js";
import { api, launchBrowser, poll, screenshot, seed, watchForProblems } from "./browser.js";

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];

const MARKUP_TOOL = '<img src=x onerror="window.__owned=1">';

function call(over: Partial<CallEventInput> & { tool_name: string; session_id: string }): CallEventInput {
  return {
    server_name: "weather",
    started_at: new Date(Date.now() - 10 * 60_000).toISOString(),
    duration_ms: 40,
    outcome: "ok",
    client_name: "claude-code",
    protocol_version: "2025-06-18",
    request_bytes: 50,
    response_bytes: 500,
    ...over,
  };
}

beforeAll(async () => {
  serve = await startServe();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchForProblems(page);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

it("shows calls, error %, silent failures and the gaps that name a tool", async () => {
  // Session s-reported fails and files a report; s-silent fails and says nothing; s-fine never fails.
  await seed(serve.url, [
    {
      what_i_needed: "a forecast for more than 3 days",
      what_i_tried: "forecast with days=7 was rejected",
      gap_type: "missing_parameter",
      server_name: "weather",
      tool_name: "forecast",
      session_id: "s-reported",
    },
  ]);
  const calls: CallEventInput[] = [
    call({ tool_name: "forecast", session_id: "s-reported", outcome: "error", error_code: -32602, duration_ms: 5 }),
    call({ tool_name: "forecast", session_id: "s-reported", duration_ms: 30 }),
    call({ tool_name: "forecast", session_id: "s-silent", outcome: "tool_error", duration_ms: 80 }),
    call({ tool_name: "forecast", session_id: "s-silent", duration_ms: 35 }),
    call({ tool_name: "forecast", session_id: "s-fine", duration_ms: 45 }),
    call({ tool_name: "forecast", session_id: "s-fine", duration_ms: 50, client_name: "cursor" }),
    call({ tool_name: "radar", session_id: "s-fine", duration_ms: 900 }),
    call({ tool_name: "radar", session_id: "s-fine", duration_ms: 1100 }),
    call({ tool_name: MARKUP_TOOL, session_id: "s-fine" }),
    call({ tool_name: "invoices", session_id: "b-1", server_name: "billing" }),
  ];
  const res = await fetch(`${serve.url}/api/calls`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ calls }),
  });
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ accepted: { calls: calls.length, rollups: 0 } });
  // The report joins its gap in the background.
  let gapId = 0;
  await poll(async () => {
    const gaps = await api<{ items: { id: number; tool_name: string | null }[] }>(
      serve.url,
      "/api/gaps?server_name=weather",
    );
    gapId = gaps.items.find((g) => g.tool_name === "forecast")?.id ?? 0;
    return gapId;
  }).toBeGreaterThan(0);

  await page.goto(`${serve.url}/#/tools`);
  const weather = page.locator('section.tools-server[data-server="weather"]');
  await weather.waitFor();
  expect(await page.locator("section.tools-server h2").allTextContents()).toEqual(["weather", "billing"]);
  // Busiest tool first.
  const rows = weather.locator("tbody tr");
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-tool")))).toEqual([
    "forecast",
    "radar",
    MARKUP_TOOL,
  ]);
  const forecast = weather.locator('tr[data-tool="forecast"]');
  expect(await forecast.locator("td.calls").textContent()).toBe("6");
  expect(await forecast.locator("td.errors").textContent()).toBe("2");
  expect(await forecast.locator("td.error-rate").textContent()).toBe("33.3%");
  expect(await weather.locator('tr[data-tool="radar"] td.error-rate').textContent()).toBe("0.0%");
  expect(await weather.locator('tr[data-tool="radar"] td.p95').textContent()).toMatch(/^1(\.\d)? s$/);
  // Agent-chosen names are text, never markup.
  expect(await weather.locator(`tr[data-tool="${MARKUP_TOOL.replaceAll('"', '\\"')}"] a`).textContent()).toBe(
    MARKUP_TOOL,
  );
  expect(await page.locator("main img").count()).toBe(0);

  expect(await page.locator("#tools-calls .tile-value").textContent()).toBe("10");
  expect(await page.locator("#tools-errors .tile-value").textContent()).toBe("20.0%");
  expect(await page.locator("#tools-error-sessions .tile-value").textContent()).toBe("2");
  expect(await page.locator("#tools-silent .tile-value").textContent()).toBe("1");
  expect(await page.locator("#tools-coverage .tile-value").textContent()).toBe("50.0%");
  expect(await page.locator('#nav a[data-view="tools"]').getAttribute("aria-current")).toBe("page");
  await screenshot(page, "tools");

  // One server: the select narrows the list.
  await page.selectOption("#tools-server", "billing");
  await poll(() => page.locator("section.tools-server h2").allTextContents()).toEqual(["billing"]);
  expect(page.url()).toContain("server_name=billing");
  await page.selectOption("#tools-server", "");
  await weather.waitFor();

  // A tool's own view.
  await forecast.locator("a.tool-link").click();
  await page.locator("#tool-silent-failures").waitFor();
  expect(await page.locator("#tool-title").textContent()).toBe("forecast");
  expect(await page.locator("#tool-calls .tile-value").textContent()).toBe("6");
  expect(await page.locator("#tool-errors .tile-value").textContent()).toBe("33.3%");
  expect(await page.locator("#tool-silent .tile-value").textContent()).toBe("1");
  expect(await page.locator("#tool-silent-summary").textContent()).toBe(
    "1 of 2 sessions where this tool failed filed no report (feedback coverage 50.0%).",
  );
  expect(
    await page.locator("#tool-silent-failures tbody tr").evaluateAll((trs) => trs.map((t) => t.dataset.session)),
  ).toEqual(["s-silent"]);
  expect(await page.locator("#tool-clients tbody tr").evaluateAll((trs) => trs.map((t) => t.dataset.client))).toEqual([
    "claude-code",
    "cursor",
  ]);
  // The trend: one bar per hour of the last 7 days, this hour's holding the six calls.
  const bars = page.locator("#tool-trend rect.bar[data-hour]");
  expect(await bars.count()).toBeGreaterThanOrEqual(7 * 24);
  expect(await page.locator("#tool-trend svg").getAttribute("aria-label")).toContain("6 calls, 2 errors");
  await screenshot(page, "tool");

  const gapLink = page.locator(`#tool-gaps li[data-gap-id="${gapId}"] a`);
  expect(await gapLink.getAttribute("href")).toBe(`#/g/${gapId}`);
  await gapLink.click();
  await poll(() => page.url()).toContain(`#/g/${gapId}`);
  await page.goBack();
  await page.locator("#tool-silent-failures").waitFor();

  // A tool with no calls in range: a clear empty state, not an error.
  await page.goto(`${serve.url}/#/tool?server_name=weather&tool_name=nope`);
  await poll(() => page.locator("#tool-body .state-empty").count()).toBe(1);

  // A phone: both views fit the width (wide tables scroll inside their panel).
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.goto(`${serve.url}/#/tools`);
  await weather.waitFor();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await screenshot(page, "tools-phone");
  await page.goto(`${serve.url}/#/tool?server_name=weather&tool_name=forecast`);
  await page.locator("#tool-silent-failures").waitFor();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await screenshot(page, "tool-phone");

  expect(await page.evaluate(() => (window as { __owned?: number }).__owned)).toBeUndefined();
  expect(problems).toEqual(["console: Failed to load resource: the server responded with a status of 404 (Not Found)"]);
});
