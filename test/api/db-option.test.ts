/**
 * Defect 10: `--db` on the built CLI (real child processes of dist/src/cli.js).
 * `mcp` on a path that does not exist must refuse instead of creating an empty
 * database; a database URL this build cannot open must be an error on every
 * verb that takes `--db`, never a file of that name.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { seed, stdioClient, textOf } from "../mcp/helpers.js";
import { CLI, startServe, tempDir } from "../helpers/serve.js";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion with stdin closed, in `cwd`, without inheriting FEEDBACK_* settings. */
function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FEEDBACK_") && v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    // A verb that took the value for a file name would start serving: stop it so the test fails instead of hanging.
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every command path of the CLI whose help lists `--db`, with a placeholder for each required argument. */
async function verbsTakingDb(cwd: string, path: string[] = []): Promise<string[][]> {
  const help = (await cli([...path, "--help"], { cwd })).stdout;
  const found: string[][] = [];
  const commands = help.split("Commands:")[1];
  if (commands !== undefined) {
    for (const m of commands.matchAll(/^ {2}([a-z][\w-]*)/gm)) {
      if (m[1] !== "help") found.push(...(await verbsTakingDb(cwd, [...path, m[1]!])));
    }
  }
  if (/^\s+--db\b/m.test(help)) {
    const usage = /^Usage: \S+ (.*)$/m.exec(help)![1]!;
    const placeholders = [...usage.matchAll(/<[^>]+>/g)].map(() => "1");
    found.push([...path, ...placeholders]);
  }
  return found;
}

const UNOPENABLE = [
  "mysql://pwm:hunter2@db.example/feedback",
  "sqlserver://db.example/feedback",
  "sqlite://feedback.db",
  "redis://cache.example",
  "file:feedback.db?mode=ro",
  "file://db.example/feedback.db",
];

