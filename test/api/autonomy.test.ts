/**
 * The autonomy ladder end to end: a real `serve` child (two on one database on PostgreSQL),
 * the real octokit and Anthropic SDKs pointed at the loopback doubles, real git for the
 * verification worktree, the real CLI. A gap that crosses its server's thresholds gets one
 * draft PR by itself (not twice, not past the daily cap); a change over the scope limits, a
 * low-confidence answer and a failing verification command are kept as suggestions on the gap
 * (the command prints its environment: no secret is in it; its worktree is gone afterwards);
 * rollback closes the PR and deletes its branch; a failing CI rolls an automatic draft back.
 * Every automatic action is in gap history with actor "autonomy". Requires `npm run build`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseFeedback } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import {
  isAnalysisRequest,
  startAnthropicDouble,
  startGitHubDouble,
  userText,
  type GitHubDouble,
  type LlmDoubleBase,
  type LlmRequestRecord,
} from "../doubles/index.js";
import { HAPPY_CHANGE_SET, REPO, REPO_FILES, WEATHER_REPORT } from "../draft/fixtures.js";
import { readSse } from "../draft/sse.js";
import { httpClient, textOf } from "../mcp/helpers.js";
import { blankDraftEnv } from "../helpers/env.js";
import { CLI, onPostgres, startServe, tempDir, testDbPath, type ServeProcess } from "../helpers/serve.js";

const ADMIN = "admin-key-for-autonomy-tests-01";
const OPENAI_KEY = "sk-openai-key-that-must-not-leak-0001";
const UNLISTED = "unlisted-value-that-must-not-leak-0002";

let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let serve: ServeProcess;
let second: ServeProcess | undefined;
let dbPath: string;
let readKey: string;
let checkout: string;
const gaps: Record<string, number> = {};

const api = (path: string, init: RequestInit & { key?: string; base?: string } = {}) =>
  fetch(`${init.base ?? serve.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${init.key ?? ADMIN}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
      ...(init.headers ?? {}),
    },
  });
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const putAutonomy = (server: string, body: unknown) =>
  api(`/api/servers/${encodeURIComponent(server)}/autonomy`, { method: "PUT", body: JSON.stringify(body) });
const getGap = async (id: number) => json(await api(`/api/gaps/${id}`));
const historyOf = async (id: number) => (await getGap(id)).history as { actor: string; action: string; details: any }[];

/** The server a change-set request is about (each quoted report names it). */
const serverOf = (r: LlmRequestRecord) => /"server_name": "([^"]+)"/.exec(userText(r))?.[1];
const changeSetRequests = (server: string) =>
  anthropic.requests.filter((r) => !isAnalysisRequest(r) && serverOf(r) === server);

const HAPPY = { ...HAPPY_CHANGE_SET, confidence: 0.95, rationale: "Adds the hours option the agents asked for." };
const ANSWERS: Record<string, unknown> = {
  weather: HAPPY,
  handmade: HAPPY,
  wide: HAPPY,
  checked: HAPPY,
  unsure: { ...HAPPY, confidence: 0.3, rationale: "I could not see how hours are fetched upstream." },
  "zz-marker": { ...HAPPY, confidence: 0.1, rationale: "A marker." },
};

function insert(store: FeedbackStore, over: Record<string, unknown>): number {
  const parsed = parseFeedback({ ...WEATHER_REPORT, ...over });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return store.insertReport(parsed.payload).gap_id!;
}

/** Three sessions reporting the same gap on one server. */
function gapOn(store: FeedbackStore, server: string, over: Record<string, unknown> = {}): number {
  const ids = ["s1", "s2", "s3"].map((s) =>
    insert(store, { server_name: server, session_id: `${server}-${s}`, ...over }),
  );
  expect(new Set(ids).size).toBe(1);
  return ids[0]!;
}

function makeCheckout(): string {
  const dir = join(tempDir("pwm-autonomy-checkout-"), "weather-mcp");
  for (const [path, content] of Object.entries(REPO_FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" }).toString();
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "initial");
  return dir;
}

const gitIn = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" }).toString();

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(blankDraftEnv())) delete env[k];
  return Object.assign(env, extra);
}

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: cliEnv(), encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The CLI without blocking this process (the GitHub double answers from here). */
function cliAsync(
  args: string[],
  extra: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(extra), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, out, err })));
}

