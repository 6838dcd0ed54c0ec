/**
 * vitest globalSetup of the `postgres` project (vitest.config.ts), or of any run with
 * PATCHWORK_TEST_BACKEND=postgres: start ONE PostgreSQL server for the run, hand its base URL
 * to the test files (provide("patchworkPgUrl") and PATCHWORK_TEST_PG_URL, both read by
 * testDatabase()) and stop it at teardown. For a project on another backend it does nothing.
 */
import type { TestProject } from "vitest/node";
import { PG_URL_ENV, type PostgresServer, startPostgres, testBackend } from "./postgres.js";

let server: PostgresServer | undefined;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (testBackend({ ...process.env, ...project.config.env }) !== "postgres") {
    project.provide("patchworkPgUrl", "");
    return undefined;
  }
  server = await startPostgres();
  project.provide("patchworkPgUrl", server.baseUrl);
  // Also for processes that are not vitest workers (children the tests spawn, scripts).
  process.env[PG_URL_ENV] = server.baseUrl;
  return async () => {
    delete process.env[PG_URL_ENV];
    await server?.stop();
    server = undefined;
  };
}
