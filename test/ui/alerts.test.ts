/**
 * The Alerts section of the settings view in Chromium: add a webhook (its secret shown once),
 * a bad URL's error, a rule, a test send, a dead letter and its retry, deletion.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type HttpReceiver, startHttpReceiver } from "../helpers/alert-receivers.js";
import { type ServeProcess, startServe } from "../helpers/serve.js";
import { launchBrowser, seed, watchForProblems } from "./browser.js";

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  serve = await startServe({
    env: {
      PATCHWORKMCP_ALERT_INTERVAL_MS: "50",
      PATCHWORKMCP_ALERT_MAX_ATTEMPTS: "1",
      PATCHWORKMCP_ALERT_RETRY_BASE_MS: "10",
    },
  });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchForProblems(page);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await receiver?.close();
});

it("adds destinations and rules, tests, shows a dead letter and retries it", async () => {
  await page.goto(`${serve.url}/#/settings`);
  await page.locator("#settings-alerts #alerts-dest-add").waitFor();

  await page.fill("#alerts-dest-url", "ftp://nope.example/x");
  await page.click("#alerts-dest-add");
  await expect
    .poll(() => page.locator("#alerts-dest-error").textContent())
    .toMatch(/must start with http:\/\/ or https:\/\//);

  await page.fill("#alerts-dest-url", receiver.url);
  await page.click("#alerts-dest-add");
  const secret = (await page.locator("#alerts-secret-value").textContent()) ?? "";
  expect(secret).toMatch(/^whsec_/);
  const row = page.locator("#alerts-destinations tr[data-destination]");
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toContain(`http://127.0.0.1:${receiver.port}/…`);
  expect(await page.locator("#settings-alerts").textContent()).not.toContain("secret-token");

  await row.locator("button[data-test]").click();
  await receiver.waitFor(1);
  expect(receiver.received[0]!.json.type).toBe("test");

  await page.selectOption("#alerts-rule-kind", "new_gap");
  await page.click("#alerts-rule-add");
  await expect.poll(() => page.locator("#alerts-rules tr[data-rule]").count()).toBe(1);
  await page.selectOption("#alerts-rule-kind", "sessions");
  await page.fill("#alerts-rule-threshold", "1");
  await page.click("#alerts-rule-add");
  await expect
    .poll(() => page.locator("#alerts-rule-error").textContent())
    .toMatch(/threshold must be a whole number of sessions from 2/);

  // The receiver refuses: one attempt allowed, so the alert becomes a dead letter.
  receiver.answer(500);
  await seed(serve.url, [
    { what_i_needed: "Export invoices <b>as CSV</b>", what_i_tried: "list_invoices", gap_type: "missing_tool" },
  ]);
  await receiver.waitFor(2);
  const dead = page.locator('#alerts-deliveries tr[data-state="dead"]');
  await expect
    .poll(async () => {
      await page.click("#alerts-refresh");
      return dead.count();
    })
    .toBe(1);
  expect(await dead.textContent()).toMatch(/destination_refused: .* answered HTTP 500/);
  receiver.answer(200);
  await dead.locator("button[data-retry]").click();
  await receiver.waitFor(3);
  await expect
    .poll(async () => {
      await page.click("#alerts-refresh");
      return page.locator('#alerts-deliveries tr[data-state="delivered"]').count();
    })
    .toBe(1);

  await page.locator("#alerts-destinations button[data-delete-destination]").click();
  await expect.poll(() => page.locator("#alerts-destinations tr[data-destination]").count()).toBe(0);
  expect(await page.locator("#alerts-rules").textContent()).toContain("No rule yet.");
  // The two refusals above are the only failed requests the browser saw.
  expect(problems).toEqual(
    Array(2).fill("console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"),
  );
});
