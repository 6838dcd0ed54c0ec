/** `patchworkmcp gaps list|show|regroup` as a real child process on a real file. Requires `npm run build`. */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { CLI, testDbPath } from "../helpers/serve.js";

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, out, err })));
}

describe("gaps CLI", () => {
  it("lists by score, shows one gap, regroups, and escapes agent text on the terminal", async () => {
    const db = testDbPath("pwm-gaps-cli-");
    const store = FeedbackStore.open(db);
    const base = {
      server_name: "billing",
      gap_type: "missing_tool" as const,
      tools_available: [],
      what_i_tried: "looked",
    };
    const ids = store.insertMany([
      ...[1, 2, 3].map((i) => ({
        payload: {
          ...base,
          tool_name: "refunds",
          what_i_needed: `Refund part of a payment \u001b[31mred\u001b[0m ${i}`,
          session_id: `s${i}`,
        },
      })),
      { payload: { ...base, tool_name: "export", what_i_needed: "CSV export of customers" } },
    ]);
    store.close();
    const gapId = ids[0]!.gap_id!;

    const list = await run(["gaps", "list", "--db", db]);
    expect(list.code, list.err).toBe(0);
    const lines = list.out.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split("\t").slice(0, 4)).toEqual([`#${gapId}`, "3.00", "3 reports", "3 sessions"]);
    expect(list.out).not.toContain("\u001b");
    expect(list.out).toContain("\\u001b[31m");

    const json = await run(["gaps", "list", "--db", db, "--limit", "1"], { FEEDBACK_GAPS_JSON: "yes" });
    expect(JSON.parse(json.out)).toMatchObject([{ id: gapId, reports: 3 }]);
    const filtered = await run(["gaps", "list", "--db", db], { FEEDBACK_GAPS_TOOL: "export", FEEDBACK_GAPS_JSON: "1" });
    expect(JSON.parse(filtered.out).map((g: { tool_name: string }) => g.tool_name)).toEqual(["export"]);

    const show = await run(["gaps", "show", String(gapId), "--db", db]);
    expect(show.code, show.err).toBe(0);
    expect(show.out).toContain(`# Gap ${gapId}`);
    expect(show.out).toContain("half-life 14 days");
    expect(show.out).not.toContain("\u001b");
    const missing = await run(["gaps", "show", "999", "--db", db]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("there is no gap 999");

    const regroup = await run(["gaps", "regroup", "--db", db]);
    expect(regroup.code, regroup.err).toBe(0);
    expect(regroup.err).toMatch(/Grouped 4 reports into 2 gaps/);
  });
});
