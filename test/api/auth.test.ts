import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, validReport } from "../helpers/http.js";
import { CLI, startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";
import { KEY_PRESENCE_TTL_MS } from "../../src/store/auth-store.js";

const MASTER = "master-key-for-tests-0123456789";

function cli(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("FEEDBACK_API_KEY protects every /api route", () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe({ env: { FEEDBACK_API_KEY: MASTER } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("401s without or with a wrong key, on every route", async () => {
    const routes: [string, string, unknown?][] = [
      ["POST", "/api/feedback", validReport()],
      ["GET", "/api/feedback"],
      ["GET", "/api/feedback/1"],
      ["PATCH", "/api/feedback/1", { reviewed: true }],
      ["POST", "/api/feedback/1/notes", { body: "x" }],
      ["GET", "/api/stats"],
      ["GET", "/api/export?format=csv"],
    ];
    for (const [method, path, body] of routes) {
      for (const key of [undefined, "wrong-key", `${MASTER}x`]) {
        const res = await request(`${server.url}${path}`, { method, body, key });
        expect(res.status, `${method} ${path} key=${key}`).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
      }
    }
    const basic = await request(`${server.url}/api/feedback`, { headers: { authorization: `Basic ${MASTER}` } });
    expect(basic.status).toBe(401);
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
  });

  it("accepts the master key for everything", async () => {
    const created = await request(`${server.url}/api/feedback`, { body: validReport(), key: MASTER });
    expect(created.status).toBe(201);
    expect(
      (
        await request(`${server.url}/api/feedback/${created.body.id}`, {
          method: "PATCH",
          body: { status: "resolved" },
          key: MASTER,
        })
      ).status,
    ).toBe(200);
    expect((await request(`${server.url}/api/feedback`, { key: MASTER })).body.items).toHaveLength(1);
  });
});

describe("scoped keys from `patchworkmcp keys`", () => {
  let server: ServeProcess;
  const keys: Record<string, string> = {};
  let dbPath: string;

  beforeAll(async () => {
    dbPath = testDbPath();
    for (const scope of ["ingest", "read", "admin"]) {
      // The keys come before the first serve: the first one starts the database (--create), the others find it.
      const create = scope === "ingest" ? ["--create"] : [];
      keys[scope] = cli([
        "keys",
        "create",
        "--scope",
        scope,
        "--name",
        `${scope} key`,
        "--db",
        dbPath,
        ...create,
      ]).trim();
      expect(keys[scope]).toMatch(/^pwm_[0-9a-f]{12}_/);
    }
    // No master key: the existence of scoped keys alone turns auth on.
    server = await startServe({ dbPath });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("stores only hashes and lists keys without secrets", () => {
    const listing = cli(["keys", "list", "--db", dbPath]);
    expect(listing.split("\n").filter(Boolean)).toHaveLength(3);
    for (const key of Object.values(keys)) {
      const secret = key.slice("pwm_".length + 12 + 1);
      expect(secret.length).toBeGreaterThan(20);
      expect(listing).not.toContain(secret);
    }
  });

  it("lets each scope do exactly what it should", async () => {
    const post = (key: string) => request(`${server.url}/api/feedback`, { body: validReport(), key });
    const created = await post(keys.ingest!);
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    const readAsIngest = await request(`${server.url}/api/feedback`, { key: keys.ingest });
    expect(readAsIngest.status).toBe(403);
    expect(readAsIngest.body.error).toMatchObject({
      code: "forbidden",
      message: "This API key lacks the feedback:read scope.",
    });
    expect((await request(`${server.url}/api/stats`, { key: keys.ingest })).status).toBe(403);
    expect((await request(`${server.url}/api/export`, { key: keys.ingest })).status).toBe(403);

    expect((await request(`${server.url}/api/feedback/${id}`, { key: keys.read })).status).toBe(200);
    expect((await post(keys.read!)).status).toBe(201);
    const patchAsRead = await request(`${server.url}/api/feedback/${id}`, {
      method: "PATCH",
      body: { reviewed: true },
      key: keys.read,
    });
    expect(patchAsRead.status).toBe(403);
    expect(patchAsRead.body.error.message).toContain("feedback:admin");
    expect(
      (await request(`${server.url}/api/feedback/${id}/notes`, { body: { body: "x" }, key: keys.read })).status,
    ).toBe(403);

    expect(
      (
        await request(`${server.url}/api/feedback/${id}`, {
          method: "PATCH",
          body: { reviewed: true },
          key: keys.admin,
        })
      ).status,
    ).toBe(200);
    expect(
      (await request(`${server.url}/api/feedback/${id}/notes`, { body: { body: "ok" }, key: keys.admin })).status,
    ).toBe(201);
    expect((await request(`${server.url}/api/feedback`)).status).toBe(401);
  });

  it("stops accepting a revoked key", async () => {
    const id = keys.read!.slice(4, 16);
    cli(["keys", "revoke", id, "--db", dbPath]);
    const res = await request(`${server.url}/api/feedback`, { key: keys.read });
    expect(res.status).toBe(401);
  });
});

/** Run the CLI; resolves with exit code, stdout and stderr (no throw on failure). */
function cliRun(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, FEEDBACK_API_KEY: "" },
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the auth mode outlives the last key", () => {
  it("stays on after the last key is revoked until `keys auth off`, and logs every change", async () => {
    const dbPath = testDbPath();
    const settings = (url: string, key?: string) =>
      request(`${url}/api/settings`, { method: "PUT", body: { allowed_sensitive_paths: ["docs/**"] }, key });

    const created = cliRun(["keys", "create", "--scope", "admin", "--db", dbPath, "--create"]);
    expect(created.status).toBe(0);
    expect(created.stderr).toMatch(
      /authentication on for (?:.*feedback\.db|postgres:\/\/\S+): admin key [0-9a-f]{12} created/,
    );
    const key = created.stdout.trim();
    const keyId = key.slice(4, 16);

    let server = await startServe({ dbPath });
    try {
      expect(server.stderr()).toContain("auth on");
      expect((await settings(server.url)).status).toBe(401);
      expect((await settings(server.url, key)).status).toBe(200);

      const revoked = cliRun(["keys", "revoke", keyId, "--db", dbPath]);
      expect(revoked.status).toBe(0);
      expect(revoked.stderr).toContain("authentication stays on");
      // The running server sees the revoke at once, and the API stays closed.
      const afterRevoke = await settings(server.url);
      expect(afterRevoke.status).toBe(401);
      expect(afterRevoke.body.error.code).toBe("unauthorized");
      expect((await request(`${server.url}/api/feedback`)).status).toBe(401);
      expect((await settings(server.url, key)).status).toBe(401);
    } finally {
      await server.stop();
    }

    // A restart does not open it either, and says how to get back in.
    server = await startServe({ dbPath });
    try {
      expect(server.stderr()).toMatch(/authentication is on but no active key exists.*keys auth off/);
      expect((await settings(server.url)).status).toBe(401);

      // The local admin turns it off explicitly (refused while a key is active).
      const second = cliRun(["keys", "create", "--scope", "read", "--db", dbPath]).stdout.trim();
      const refused = cliRun(["keys", "auth", "off", "--db", dbPath]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/Active API keys exist.*Revoke them first/);
      expect((await settings(server.url)).status).toBe(401);
      expect(cliRun(["keys", "revoke", second.slice(4, 16), "--db", dbPath]).status).toBe(0);

      const off = cliRun(["keys", "auth", "off", "--db", dbPath]);
      expect(off.status).toBe(0);
      expect(off.stderr).toMatch(/authentication off for .*: turned off by an admin/);
      // Another process (the CLI) changed the mode: on PostgreSQL the sidecar sees it within
      // KEY_PRESENCE_TTL_MS (the lag is fail-closed: the sidecar stays locked meanwhile).
      const deadline = Date.now() + 3 * KEY_PRESENCE_TTL_MS;
      let status = (await settings(server.url)).status;
      while (status === 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await settings(server.url)).status;
      }
      expect(status).toBe(200);
    } finally {
      await server.stop();
    }

    // Every change is on record in the database.
    const status = cliRun(["keys", "auth", "status", "--db", dbPath]);
    const [head, ...history] = status.stdout.trim().split("\n");
    expect(head).toBe("auth off");
    expect(history.map((line) => line.split("\t").slice(1).join(" "))).toEqual([
      // (the second key changed nothing: auth was already on)
      `on admin key ${keyId} created`,
      "off turned off by an admin (keys auth off)",
    ]);
  });
});

describe("configured origins and hosts", () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe({
      args: ["--allowed-origins", "https://ok.example", "--allowed-hosts", "feedback.internal"],
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("echoes an allowed origin (never *), answers its preflight, and refuses others", async () => {
    const ok = await request(`${server.url}/api/feedback`, { headers: { origin: "https://ok.example" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://ok.example");
    const preflight = await fetch(`${server.url}/api/feedback`, {
      method: "OPTIONS",
      headers: { origin: "https://ok.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Idempotency-Key");
    const other = await request(`${server.url}/api/feedback`, { headers: { origin: "https://ok.example.evil" } });
    expect(other.status).toBe(403);
  });

  it("accepts an extra allowed Host name", async () => {
    const http = await import("node:http");
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: server.port, path: "/api/feedback", headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
    expect(await status(`feedback.internal:${server.port}`)).toBe(200);
    expect(await status("elsewhere.internal")).toBe(403);
  });
});

describe("binding beyond loopback", () => {
  it("warns loudly when there is no key", async () => {
    const server = await startServe({ args: ["--host", "0.0.0.0"] });
    try {
      expect(server.stderr()).toContain("WARNING: listening on 0.0.0.0 with NO API key");
    } finally {
      await server.stop();
    }
  });
});

describe("no key, no parsing", () => {
  it("answers 401 before reading a body, even a malformed one", async () => {
    const server = await startServe({ env: { FEEDBACK_API_KEY: MASTER } });
    try {
      const res = await request(`${server.url}/api/feedback`, {
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(401);
      const withKey = await request(`${server.url}/api/feedback`, {
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
        key: MASTER,
      });
      expect(withKey.status).toBe(400);
    } finally {
      await server.stop();
    }
  });
});
