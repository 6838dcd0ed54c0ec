import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { request, validReport } from "../helpers/http.js";
import { CLI, startServe, tempDir } from "../helpers/serve.js";

it("shuts down gracefully on SIGTERM and SIGINT", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const server = await startServe();
    expect((await request(`${server.url}/api/feedback`, { body: validReport() })).status).toBe(201);
    server.proc.kill(signal);
    const code = await new Promise<number | null>((r) => server.proc.once("exit", (c) => r(c)));
    expect(code).toBe(0);
    expect(server.stderr()).toContain(`${signal} received, shutting down`);
  }
});

it("takes its settings from env vars as well as flags", async () => {
  const dbPath = join(tempDir(), "nested", "dir", "from-env.db");
  // FEEDBACK_DB_PATH applies when --db is not given, FEEDBACK_DB_CREATE when --create is not.
  const res = spawnSync(process.execPath, [CLI, "keys", "create", "--scope", "read"], {
    env: { ...process.env, FEEDBACK_DB_PATH: dbPath, FEEDBACK_DB_CREATE: "1" },
    encoding: "utf8",
  });
  expect(res.status).toBe(0);
  expect(existsSync(dbPath)).toBe(true);
});

it("explains a bad flag instead of crashing", () => {
  const res = spawnSync(process.execPath, [CLI, "serve", "--port", "99999"], { encoding: "utf8" });
  expect(res.status).not.toBe(0);
  expect(res.stderr).toContain('"99999" is not a port number');
  expect(res.stdout).toBe("");
});
