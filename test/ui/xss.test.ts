/**
 * Agent-written text is hostile: reports whose every field carries script,
 * event-handler and markup payloads must render as literal text, and nothing
 * may ever run (no dialog, no global set, no CSP violation, no new elements).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServe, type ServeProcess } from "../helpers/serve.js";
import { gapIdOf } from "../helpers/gaps.js";
import { launchBrowser, poll, screenshot, seed, type SeedReport, watchForProblems } from "./browser.js";

const PAYLOADS = [
  `<script>window.__pwned="script";alert("script")</script>`,
  `<img src=x onerror="window.__pwned='img';alert('img')">`,
  `"><svg onload="window.__pwned='svg';alert('svg')"></svg>`,
  `' onmouseover='window.__pwned="attr";alert("attr")' data-x='`,
  `javascript:window.__pwned='href';alert('href')`,
  `<a href="javascript:alert('link')">click me</a><iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>`,
  `<style>body{display:none}</style><b onclick="alert('b')">bold</b>`,
  `{{constructor.constructor('window.__pwned="tmpl";alert(1)')()}} \${alert(2)}`,
];

const clip = (s: string, n: number) => s.slice(0, n);
/** Every text field of the report is the payload (cut to the field's limit). */
const hostile = (p: string): SeedReport => ({
  what_i_needed: p,
  what_i_tried: p,
  gap_type: "other",
  server_name: clip(p, 200),
  server_version: clip(p, 100),
  tool_name: clip(p, 200),
  suggestion: p,
  user_goal: p,
  resolution: "blocked",
  tools_available: [clip(p, 200), "ok_tool"],
  agent_model: clip(p, 200),
  session_id: clip(p, 200),
  client_type: clip(p, 200),
});

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let ids: number[];

