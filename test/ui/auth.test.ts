/**
 * A sidecar that requires an API key: the page loads without one, asks for a
 * key on 401, keeps it per tab (or per browser when asked), and shows a
 * read-only key's 403 as a clear error.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, startServe, tempDir, type ServeProcess } from "../helpers/serve.js";
import { api, launchBrowser, poll, screenshot, seed, watchForProblems } from "./browser.js";

const ADMIN_KEY = "pwm-admin-test-key-7f3a";
let readKey: string;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let problems: string[];
let ids: number[];

const storage = () =>
  page.evaluate(() => ({
    session: sessionStorage.getItem("patchworkmcp.apiKey"),
    local: localStorage.getItem("patchworkmcp.apiKey"),
  }));

beforeAll(async () => {
  const dbPath = join(tempDir(), "feedback.db");
  readKey = execFileSync(
    process.execPath,
    // The key comes before the first serve: --create starts the database.
    [CLI, "keys", "create", "--scope", "read", "--name", "viewer", "--db", dbPath, "--create"],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    },
  ).trim();
  serve = await startServe({ dbPath, env: { FEEDBACK_API_KEY: ADMIN_KEY } });
  ids = await seed(
    serve.url,
    [1, 2, 3].map((i) => ({
      what_i_needed: `Protected report ${i}`,
      what_i_tried: "tried",
      gap_type: "missing_tool",
      server_name: "vault",
    })),
    ADMIN_KEY,
  );
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
  problems = watchForProblems(page);
  // The browser logs each 401/403 response as a console error: those are expected here.
  page.removeAllListeners("console");
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe("API-key-protected sidecar", () => {
  it("serves the page without a key but not the API", async () => {
    expect((await fetch(`${serve.url}/`)).status).toBe(200);
    expect((await fetch(`${serve.url}/api/feedback`)).status).toBe(401);
  });

  it("asks for the key, says when it is wrong, and keeps it for the tab only", async () => {
    await page.goto(`${serve.url}/#/reports`);
    const dialog = page.locator("dialog.key-dialog[open]");
    await dialog.waitFor();
    expect(await dialog.locator("#api-key-reason").textContent()).toContain("requires an API key");
    await screenshot(page, "key-prompt");

    await page.fill("#api-key-input", "not-the-key");
    await page.press("#api-key-input", "Enter");
    await poll(async () => dialog.locator("#api-key-reason").textContent()).toContain("not valid");

    await page.fill("#api-key-input", ADMIN_KEY);
    await page.click("dialog.key-dialog button[type=submit]");
    await poll(() => page.locator("#report-list a.row").count()).toBe(3);
    expect(await page.locator("dialog[open]").count()).toBe(0);
    expect(await storage()).toEqual({ session: ADMIN_KEY, local: null });

    // A reload keeps the tab's key: no prompt.
    await page.reload();
    await poll(() => page.locator("#report-list a.row").count()).toBe(3);
    expect(await page.locator("dialog[open]").count()).toBe(0);

    // Admin actions work with it.
    await page.goto(`${serve.url}/#/r/${ids[0]}`);
    await page.locator("#report-card").waitFor();
    await page.click("#toggle-reviewed");
    await poll(
      async () => (await api<{ status: string }>(serve.url, `/api/feedback/${ids[0]}`, ADMIN_KEY)).status,
    ).toBe("reviewed");
  });

  it("forgets the key from Settings; cancelling the prompt shows the error with a retry", async () => {
    await page.goto(`${serve.url}/#/settings`);
    expect(await page.locator("#key-status").textContent()).toContain(`…${ADMIN_KEY.slice(-4)}`);
    expect(await page.locator("#key-status").textContent()).not.toContain(ADMIN_KEY.slice(0, -4));
    await page.click("#forget-key");
    expect(await storage()).toEqual({ session: null, local: null });

    await page.goto(`${serve.url}/#/reports`);
    await page.reload();
    await page.locator("dialog.key-dialog[open]").waitFor();
    await page.click("dialog.key-dialog button.secondary");
    await page.locator("#results .state-error").waitFor();
    expect(await page.locator("#results .state-error").textContent()).toContain("requires an API key");
    await page.click("#results .state-error button");
    await page.locator("dialog.key-dialog[open]").waitFor();
    // This time remember the (read-only) key in the browser.
    await page.fill("#api-key-input", readKey);
    await page.check("#api-key-remember");
    await page.press("#api-key-input", "Enter");
    await poll(() => page.locator("#report-list a.row").count()).toBe(3);
    expect(await storage()).toEqual({ session: null, local: readKey });
  });

  it("shows a read-only key's 403 as an error and keeps the old status", async () => {
    await page.goto(`${serve.url}/#/r/${ids[1]}`);
    await page.locator("#report-card").waitFor();
    await page.selectOption("#status-select", "dismissed");
    const toast = page.locator(".toast-error");
    await toast.waitFor();
    expect(await toast.textContent()).toContain("lacks the feedback:admin scope");
    await poll(() => page.locator("#status-select").inputValue()).toBe("open");
    expect((await api<{ status: string }>(serve.url, `/api/feedback/${ids[1]}`, ADMIN_KEY)).status).toBe("open");

    await page.fill("#note-body", "read keys cannot write");
    await page.click("#add-note");
    await poll(() => page.locator(".toast-error").count()).toBe(2);
    expect(await page.locator("#notes-list .note").count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
