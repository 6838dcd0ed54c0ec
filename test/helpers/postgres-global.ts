/**
 * vitest globalSetup of the `postgres` project (vitest.config.ts), or of any run with
 * PATCHWORK_TEST_BACKEND=postgres: start ONE PostgreSQL server for the run, hand its base URL
 * to the test files (provide("patchworkPgUrl"), read by testDatabase(); a script outside vitest
 * can name one with PATCHWORK_TEST_PG_URL) and stop it at teardown. For a project on another backend it does nothing.
 */
import type { TestProject } from "vitest/node";
import { type PostgresServer, startPostgres, testBackend } from "./postgres.js";

let server: PostgresServer | undefined;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (testBackend({ ...process.env, ...project.config.env }) !== "postgres") {
    project.provide("patchworkPgUrl", "");
    return undefined;
  }
  server = await startPostgres();
  project.provide("patchworkPgUrl", server.baseUrl);
  // Not in process.env: the sqlite project's workers would inherit it. Workers read provide().
  return async () => {
    await server?.stop();
    server = undefined;
  };
}