describe("mcp --db on a path that does not exist", () => {
  it("refuses on stderr with a non-zero exit, creating nothing (flag and env var)", async () => {
    const cwd = tempDir("pwm-db-");
    const missing = join(cwd, "typo", "feedbak.db");
    for (const run of [
      () => cli(["mcp", "--db", missing], { cwd }),
      () => cli(["mcp"], { cwd, env: { FEEDBACK_DB_PATH: missing } }),
      () => cli(["mcp"], { cwd }),
    ]) {
      const result = await run();
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/db_not_found: there is no database at .*feedb/);
      expect(result.stderr).toContain("--create");
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("refuses a directory", async () => {
    const cwd = tempDir("pwm-db-");
    const result = await cli(["mcp", "--db", cwd], { cwd });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("db_not_a_file");
  });

  it("creates it with --create or FEEDBACK_DB_CREATE=1, and then serves an empty store", async () => {
    for (const how of [{ args: ["--create"] }, { env: { FEEDBACK_DB_CREATE: "1" } }]) {
      const dbPath = join(tempDir("pwm-db-"), "new", "feedback.db");
      const session = await stdioClient({ dbPath, ...how });
      try {
        expect(textOf(await session.client.callTool({ name: "list_reports", arguments: {} }))).toContain(
          "No reports match.",
        );
      } finally {
        await session.close();
      }
      expect(existsSync(dbPath)).toBe(true);
    }
  });

  it("opens an existing file given as a path or a file:/// URL", async () => {
    const dbPath = join(tempDir("pwm-db-"), "feedback.db");
    seed(dbPath, 3);
    for (const db of [dbPath, pathToFileURL(dbPath).href]) {
      const session = await stdioClient({ dbPath: db });
      try {
        expect(textOf(await session.client.callTool({ name: "list_reports", arguments: {} }))).toContain("3 reports");
      } finally {
        await session.close();
      }
    }
  });
});

/** Verbs that create a database they are pointed at: they write reports, so a new file is a start, not a typo. */
const WRITERS = ["serve", "proxy"];
/** What a verb checks before it looks at --db: mandatory options, and draft's id (optional, since --gap can stand in). */
const REQUIRED: Record<string, string[]> = {
  "keys create": ["--scope", "read"],
  draft: ["1"],
  "autonomy set": ["--level", "draft"],
  "alerts destinations add": ["--kind", "webhook", "--url", "https://hooks.example/x"],
  "alerts rules add": ["--kind", "new_gap", "--destination", "1"],
};

/** Verbs whose arguments take only certain values: given instead of the "1" placeholders. */
const ARGUMENTS: Record<string, string[]> = {
  "privacy set": ["weather", "secrets"],
  "privacy default": ["secrets"],
};

describe("every verb that reads or administers a database, on a path that does not exist", () => {
  it("refuses with mcp's code and message, creating nothing, and offers --create only where it has it", async () => {
    const cwd = tempDir("pwm-db-");
    const verbs = (await verbsTakingDb(cwd)).filter((v) => !WRITERS.includes(v[0]!));
    for (const known of ["mcp", "draft", "keys create", "keys list", "keys revoke", "keys auth"])
      expect(verbs.map((v) => v.filter((a) => a !== "1").join(" "))).toContain(known);
    const missing = join(cwd, "typo", "feedbak.db");
    const results = await Promise.all(
      verbs.map(async (path) => {
        const verb = path.filter((a) => a !== "1").join(" ");
        const args = ARGUMENTS[verb]
          ? [...path.filter((a) => a !== "1"), ...ARGUMENTS[verb]]
          : [...path, ...(REQUIRED[verb] ?? [])];
        return {
          verb,
          hasCreate: /^\s+--create\b/m.test((await cli([...path, "--help"], { cwd })).stdout),
          byFlag: await cli([...args, "--db", missing], { cwd }),
          byEnv: await cli(args, { cwd, env: { FEEDBACK_DB_PATH: missing } }),
        };
      }),
    );
    for (const { verb, hasCreate, byFlag, byEnv } of results) {
      for (const result of [byFlag, byEnv]) {
        expect(result.code, verb).not.toBe(0);
        expect(result.stdout, verb).toBe("");
        expect(result.stderr, verb).toContain(
          `db_not_found: there is no database at ${missing}. Point --db (FEEDBACK_DB_PATH) at the file \`patchworkmcp serve\` writes`,
        );
        // The hint names --create exactly when the verb has it.
        expect(result.stderr.includes("--create"), verb).toBe(hasCreate);
      }
    }
    expect(results.filter((r) => r.hasCreate).map((r) => r.verb)).toEqual(
      expect.arrayContaining(["mcp", "keys create", "keys auth"]),
    );
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);

  it("keys create and keys auth start a new database with --create or FEEDBACK_DB_CREATE=1", async () => {
    const dir = tempDir("pwm-db-");
    const made = await cli(["keys", "create", "--scope", "read", "--db", join(dir, "a.db"), "--create"], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/\S/);
    const auth = await cli(["keys", "auth", "on", "--db", join(dir, "b.db")], {
      cwd: dir,
      env: { FEEDBACK_DB_CREATE: "1" },
    });
    expect(auth.code, auth.stderr).toBe(0);
    expect(auth.stdout).toContain("auth on");
    expect(existsSync(join(dir, "a.db")) && existsSync(join(dir, "b.db"))).toBe(true);
    // And the key is in the file: list reads it back without --create.
    const list = await cli(["keys", "list", "--db", join(dir, "a.db")], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("read");
  });

  it("serve creates the file and says so", async () => {
    const dbPath = join(tempDir("pwm-db-"), "fresh.db");
    const serve = await startServe({ dbPath });
    try {
      expect(existsSync(dbPath)).toBe(true);
      expect(serve.stderr()).toContain(`created a new, empty database at ${dbPath}`);
    } finally {
      await serve.stop();
    }
  });
});

describe("--db values this build cannot open", () => {
  it("are an error on every verb that takes --db, never a file of that name", async () => {
    const cwd = tempDir("pwm-db-");
    const verbs = await verbsTakingDb(cwd);
    // The verbs known today; a new verb with --db (gaps, …) joins the list by itself.
    for (const known of ["serve", "mcp", "draft", "keys create", "keys list", "keys revoke", "proxy"])
      expect(verbs.map((v) => v.filter((a) => a !== "1").join(" "))).toContain(known);
    // Every value on mcp by flag and by env var; two by flag and one by env var on every other verb.
    const runs: { what: string; run: () => Promise<Result> }[] = [];
    for (const verb of verbs) {
      const all = verb[0] === "mcp";
      for (const [i, db] of UNOPENABLE.entries()) {
        if (all || i < 2)
          runs.push({ what: `${verb.join(" ")} --db ${db}`, run: () => cli([...verb, "--db", db], { cwd }) });
        if (all || i === UNOPENABLE.length - 1)
          runs.push({
            what: `FEEDBACK_DB_PATH=${db} ${verb.join(" ")}`,
            run: () => cli(verb, { cwd, env: { FEEDBACK_DB_PATH: db, FEEDBACK_PROXY_DB: db } }),
          });
      }
    }
    for (let i = 0; i < runs.length; i += 4) {
      const batch = runs.slice(i, i + 4);
      const results = await Promise.all(batch.map((r) => r.run()));
      for (const [j, result] of results.entries()) {
        const what = batch[j]!.what;
        expect(result.code, what).not.toBe(0);
        expect(result.stderr, what).toContain("db_url_unsupported");
        expect(result.stderr, what).not.toContain("hunter2");
        expect(result.stdout, what).toBe("");
      }
    }
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);
});

describe("--db postgres://", () => {
  it("says the server cannot be reached, without the password, and creates no file", async () => {
    const cwd = tempDir("pwm-db-");
    for (const verb of [
      ["keys", "list"],
      ["gaps", "list"],
      ["serve", "--port", "0"],
    ]) {
      const result = await cli([...verb, "--db", "postgres://pwm:hunter2@127.0.0.1:1/feedback"], { cwd });
      expect(result.code, verb.join(" ")).not.toBe(0);
      expect(result.stderr, verb.join(" ")).toContain("db_unreachable: cannot open the PostgreSQL database");
      expect(result.stderr, verb.join(" ")).toContain("postgres://pwm:***@127.0.0.1:1/feedback");
      expect(result.stderr, verb.join(" ")).not.toContain("hunter2");
    }
    // FEEDBACK_DB_URL names the same database.
    const viaEnv = await cli(["keys", "list"], {
      cwd,
      env: { FEEDBACK_DB_URL: "postgres://pwm:hunter2@127.0.0.1:1/x" },
    });
    expect(viaEnv.stderr).toContain("db_unreachable");
    expect(viaEnv.stderr).not.toContain("hunter2");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("refuses a URL without a database name", async () => {
    const result = await cli(["keys", "list", "--db", "postgres://pwm:hunter2@127.0.0.1:5432/"], { cwd: tempDir() });
    expect(result.stderr).toContain("db_url_invalid");
    expect(result.stderr).not.toContain("hunter2");
  });
});
