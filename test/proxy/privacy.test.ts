/**
 * `proxy --privacy`: what the proxy writes to its outbox and what it sends over HTTP is
 * scrubbed before it leaves the process, and the sidecar scrubs again on arrival. Real
 * proxy children, a real sidecar (started late, on the port the proxy was told about),
 * `replay`, and a loopback POST /api/calls receiver that keeps every body it took.
 * Secrets are built at run time (test/helpers/secrets.ts), never written out here.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FEEDBACK_REPLIES } from "../../src/feedback/index.js";
import { parseUnsentLines } from "../../src/delivery/unsent.js";
import { request } from "../helpers/http.js";
import { piiSamples, secretSamples } from "../helpers/secrets.js";
import { REPO_ROOT, startServe } from "../helpers/serve.js";
import { CallsReceiver } from "./calls-receiver.js";
import {
  CLI,
  connectStdioProxy,
  fixtureCommand,
  freePort,
  NODE,
  proxyEnv,
  RawClient,
  tempDir,
  textOf,
  waitFor,
} from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const sample = (samples: [string, string][], rule: string) => samples.find(([r]) => r === rule)![1];
const token = sample(secretSamples(5), "github");
const email = sample(piiSamples(5), "email");

const leakyReport = {
  what_i_needed: "A way to look up a user by email",
  what_i_tried: `Called lookup with token ${token}`,
  gap_type: "missing_tool",
  user_goal: `Write to ${email}`,
};

interface StoredRow {
  what_i_tried: string;
  user_goal: string | null;
  redactions: string;
  gap_type: string;
}
const storedRows = (db: string): StoredRow[] =>
  existsSync(db)
    ? (new Database(db, { readonly: true })
        .prepare("SELECT what_i_tried, user_goal, redactions, gap_type FROM reports ORDER BY id")
        .all() as StoredRow[])
    : [];

/** A stdio proxy whose sidecar is down (nothing listens on `port` yet). */
async function proxyWithSidecarDown(port: number, outbox: string, ...more: string[]) {
  const p = await connectStdioProxy({
    proxyArgs: [
      "--sidecar-url",
      `http://127.0.0.1:${port}`,
      "--outbox",
      outbox,
      "--delivery-timeout",
      "1000",
      "--analytics",
      "no",
      ...more,
    ],
    upstream: fixtureCommand(),
  });
  cleanups.push(() => p.close());
  return p;
}

describe("proxy --privacy: the outbox", () => {
  it("keeps reports scrubbed (secrets+pii by default), missing_tool argument values too; delivered and replayed, they are stored scrubbed", async () => {
    const port = await freePort();
    const outbox = join(tempDir(), "outbox.log");
    const p = await proxyWithSidecarDown(port, outbox, "--record-arguments");
    expect(textOf(await p.client.callTool({ name: "feedback", arguments: leakyReport }))).toBe(
      FEEDBACK_REPLIES.queued(),
    );
    // A call to a tool upstream does not list: its report quotes the argument values (--record-arguments).
    await p.client.callTool({ name: "lookup_user", arguments: { email, note: token, password: "hunter2-x" } });
    await waitFor(() => p.stderr().includes('kept a missing_tool report for "lookup_user"'), 20_000, "the report");

    const text = readFileSync(outbox, "utf8");
    expect(text).not.toContain(token);
    expect(text).not.toContain(email);
    expect(text).not.toContain("hunter2-x");
    const { entries } = parseUnsentLines(text);
    expect(entries).toHaveLength(2);
    const [own, missing] = entries.map((e) => e.payload);
    expect(own).toMatchObject({
      what_i_tried: "Called lookup with token [secret:github]",
      user_goal: "Write to [email]",
    });
    expect(missing!.what_i_tried).toContain(
      'and arguments {"email":"[email]","note":"[secret:github]","password":"[secret:key_value]"}',
    );
    // The report carries no record of what the proxy replaced: its log does (rules, never values).
    expect(p.stderr()).toMatch(
      /report proxy-\S+: --privacy secrets\+pii replaced github ×1 in what_i_tried; email ×1 in user_goal before it left the proxy/,
    );

    // `replay` of a copy, then the proxy's own retry: stored once each, scrubbed.
    const copy = join(tempDir(), "copy.log");
    writeFileSync(copy, text);
    const sidecar = await startServe({ args: ["--port", String(port)] });
    cleanups.push(() => sidecar.stop());
    const replay = spawnSync(NODE, [CLI, "replay", copy, "--sidecar-url", sidecar.url], {
      env: proxyEnv(),
      encoding: "utf8",
    });
    expect(replay.status).toBe(0);
    await waitFor(() => readFileSync(outbox, "utf8").trim() === "", 30_000, "the outbox to empty");
    const rows = storedRows(sidecar.dbPath);
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(email);
    expect(stored).not.toContain("hunter2-x");
    expect(rows[0]).toMatchObject({
      what_i_tried: "Called lookup with token [secret:github]",
      user_goal: "Write to [email]",
    });
  }, 60_000);

  it("--privacy off keeps the outbox as written; the sidecar scrubs on arrival and lists the redactions", async () => {
    const port = await freePort();
    const outbox = join(tempDir(), "outbox.log");
    const p = await proxyWithSidecarDown(port, outbox, "--privacy", "off");
    expect(textOf(await p.client.callTool({ name: "feedback", arguments: leakyReport }))).toBe(
      FEEDBACK_REPLIES.queued(),
    );
    const { entries } = parseUnsentLines(readFileSync(outbox, "utf8"));
    expect(entries.map((e) => [e.payload.what_i_tried, e.payload.user_goal])).toEqual([
      [leakyReport.what_i_tried, leakyReport.user_goal],
    ]);
    expect(p.stderr()).not.toContain("replaced");

    const sidecar = await startServe({ args: ["--port", String(port)] });
    cleanups.push(() => sidecar.stop());
    await waitFor(() => readFileSync(outbox, "utf8").trim() === "", 30_000, "the proxy to deliver its outbox");
    const [row] = storedRows(sidecar.dbPath);
    expect(row).toMatchObject({
      what_i_tried: "Called lookup with token [secret:github]",
      user_goal: "Write to [email]",
    });
    const got = await request(`${sidecar.url}/api/feedback/1`);
    expect(got.body.redactions).toEqual([
      { field: "what_i_tried", rule: "github", count: 1 },
      { field: "user_goal", rule: "email", count: 1 },
    ]);
  }, 60_000);
});