beforeAll(async () => {
  [gh, anthropic] = await Promise.all([startGitHubDouble(), startAnthropicDouble()]);
  gh.addRepo(REPO, REPO_FILES);
  anthropic.fallback = (r) => {
    const server = serverOf(r);
    const answer = server ? ANSWERS[server] : undefined;
    return answer ? { json: answer } : { status: 500, body: { error: { message: "no scripted answer" } } };
  };
  checkout = makeCheckout();
  dbPath = testDbPath("pwm-autonomy-");
  const store = FeedbackStore.open(dbPath);
  try {
    for (const s of ["weather", "wide", "unsure", "checked", "handmade", "zz-marker"]) gaps[s] = gapOn(store, s);
    // A fourth session: the weather gap ranks first on its server, so it is the one drafted today.
    expect(insert(store, { server_name: "weather", session_id: "weather-s4" })).toBe(gaps.weather);
    // A second gap on weather, about something else: the daily cap (1) keeps it from a draft today.
    gaps.weather2 = gapOn(store, "weather", {
      tool_name: "get_alerts",
      what_i_needed: "Severe storm warnings as polygons for a county, with their issuing office",
      what_i_tried: "get_alerts returns only a plain text bulletin for the whole state",
      gap_type: "missing_tool",
      suggestion: "A storm_polygons tool",
    });
    expect(gaps.weather2).not.toBe(gaps.weather);
    readKey = store.createKey("read", "reader").key;
  } finally {
    store.close();
  }
  const env = {
    ...blankDraftEnv(),
    FEEDBACK_API_KEY: ADMIN,
    GITHUB_TOKEN: gh.token,
    GITHUB_API_URL: gh.url,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropic.url,
    OPENAI_API_KEY: OPENAI_KEY,
    PATCHWORKMCP_LLM_PROVIDER: "anthropic",
    PATCHWORKMCP_GITHUB_REPO: REPO,
    SOME_UNLISTED_SETTING: UNLISTED,
  };
  const args = ["--autonomy-interval", "100", "--autonomy-verify"];
  serve = await startServe({ dbPath, env, args });
  // Two sidecars on one PostgreSQL database: still one draft per gap, still the one daily cap.
  if (onPostgres()) second = await startServe({ dbPath, env, args });
});

afterAll(async () => {
  if (process.env.PWM_DEBUG) console.log(serve?.stderr());
  await Promise.all([serve?.stop(), second?.stop()]);
  await Promise.all([gh?.close(), anthropic?.close()]);
});

describe("autonomy settings", () => {
  it("defaults to suggest (nothing automatic) and needs the admin scope", async () => {
    const res = await api("/api/servers/weather/autonomy");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      server_name: "weather",
      level: "suggest",
      min_sessions: 3,
      max_drafts_per_day: 1,
      rollback_on_failure: false,
      updated_at: null,
    });
    expect((await api("/api/servers/weather/autonomy", { key: readKey })).status).toBe(403);
    expect(await putAutonomy("weather", { level: "draft" }).then((r) => r.status)).toBe(200);
    const asReader = await api("/api/servers/weather/autonomy", {
      method: "PUT",
      key: readKey,
      body: JSON.stringify({ level: "auto_draft" }),
    });
    expect(asReader.status).toBe(403);
  });

  it("refuses bad settings with a 4xx naming what was wrong", async () => {
    const cases: [unknown, RegExp][] = [
      [{ level: "yolo" }, /level must be one of: suggest, draft, auto_draft/],
      [{ min_blocked_share: 2 }, /min_blocked_share must be at most 1/],
      [{ confidence_threshold: "high" }, /confidence_threshold must be a number/],
      [{ max_files: 0 }, /max_files must be at least 1/],
      [{ verification: { checkout: "relative/dir" } }, /verification.checkout must be an absolute path/],
      [{ allowed_paths: ["../outside"] }, /repo-relative/],
      [{ surprise: true }, /surprise/],
    ];
    for (const [body, message] of cases) {
      const res = await putAutonomy("weather", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect((await json(res)).error.message).toMatch(message);
    }
    const missing = await putAutonomy("weather", { verification: { checkout: "/no/such/checkout/here" } });
    expect(missing.status).toBe(422);
    expect((await json(missing)).error).toMatchObject({ code: "invalid_checkout" });
    const notJson = await api("/api/servers/weather/autonomy", {
      method: "PUT",
      body: "level=auto_draft",
      headers: { "content-type": "text/plain" },
    });
    expect(notJson.status).toBe(415);
    // Nothing of the refused bodies was saved.
    expect(await json(await api("/api/servers/weather/autonomy"))).toMatchObject({ level: "draft", max_files: 5 });
  });

  it("the CLI shows and sets the same settings, and refuses bad values", () => {
    const set = cli(["autonomy", "set", "handmade", "--db", dbPath, "--max-files", "4", "--json"]);
    expect(set.code, set.err).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ server_name: "handmade", level: "suggest", max_files: 4 });
    const shown = cli(["autonomy", "show", "handmade", "--db", dbPath]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain("handmade: suggest");
    expect(shown.out).toContain("at most 4 files");
    const bad = cli(["autonomy", "set", "handmade", "--db", dbPath, "--confidence-threshold", "7"]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("confidence_threshold must be at most 1");
    const none = cli(["autonomy", "set", "handmade", "--db", dbPath]);
    expect(none.code).not.toBe(0);
    expect(none.err).toContain("nothing_to_set");
  });
});

