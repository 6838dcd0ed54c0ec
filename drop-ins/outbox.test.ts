/**
 * One outbox, many writers: the proxy (in this process, proxy/outbox.ts) and the
 * TypeScript and Python drop-ins (child processes) append to the same file at the
 * same time while the proxy removes entries it delivered. Every line must stay a
 * whole `PATCHWORKMCP_UNSENT_FEEDBACK {json}` entry, and no entry may be lost or
 * duplicated: the drop-ins take the proxy's lock and rewrite the file the same way.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Outbox } from "../proxy/outbox.js";
import { parseUnsentLines } from "../src/delivery/unsent.js";
import { tempDir } from "../test/helpers/serve.js";
import { run } from "./harness.js";

const here = import.meta.dirname;
const PER_WRITER = 25;
// Port 9 (discard) has no listener on loopback: every send is refused at once, so each report is kept.
const DEAD = "http://127.0.0.1:9";

const tsWriter = (outbox: string, tag: string) => `
import { deliverFeedback } from "./feedback-tool.js";
for (let i = 0; i < ${PER_WRITER}; i++) {
  const r = await deliverFeedback(
    { what_i_needed: "x", what_i_tried: "y", gap_type: "other", session_id: "${tag}-" + i },
    { sidecarUrl: "${DEAD}", retries: 0, outboxPath: ${JSON.stringify(outbox)}, outboxRetryMs: 3_600_000 },
  );
  if (!r.unsent || r.outbox !== ${JSON.stringify(outbox)}) throw new Error(JSON.stringify(r));
}
`;

const pyWriter = (outbox: string, tag: string) => `
import feedback_tool as ft
o = ft.FeedbackOptions(sidecar_url="${DEAD}", retries=0, outbox_path=${JSON.stringify(outbox)}, outbox_retry=3600)
for i in range(${PER_WRITER}):
    r = ft.deliver_feedback_sync({"what_i_needed": "x", "what_i_tried": "y", "gap_type": "other", "session_id": f"${tag}-{i}"}, o)
    assert r.unsent and r.outbox == ${JSON.stringify(outbox)}, r
`;

describe("the outbox shared by the proxy and the drop-ins", () => {
  it("keeps every entry whole and exactly once under concurrent appends and removals", async () => {
    const outbox = join(tempDir("pwm-outbox-"), "nested", "outbox.log");
    const proxy = new Outbox(outbox);
    const writers = Promise.all([
      run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", tsWriter(outbox, "ts-a")], {
        cwd: join(here, "typescript"),
      }),
      run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", tsWriter(outbox, "ts-b")], {
        cwd: join(here, "typescript"),
      }),
      run(join(here, "python", ".venv", "bin", "python"), ["-c", pyWriter(outbox, "py")], {
        cwd: join(here, "python"),
      }),
    ]);
    let done = false;
    void writers.finally(() => {
      done = true;
    });
    // While the drop-ins write, the proxy appends its own and removes every other one (a delivery):
    // each removal rewrites the file, so an append the lock did not hold off would be lost.
    const kept: string[] = [];
    for (let i = 0; !done || i < 4; i++) {
      const key = randomUUID();
      await proxy.append({
        payload: { what_i_needed: "x", what_i_tried: "y", gap_type: "other", session_id: `proxy-${i}` },
        idempotencyKey: key,
      });
      if (i % 2 === 1) await proxy.remove(new Set([key]));
      else kept.push(`proxy-${i}`);
      // Pace the proxy like a busy one rather than a tight loop (which would starve the other
      // writers of the lock until they fall back to stderr), and let the event loop see the children.
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const result of await writers) expect(result.code, result.stderr).toBe(0);

    const text = readFileSync(outbox, "utf8");
    const { entries, errors } = parseUnsentLines(text);
    expect(errors).toEqual([]);
    expect(
      text
        .split("\n")
        .filter((l) => l !== "")
        .every((l) => l.startsWith("PATCHWORKMCP_UNSENT_FEEDBACK {")),
    ).toBe(true);
    const sessions = entries.map((e) => e.payload.session_id as string).sort();
    const want = [
      ...["ts-a", "ts-b", "py"].flatMap((tag) => Array.from({ length: PER_WRITER }, (_, i) => `${tag}-${i}`)),
      ...kept,
    ].sort();
    expect(sessions).toEqual(want);
    expect(new Set(entries.map((e) => e.idempotencyKey)).size).toBe(entries.length);
  }, 120_000);
});
