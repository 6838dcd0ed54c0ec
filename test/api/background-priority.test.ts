/**
 * serve's background threads step back for ingestion: on Linux the grouping worker's and the
 * alert engine's threads (and no other) of a real `serve` process run at --background-nice, read
 * from /proc/<pid>/task/<tid>/stat, and they still group what arrives and fire a rule on it.
 * niceThisThread itself runs in a real worker thread.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_BACKGROUND_NICE, niceThisThread } from "../../src/net/thread-priority.js";
import { startHttpReceiver } from "../helpers/alert-receivers.js";
import { CLI, onPostgres, REPO_ROOT, type ServeProcess, startServe, tempDir } from "../helpers/serve.js";

const linux = process.platform === "linux";

/** Each thread's nice value (field 19 of its stat line), by thread id. */
function niceByThread(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

const niced = (pid: number): number[] => [...niceByThread(pid).values()].filter((n) => n !== 0);

/**
 * The threads at `nice`: the grouping worker's and the alert engine's, and on PostgreSQL also
 * each one's connection thread (src/store/sql/pg-sync.ts), which it starts and which inherits its
 * priority.
 */
const backgroundThreads = (nice: number): number[] => Array(onPostgres() ? 4 : 2).fill(nice);

const post = (url: string, n: number) =>
  fetch(`${url}/api/feedback`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      server_name: "priority-server",
      what_i_needed: `export the audit log as CSV (${n})`,
      what_i_tried: "called list_events, which only returns JSON",
      gap_type: "missing_tool",
    }),
  });

describe.skipIf(!linux)("niceThisThread", () => {
  it("lowers the calling thread only", async () => {
    const own = niceByThread(process.pid).get(process.pid);
    const code = `
      const { parentPort } = require("node:worker_threads");
      import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist/src/net/thread-priority.js")).href)})
        .then((m) => {
          const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
          parentPort.postMessage({ tid, why: m.niceThisThread(13) ?? null });
          setTimeout(() => {}, 2000);
        }, (err) => parentPort.postMessage({ error: String(err) }));`;
    // The built module, as serve's own workers load it (src/net/worker-entry.ts says why).
    const worker = new Worker(code, { eval: true });
    try {
      const m = await new Promise<{ tid?: number; why?: string | null; error?: string }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(m.error).toBeUndefined();
      expect(m.why).toBeNull();
      const threads = niceByThread(process.pid);
      expect(threads.get(m.tid!)).toBe(13);
      expect(threads.get(process.pid)).toBe(own);
    } finally {
      await worker.terminate();
    }
  });

  it("refuses a value outside 0-19", () => {
    for (const bad of [-1, 20, 1.5, Number.NaN]) expect(() => niceThisThread(bad)).toThrow(/whole number from 0 to 19/);
  });
});

describe.skipIf(!linux)("serve --background-nice", () => {
  let serve: ServeProcess | undefined;
  afterEach(async () => {
    await serve?.stop();
    serve = undefined;
  });

  it("runs the grouping and alert threads, and no other of serve's, at the default nice value, and they still work", async () => {
    serve = await startServe({ args: ["--alert-interval", "50"] });
    const pid = serve.proc.pid!;
    await expect.poll(() => niced(pid), { timeout: 10_000 }).toEqual(backgroundThreads(DEFAULT_BACKGROUND_NICE));
    const receiver = await startHttpReceiver();
    try {
      const api = (path: string, body: unknown) =>
        fetch(`${serve!.url}/api/alerts${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const dest = await api("/destinations", { kind: "webhook", url: receiver.url, name: "ops" });
      expect(dest.status).toBe(201);
      const { destination } = (await dest.json()) as { destination: { id: number } };
      const rule = await api("/rules", {
        kind: "new_gap",
        destination_id: destination.id,
        server_name: "priority-server",
      });
      expect(rule.status).toBe(201);
      for (let i = 0; i < 3; i++) expect((await post(serve.url, i)).status).toBe(201);
      await expect
        .poll(
          async () => {
            const body = (await (await fetch(`${serve!.url}/api/gaps?server_name=priority-server`)).json()) as {
              items: { reports: number }[];
            };
            return body.items.map((g) => g.reports);
          },
          { timeout: 20_000, interval: 100 },
        )
        .toEqual([3]);
      // The rule was evaluated on the engine's thread and the delivery sent from the main one.
      const [got] = await receiver.waitFor(1);
      expect(got!.json).toMatchObject({ type: "new_gap", summary: "New gap on priority-server" });
    } finally {
      await receiver.close();
    }
    expect(serve.stderr()).not.toContain("at normal priority");
  });

  it("takes the value from PATCHWORKMCP_BACKGROUND_NICE, and 0 leaves every thread as it was", async () => {
    serve = await startServe({ env: { PATCHWORKMCP_BACKGROUND_NICE: "17" } });
    await expect.poll(() => niced(serve!.proc.pid!), { timeout: 10_000 }).toEqual(backgroundThreads(17));
    await serve.stop();
    serve = await startServe({ args: ["--background-nice", "0"] });
    // The worker has started once it has reported where the watermark is (a report goes through it).
    expect((await post(serve.url, 0)).status).toBe(201);
    const health = async () =>
      ((await (await fetch(`${serve!.url}/healthz`)).json()) as { grouping: { pending: number } }).grouping.pending;
    await expect.poll(health, { timeout: 20_000, interval: 100 }).toBe(0);
    expect(niced(serve.proc.pid!)).toEqual([]);
  });

  it("refuses a value outside 0-19 with a sentence naming the flag", () => {
    const dir = tempDir();
    for (const bad of ["20", "-1", "low"]) {
      const run = spawnSync(
        process.execPath,
        [CLI, "serve", "--port", "0", "--db", `${dir}/f.db`, "--background-nice", bad],
        {
          encoding: "utf8",
          timeout: 30_000,
        },
      );
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("--background-nice must be a whole number from 0 to 19");
    }
  });
});