describe("auto_draft", () => {
  beforeAll(async () => {
    const auto = { level: "auto_draft", min_sessions: 3, max_drafts_per_day: 1, confidence_threshold: 0.8 };
    const puts = await Promise.all([
      putAutonomy("weather", { ...auto, rollback_on_failure: true }),
      putAutonomy("wide", { ...auto, max_files: 1, allowed_paths: ["src/**"] }),
      putAutonomy("unsure", auto),
      putAutonomy("checked", {
        ...auto,
        verification: {
          checkout,
          command: `printf 'WORKTREE=%s\\n' "$PWD"; env; grep -q hourly src/handlers/forecast.ts && echo CHANGE-APPLIED; exit 3`,
          timeout_ms: 60_000,
        },
      }),
    ]);
    for (const p of puts) expect(p.status, JSON.stringify(await p.clone().json())).toBe(200);
  });

  it("opens one draft PR by itself when a gap crosses the thresholds", async () => {
    const history = await vi.waitFor(
      async () => {
        const h = await historyOf(gaps.weather!);
        if (!h.some((e) => e.action === "auto_draft_opened")) throw new Error("no automatic draft yet");
        return h;
      },
      { timeout: 30_000, interval: 100 },
    );
    const opened = history.find((e) => e.action === "auto_draft_opened")!;
    expect(opened.actor).toBe("autonomy");
    const gap = await getGap(gaps.weather!);
    expect(gap.open_draft_id).toBe(opened.details.draft_id);
    const pulls = gh.pulls(REPO).filter((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.weather}-`));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ draft: true, state: "open" });
    expect(pulls[0]!.body).toContain("Model confidence 0.95: Adds the hours option the agents asked for.");
    // The model was told to judge its confidence, and asked for it in the schema.
    const request = changeSetRequests("weather")[0]!;
    expect(JSON.stringify(request.body)).toContain("safe to open as it is");
  });

  it("keeps a change over the scope limits as a suggestion on the gap", async () => {
    const gap = await vi.waitFor(
      async () => {
        const g = await getGap(gaps.wide!);
        if (g.suggestions.length === 0) throw new Error("no suggestion yet");
        return g;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(gap.suggestions[0]).toMatchObject({ reason: "over_scope" });
    const problems = gap.suggestions[0].details.problems.join("\n");
    expect(problems).toContain("it changes 2 files; the limit is 1");
    expect(problems).toContain("docs/hourly.md is outside the allowed paths (src/**)");
    expect(gap.suggestions[0].details.diff).toContain("+++ b/docs/hourly.md");
    expect(gap.open_draft_id).toBeNull();
    expect(gap.history.find((e: { action: string }) => e.action === "auto_draft_suggested")).toMatchObject({
      actor: "autonomy",
    });
    expect(gh.pulls(REPO).some((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.wide}-`))).toBe(false);
    expect(gh.branches(REPO).some((b) => b.startsWith(`patchworkmcp/gap-${gaps.wide}-`))).toBe(false);
  });

  it("get_gap over MCP shows the kept change: its reason, files, problems and diff, as inert text", async () => {
    await vi.waitFor(
      async () => {
        if ((await getGap(gaps.wide!)).suggestions.length === 0) throw new Error("no suggestion yet");
      },
      { timeout: 30_000, interval: 100 },
    );
    const { client } = await httpClient(`${serve.url}/mcp`, readKey);
    try {
      const text = textOf(await client.callTool({ name: "get_gap", arguments: { id: gaps.wide } }));
      const section = text.slice(text.indexOf("## Changes kept as suggestions"));
      expect(section).toMatch(/### Suggestion \d+ \(over_scope, confidence [\d.]+\)/);
      expect(section).toMatch(/\*\*Files:\*\* .*`docs\/hourly\.md \(\w+\)`/);
      expect(section).toContain("outside the allowed paths");
      expect(section).toMatch(/```diff\n[\s\S]*\+\+\+ b\/docs\/hourly\.md/);
    } finally {
      await client.close();
    }
  });

  it("keeps a low-confidence answer as a suggestion, with the model's rationale", async () => {
    const gap = await vi.waitFor(
      async () => {
        const g = await getGap(gaps.unsure!);
        if (g.suggestions.length === 0) throw new Error("no suggestion yet");
        return g;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(gap.suggestions[0]).toMatchObject({
      reason: "low_confidence",
      details: { confidence: 0.3, rationale: "I could not see how hours are fetched upstream." },
    });
    expect(gap.suggestions[0].details.problems[0]).toContain("under the threshold 0.8");
    expect(gap.history.find((e: { action: string }) => e.action === "auto_draft_suggested").actor).toBe("autonomy");
    expect(gh.pulls(REPO).some((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.unsure}-`))).toBe(false);
  });

  it("a failing verification keeps the change local with its output; no secret in its environment; worktree removed", async () => {
    const gap = await vi.waitFor(
      async () => {
        const g = await getGap(gaps.checked!);
        // The detail reads history and suggestions one after the other: wait until it has both.
        if (
          g.suggestions.length === 0 ||
          !g.history.some((e: { action: string }) => e.action.startsWith("auto_draft_"))
        )
          throw new Error("no suggestion yet");
        return g;
      },
      { timeout: 30_000, interval: 100 },
    );
    const s = gap.suggestions[0];
    expect(s.reason).toBe("verification_failed");
    expect(s.details.verification).toMatchObject({ ok: false, exit_code: 3, timed_out: false });
    const output: string = s.details.verification.output;
    // The command ran, in a worktree with the change applied, and printed its environment.
    expect(output).toContain("CHANGE-APPLIED");
    expect(output).toContain("PATCHWORKMCP_VERIFY=1");
    expect(output).toMatch(/^PATH=/m);
    for (const leak of [
      "GITHUB_TOKEN",
      "GITHUB_API_URL",
      "ANTHROPIC",
      "OPENAI",
      "FEEDBACK_",
      "SOME_UNLISTED_SETTING",
      UNLISTED,
      OPENAI_KEY,
      gh.token,
      anthropic.apiKey,
      ADMIN,
    ])
      expect(output).not.toContain(leak);
    // The worktree is gone, the checkout untouched.
    const worktree = /^WORKTREE=(.+)$/m.exec(output)![1]!;
    expect(existsSync(worktree)).toBe(false);
    expect(gitIn(checkout, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(1);
    expect(gitIn(checkout, "status", "--porcelain")).toBe("");
    expect(gitIn(checkout, "branch", "--list").trim()).toBe("* main");
    const failed = gap.history.find((e: { action: string }) => e.action === "auto_draft_verification_failed");
    expect(failed).toMatchObject({ actor: "autonomy", details: { exit_code: 3 } });
    expect(gh.pulls(REPO).some((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.checked}-`))).toBe(false);
  });

  it("rolls an automatic draft back when its CI fails and the setting says so", async () => {
    const gap = await getGap(gaps.weather!);
    const draft = gap.drafts.find((d: { id: number }) => d.id === gap.open_draft_id);
    expect(gh.branches(REPO)).toContain(draft.branch);
    gh.setCi(draft.commit_sha, {
      checkRuns: [{ name: "test", status: "completed", conclusion: "failure" }],
      statuses: [],
    });
    const history = await vi.waitFor(
      async () => {
        const h = await historyOf(gaps.weather!);
        if (!h.some((e) => e.action === "auto_draft_rolled_back")) throw new Error("not rolled back yet");
        return h;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(history.find((e) => e.action === "auto_draft_rolled_back")).toMatchObject({
      actor: "autonomy",
      details: { reason: "ci_failed", pull_closed: true, branch_deleted: true },
    });
    expect(gh.pulls(REPO).find((p) => p.head === draft.branch)!.state).toBe("closed");
    expect(gh.branches(REPO)).not.toContain(draft.branch);
    expect((await getGap(gaps.weather!)).open_draft_id).toBeNull();
  });

  it("never drafts a gap twice nor past the daily cap, on every sidecar", async () => {
    // A marker server set now: once its suggestion exists, every sidecar has run full ticks
    // (servers go in name order) since the rollback, with weather's two gaps still eligible by count.
    expect((await putAutonomy("zz-marker", { level: "auto_draft", min_sessions: 3 })).status).toBe(200);
    await vi.waitFor(
      async () => {
        if ((await getGap(gaps["zz-marker"]!)).suggestions.length === 0) throw new Error("marker not reached");
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(gh.pulls(REPO).filter((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.weather}-`))).toHaveLength(1);
    expect(gh.pulls(REPO).filter((p) => p.head.startsWith(`patchworkmcp/gap-${gaps.weather2}-`))).toHaveLength(0);
    expect(changeSetRequests("weather")).toHaveLength(1);
    // Each guarded gap was asked once: kept as a suggestion once, not again at the same report count.
    for (const server of ["wide", "unsure", "checked"]) {
      expect(changeSetRequests(server), server).toHaveLength(1);
      expect((await getGap(gaps[server]!)).suggestions, server).toHaveLength(1);
    }
    expect((await getGap(gaps.weather2!)).history.some((e: { actor: string }) => e.actor === "autonomy")).toBe(false);
  });
});

