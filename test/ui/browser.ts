/**
 * Shared pieces of the dashboard's browser tests: Debian's Chromium driven by
 * playwright-core (never a downloaded browser), seeding through the REST API,
 * screenshots, and a watch for page errors.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { REPO_ROOT } from "../helpers/serve.js";

export const CHROMIUM = process.env.PATCHWORKMCP_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(REPO_ROOT, "test-results/screenshots");

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run scripts/setup/20-chromium.sh (npm test runs it) or set PATCHWORKMCP_CHROMIUM.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

export interface SeedReport {
  what_i_needed: string;
  what_i_tried: string;
  gap_type: string;
  server_name?: string;
  server_version?: string;
  tool_name?: string;
  suggestion?: string;
  user_goal?: string;
  resolution?: string;
  tools_available?: string[];
  agent_model?: string;
  session_id?: string;
  client_type?: string;
}

/** File reports one by one through POST /api/feedback (so ids follow array order); returns their ids. */
export async function seed(baseUrl: string, reports: SeedReport[], apiKey?: string): Promise<number[]> {
  const ids: number[] = [];
  for (const report of reports) {
    const res = await fetch(`${baseUrl}/api/feedback`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify(report),
    });
    if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: number }).id);
  }
  return ids;
}

export async function api<T>(baseUrl: string, path: string, apiKey?: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {} });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // From the top, so the sticky header is drawn where it belongs in a full-page shot.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? true });
}

/** Collects uncaught page errors, console errors and CSP violations; assert it stays empty. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

/** expect.poll with room for a loaded 2-core CI machine (the default gives up after 1 s). */
export function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 20_000, interval: 50 });
}