describe("proxy --privacy: recorded arguments sent to POST /api/calls", () => {
  async function recordedArguments(...flags: string[]): Promise<{ received: CallsReceiver; args: unknown }> {
    const received = await new CallsReceiver().start();
    cleanups.push(() => received.stop());
    const p = await connectStdioProxy({
      proxyArgs: [
        "--sidecar-url",
        received.url,
        "--outbox",
        join(tempDir(), "outbox.log"),
        "--no-missing-tool-reports",
        "--record-arguments",
        ...flags,
      ],
      upstream: fixtureCommand(),
    });
    cleanups.push(() => p.close());
    const text = `mail ${email} with ${token}`;
    expect(textOf(await p.client.callTool({ name: "echo", arguments: { text, password: "hunter2-x" } }))).toBe(text);
    const echo = await waitFor(() => received.calls.find((c) => c.tool_name === "echo"), 20_000, "the echo call");
    expect(received.invalid).toEqual([]);
    return { received, args: echo.arguments };
  }

  it("are scrubbed with --privacy before the proxy sends them", async () => {
    const { received, args } = await recordedArguments();
    expect(args).toEqual({ text: "mail [email] with [secret:github]", password: "[secret:key_value]" });
    const bodies = JSON.stringify(received.batches);
    expect(bodies).not.toContain(token);
    expect(bodies).not.toContain(email);
    expect(bodies).not.toContain("hunter2-x");
  });

  it("secrets keeps personal data; off sends them as recorded (the sidecar scrubs them when it stores them)", async () => {
    expect((await recordedArguments("--privacy", "secrets")).args).toEqual({
      text: `mail ${email} with [secret:github]`,
      password: "[secret:key_value]",
    });
    expect((await recordedArguments("--privacy", "off")).args).toEqual({
      text: `mail ${email} with ${token}`,
      password: "hunter2-x",
    });
  });
});

describe("proxy --privacy: the scrubber is loaded on use", () => {
  const PRELOAD = pathToFileURL(join(REPO_ROOT, "test/fixtures/record-modules.mjs")).href;

  /** The modules a stdio proxy loaded, in front of the fixture, for what `drive` made it do. */
  async function modulesLoaded(drive: (c: RawClient) => Promise<void>, ...flags: string[]): Promise<string[]> {
    const dir = tempDir();
    const log = join(dir, "modules.log");
    const port = await freePort();
    const c = new RawClient(
      fixtureCommand(),
      [
        "--sidecar-url",
        `http://127.0.0.1:${port}`,
        "--outbox",
        join(dir, "o.log"),
        "--delivery-timeout",
        "500",
        ...flags,
      ],
      // The upstream (node too) records into the same file: it never loads the scrubber either way.
      { NODE_OPTIONS: `--import ${PRELOAD}`, PWM_MODULE_LOG: log },
    );
    await c.initialize();
    c.send({ id: 1, method: "tools/call", params: { name: "echo", arguments: { text: `to ${email}` } } });
    await c.response(1);
    await drive(c);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
    return readFileSync(log, "utf8").split("\n").filter(Boolean);
  }
  const scrubber = (loaded: string[]) => loaded.filter((m) => m.includes("/dist/src/privacy/scrub.js"));

  it("a pass-through proxy never loads it; the first report does, and so does --record-arguments", async () => {
    const plain = await modulesLoaded(async () => undefined);
    expect(plain.some((m) => m.includes("/dist/proxy/reporter.js"))).toBe(true);
    expect(scrubber(plain)).toEqual([]);
    const reported = await modulesLoaded(async (c) => {
      c.send({ id: 2, method: "tools/call", params: { name: "feedback", arguments: leakyReport } });
      await c.response(2);
    });
    expect(scrubber(reported)).toHaveLength(1);
    expect(scrubber(await modulesLoaded(async () => undefined, "--record-arguments"))).toHaveLength(1);
  }, 60_000);
});

describe("proxy --privacy: a mode that is not one of the three", () => {
  it.each([
    ["the flag", ["--privacy", "everything"], {}],
    ["the env var", [], { FEEDBACK_PRIVACY: "everything" }],
  ] as const)("is refused from %s, naming the modes, with a non-zero exit", (_, flags, env) => {
    const run = spawnSync(NODE, [CLI, "proxy", ...flags, "--", ...fixtureCommand()], {
      env: proxyEnv(env),
      encoding: "utf8",
      input: "",
      timeout: 20_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain("'everything'");
    expect(run.stderr).toContain("--privacy");
    expect(run.stderr).toMatch(/off, secrets, secrets\+pii/);
    expect(run.stdout).toBe("");
  });
});
