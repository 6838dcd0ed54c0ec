import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "drop-ins/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.tools/**", "drop-ins/**/target/**"],
    // Tests start real servers and child processes: give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One PostgreSQL server for the run when PATCHWORK_TEST_BACKEND=postgres (else a no-op).
    globalSetup: ["./test/helpers/postgres-global.ts"],
    maxWorkers: 2,
    fileParallelism: true,
    // The default summary for people, plus one plain "N passed, N failed" line for CI.
    reporters: ["default", "./test/helpers/closing-line-reporter.ts"],
  },
});