describe("rollback", () => {
  it("closes a gap's draft PR and deletes its branch in one action", async () => {
    const res = await api(`/api/gaps/${gaps.handmade}/draft`, { method: "POST" });
    const done = (await readSse(res)).events.at(-1)!;
    expect(done.event, done.data).toBe("done");
    const made = JSON.parse(done.data);
    expect(gh.branches(REPO)).toContain(made.branch);
    expect((await getGap(gaps.handmade!)).open_draft_id).toBe(made.draft.id);

    expect((await api(`/api/gaps/${gaps.handmade}/draft/rollback`, { method: "POST", key: readKey })).status).toBe(403);
    const rolled = await api(`/api/gaps/${gaps.handmade}/draft/rollback`, { method: "POST" });
    expect(rolled.status).toBe(200);
    expect(await json(rolled)).toMatchObject({ draft_id: made.draft.id, pull_closed: true, branch_deleted: true });
    expect(gh.pulls(REPO).find((p) => p.head === made.branch)!.state).toBe("closed");
    expect(gh.branches(REPO)).not.toContain(made.branch);
    const gap = await getGap(gaps.handmade!);
    expect(gap.open_draft_id).toBeNull();
    expect(gap.history.find((e: { action: string }) => e.action === "draft_rolled_back")).toMatchObject({
      actor: "api-key",
      details: { draft_id: made.draft.id, reason: "manual" },
    });

    const again = await api(`/api/gaps/${gaps.handmade}/draft/rollback`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe("no_open_draft");
    const twice = await api(`/api/gaps/${gaps.handmade}/draft/rollback`, {
      method: "POST",
      body: JSON.stringify({ draft_id: made.draft.id }),
    });
    expect(twice.status).toBe(409);
    expect((await json(twice)).error.code).toBe("already_rolled_back");
  });

  it("the CLI rolls back a gap's open draft PR the same way", async () => {
    const res = await api(`/api/gaps/${gaps.handmade}/draft`, { method: "POST" });
    const done = (await readSse(res)).events.at(-1)!;
    expect(done.event, done.data).toBe("done");
    const made = JSON.parse(done.data);
    const env = { GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url };
    const rolled = await cliAsync(["autonomy", "rollback", String(gaps.handmade), "--db", dbPath], env);
    expect(rolled.code, rolled.err).toBe(0);
    expect(rolled.out).toContain(`Rolled back draft ${made.draft.id}`);
    expect(gh.pulls(REPO).find((p) => p.head === made.branch)!.state).toBe("closed");
    expect(gh.branches(REPO)).not.toContain(made.branch);
    expect((await getGap(gaps.handmade!)).open_draft_id).toBeNull();
    const again = await cliAsync(["autonomy", "rollback", String(gaps.handmade), "--db", dbPath], env);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain("no_open_draft");
  });

  it("answers bad rollback requests with a 4xx", async () => {
    expect((await api("/api/gaps/abc/draft/rollback", { method: "POST" })).status).toBe(400);
    const unknown = await api("/api/gaps/999999/draft/rollback", { method: "POST" });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe("gap_not_found");
    const badBody = await api(`/api/gaps/${gaps.handmade}/draft/rollback`, {
      method: "POST",
      body: JSON.stringify({ draft_id: "x" }),
    });
    expect(badBody.status).toBe(422);
    const noDraft = await api(`/api/gaps/${gaps.handmade}/draft/rollback`, {
      method: "POST",
      body: JSON.stringify({ draft_id: 424242 }),
    });
    expect(noDraft.status).toBe(404);
    expect((await json(noDraft)).error.code).toBe("draft_not_found");
  });
});
