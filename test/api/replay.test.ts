import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { formatUnsentLine } from "../../src/delivery/unsent.js";
import { request, validReport } from "../helpers/http.js";
import { CLI, startServe, tempDir, type ServeProcess } from "../helpers/serve.js";

let server: ServeProcess;
beforeAll(async () => {
  server = await startServe({ env: { FEEDBACK_API_KEY: "replay-key-123456" } });
});
afterAll(async () => {
  await server?.stop();
});

function replay(file: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, "replay", file, "--sidecar-url", server.url], {
    encoding: "utf8",
    env: { ...process.env, FEEDBACK_API_KEY: "replay-key-123456", ...env },
  });
}

it("re-sends every unsent line of a log exactly once, however often it is replayed", async () => {
  const file = join(tempDir(), "server.log");
  writeFileSync(
    file,
    [
      "2026-11-22 INFO starting server",
      formatUnsentLine(validReport({ session_id: "replay-a", idempotency_key: "drop-in-key-1" })),
      `2026-11-22 WARN feedback_tool: ${formatUnsentLine(validReport({ session_id: "replay-b", tools_available: "x,y" }))}`,
      "PATCHWORKMCP_UNSENT_FEEDBACK {not json",
      formatUnsentLine(validReport({ session_id: "replay-c", gap_type: "not-a-gap" })),
      "",
    ].join("\n"),
  );
  const first = replay(file);
  expect(first.stdout).toBe("");
  expect(first.stderr).toContain("line 2: delivered as report");
  expect(first.stderr).toContain("line 3: delivered as report");
  expect(first.stderr).toContain("line 4: skipped, the text after the marker is not valid JSON");
  expect(first.stderr).toMatch(/line 5: NOT delivered, sidecar answered 422: .*gap_type/);
  expect(first.stderr).toContain("replay: 2 delivered, 1 failed, 1 unreadable, of 4 lines found");
  expect(first.status).toBe(1);

  const second = replay(file);
  expect(second.stderr).toContain("(already recorded)");
  for (const session of ["replay-a", "replay-b"]) {
    const list = await request(`${server.url}/api/feedback?session_id=${session}`, { key: "replay-key-123456" });
    expect(list.body.items).toHaveLength(1);
  }
  const b = await request(`${server.url}/api/feedback?session_id=replay-b`, { key: "replay-key-123456" });
  expect(b.body.items[0].tools_available).toEqual(["x", "y"]);
});

it("says so when the key is wrong, and exits non-zero", () => {
  const file = join(tempDir(), "one.log");
  writeFileSync(file, `${formatUnsentLine(validReport())}\n`);
  const res = replay(file, { FEEDBACK_API_KEY: "wrong" });
  expect(res.stderr).toMatch(/NOT delivered, sidecar answered 401/);
  expect(res.status).toBe(1);
});