/** Nothing the payloads try may exist in the page. */
async function assertInert(): Promise<void> {
  const report = await page.evaluate(() => {
    const all = [...document.querySelectorAll("*")];
    return {
      pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
      violations: (window as unknown as { __violations?: string[] }).__violations ?? [],
      scripts: [...document.scripts].map((s) => s.getAttribute("src")),
      dangerous: document.querySelectorAll(
        "img, iframe, object, embed, style, b, body svg:not(.chart):not(.rank-bar):not(.spark):not(.chart *):not(.rank-bar *):not(.spark *)",
      ).length,
      handlerAttrs: all.flatMap((el) =>
        [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}[${a.name}]`),
      ),
      badHrefs: [...document.querySelectorAll("a[href]")]
        .map((a) => a.getAttribute("href") ?? "")
        .filter((h) => /^\s*javascript:/i.test(h)),
    };
  });
  expect(report.pwned).toBeNull();
  expect(report.violations).toEqual([]);
  expect(report.scripts).toHaveLength(2);
  expect(report.scripts.every((src) => src?.startsWith("/assets/"))).toBe(true);
  expect(report.dangerous).toBe(0);
  expect(report.handlerAttrs).toEqual([]);
  expect(report.badHrefs).toEqual([]);
  expect(problems).toEqual([]);
}

beforeAll(async () => {
  serve = await startServe();
  ids = await seed(serve.url, PAYLOADS.map(hostile));
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // Record CSP violations from the first script on (a blocked attempt is still an attempt).
  await context.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      w.__violations.push(`${e.violatedDirective} ${e.sample}`),
    );
  });
  page = await context.newPage();
  problems = watchForProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe("hostile report text", () => {
  it("renders as literal text in the list, with every row hovered", async () => {
    await page.goto(`${serve.url}/#/reports`);
    await poll(() => page.locator("#report-list a.row").count()).toBe(PAYLOADS.length);
    const titles = await page.locator("#report-list .row-title").allTextContents();
    expect(titles).toEqual([...PAYLOADS].reverse());
    expect(await page.locator("#report-list .row-server").allTextContents()).toEqual(
      [...PAYLOADS].reverse().map((p) => clip(p, 200)),
    );
    for (const row of await page.locator("#report-list a.row").all()) await row.hover();
    // The server/tool/client selects list the payloads as option text.
    await poll(() => page.locator("#filter-server_name option").count()).toBe(PAYLOADS.length + 1);
    await assertInert();
    await screenshot(page, "xss-list");
  });

  it("renders as literal text on every report card, including a hostile note", async () => {
    for (const [i, payload] of PAYLOADS.entries()) {
      await page.goto(`${serve.url}/#/r/${ids[i]}`);
      await page.locator(`#report-card[data-id="${ids[i]}"]`).waitFor();
      for (const field of ["needed", "tried", "suggestion", "goal"]) {
        expect(await page.locator(`#field-${field} .agent-text`).textContent()).toBe(payload);
      }
      expect(await page.locator("#tools-seen li").first().textContent()).toBe(clip(payload, 200));
      expect(await page.locator("#session-link").textContent()).toBe(clip(payload, 200));
      expect(await page.locator(".meta").textContent()).toContain(clip(payload, 100));
      await page.locator("#report-card").hover();
    }
    await page.fill("#note-body", PAYLOADS.join("\n"));
    await page.click("#add-note");
    await page.locator("#notes-list .note").waitFor();
    expect(await page.locator("#notes-list .note-body").textContent()).toBe(PAYLOADS.join("\n"));
    await assertInert();
    await screenshot(page, "xss-card");

    // Following a hostile session link filters by it (as data) and stays inert.
    await page.click("#session-link");
    await poll(() => page.locator("#report-list a.row").count()).toBe(1);
    expect(await page.locator(".chips .chip").textContent()).toContain(clip(PAYLOADS[PAYLOADS.length - 1]!, 200));
    await assertInert();
  });

  it("renders as literal text in the overview charts and filter dropdowns", async () => {
    await page.goto(`${serve.url}/#/overview`);
    await page.locator("#chart-server .rank-row").first().waitFor();
    const labels = await page.locator("#chart-server .rank-label").allTextContents();
    expect(new Set(labels)).toEqual(new Set(PAYLOADS.map((p) => clip(p, 200))));
    expect(new Set(await page.locator("#chart-tool .rank-label").allTextContents())).toEqual(
      new Set(PAYLOADS.map((p) => clip(p, 200))),
    );
    for (const row of await page.locator("#chart-server .rank-row").all()) await row.hover();
    await page.selectOption("#filter-server_name", clip(PAYLOADS[1]!, 200));
    await poll(() => page.locator("#tile-total .tile-value").textContent()).toBe("1");
    await assertInert();
  });

  it("renders as literal text in the gaps list, on gap pages and in the gap overview", async () => {
    await page.goto(`${serve.url}/#/`);
    await poll(() => page.locator("#gap-list li.gap-row").count()).toBe(PAYLOADS.length);
    expect(new Set(await page.locator("#gap-list .gap-title").allTextContents())).toEqual(new Set(PAYLOADS));
    expect(new Set(await page.locator("#gap-list .row-server").allTextContents())).toEqual(
      new Set(PAYLOADS.map((p) => clip(p, 200))),
    );
    await page.locator("#gap-list .spark").first().waitFor();
    for (const row of await page.locator("#gap-list li.gap-row").all()) await row.hover();
    await page.locator("#gap-list button.score").first().click();
    await assertInert();
    await page.keyboard.press("Escape");

    for (const [i, payload] of PAYLOADS.entries()) {
      const gapId = await gapIdOf(serve.url, ids[i]!);
      await page.goto(`${serve.url}/#/g/${gapId}`);
      await page.locator(`#gap-page[data-id="${gapId}"]`).waitFor();
      expect(await page.locator("#gap-title").textContent()).toBe(payload);
      expect(await page.locator("#gap-suggestion-list .agent-text").first().textContent()).toBe(payload);
      expect(await page.locator("#gap-report-list .row-title").first().textContent()).toBe(payload);
      expect(await page.locator("#gap-tools .rank-label").first().textContent()).toBe(clip(payload, 200));
      expect(await page.locator("#gap-models .rank-label").first().textContent()).toBe(clip(payload, 200));
      await page.locator("#gap-page").hover();
    }
    // An admin's note and title are text too.
    await page.fill("#gap-agent-note", PAYLOADS.join(" ").slice(0, 500));
    await page.click("#gap-note-save");
    await page.locator(".toast-ok", { hasText: "Agent note saved." }).waitFor();
    await page.fill("#gap-title-input", PAYLOADS[1]!);
    await page.click("#gap-title-save");
    await page.locator(".toast-ok", { hasText: "Gap renamed." }).waitFor();
    await poll(() => page.locator("#gap-history-list .history-text").first().textContent()).toContain(PAYLOADS[1]!);
    await assertInert();
    await screenshot(page, "xss-gap");

    await page.goto(`${serve.url}/#/overview`);
    await page.locator("#gap-breakdown li.bd-server").first().waitFor();
    expect(
      new Set(
        await page
          .locator("#gap-breakdown li.bd-server")
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-server"))),
      ),
    ).toEqual(new Set(PAYLOADS.map((p) => clip(p, 200))));
    expect(await page.locator("#trend-now li").count()).toBe(PAYLOADS.length);
    await assertInert();
  });
});
