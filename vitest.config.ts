import { defineConfig } from "vitest/config";

const EXCLUDE = ["**/node_modules/**", "**/.tools/**", "drop-ins/**/target/**"];
const PER_PROJECT = {
  // Tests start real servers and child processes: give them room on a 2-core machine.
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks",
} as const;

export default defineConfig({
  test: {
    maxWorkers: 2,
    fileParallelism: true,
    // The default summary for people, plus one plain "N passed, N failed" line for CI.
    reporters: ["default", "./test/helpers/closing-line-reporter.ts"],
    projects: [
      // Everything, on the default store (a SQLite file per test).
      {
        test: {
          name: "sqlite",
          include: ["test/**/*.test.ts", "drop-ins/**/*.test.ts"],
          exclude: [...EXCLUDE, "test/store/pg-*.test.ts"],
          ...PER_PROJECT,
        },
      },
      // The API, MCP, gaps and store (durability, several sidecars) suites again on PostgreSQL: one
      // server for the run (test/helpers/postgres-global.ts), a fresh database per test (testDbPath).
      {
        test: {
          name: "postgres",
          include: [
            "test/api/**/*.test.ts",
            "test/mcp/**/*.test.ts",
            "test/gaps/**/*.test.ts",
            "test/store/**/*.test.ts",
          ],
          exclude: EXCLUDE,
          env: { PATCHWORK_TEST_BACKEND: "postgres" },
          globalSetup: ["./test/helpers/postgres-global.ts"],
          ...PER_PROJECT,
        },
      },
    ],
  },
});
