/**
 * npm run bench:calls — tool-call analytics ingestion (issue 18).
 *
 * Section "sidecar":
 * 1. POST /api/calls against a real `serve` child, batches of BENCH_BATCH (default 1000) call
 *    events, BENCH_CONNECTIONS (default 4) connections for BENCH_SECONDS (default 10): call
 *    events stored per second, requests/s, p50/p99 per batch.
 * 2. The store alone: `callsStore(store).insertCalls` of already-validated batches on a fresh
 *    database, in one process: events/s; and what validating a batch with the contract's zod
 *    schema costs (the route's other per-event work).
 *
 * BENCH_DB=postgres runs both against PostgreSQL (a private server, or BENCH_PG_URL) instead of
 * a temporary SQLite file. Each section is one entry of SECTIONS below, run in order, so another
 * section (the proxy with analytics on and off) is one more function.
 */
import autocannon from "autocannon";
import { join } from "node:path";
import { type CallBatch, type CallEventInput, callBatchSchema, CALL_OUTCOMES } from "../src/analytics/index.js";
import { callsStore, FeedbackStore } from "../src/store/index.js";
import { startServe, tempDir } from "../test/helpers/serve.js";
import { benchBackend, benchPostgres, type BenchPg } from "./pg-load.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const batchSize = Number(process.env.BENCH_BATCH ?? 1000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 4);
const backend = benchBackend();

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Events made so far: each starts 0.1 ms after the one before, from an hour ago, as a fleet's calls arrive. */
let made = 0;
const clockStart = Date.now() - 3_600_000;

/** A realistic event mix: 20 tools on 3 servers, 4 clients, 5% errors and 2% isError, 1-2000 ms. */
function syntheticEvents(n: number): CallEventInput[] {
  return Array.from({ length: n }, () => {
    const i = made++;
    const r = (i * 2654435761) % 1000;
    return {
      server_name: `server-${i % 3}`,
      server_version: "1.4.2",
      tool_name: `tool_${i % 20}`,
      started_at: new Date(clockStart + i / 10).toISOString(),
      duration_ms: 1 + ((r * 7) % 2000),
      outcome: r < 50 ? CALL_OUTCOMES[1] : r < 70 ? CALL_OUTCOMES[2] : CALL_OUTCOMES[0],
      error_code: r < 50 ? -32603 : null,
      client_name: ["claude-code", "cursor", "claude-desktop", "vscode"][i % 4]!,
      client_version: "1.0.0",
      protocol_version: "2025-11-25",
      session_id: `session-${i % 500}`,
      request_bytes: 200 + (r % 300),
      response_bytes: 1000 + r * 3,
    };
  });
}

interface Target {
  /** --db for serve and the store. */
  db(): Promise<string>;
  readonly label: string;
}

async function sidecarSection(target: Target): Promise<void> {
  console.log(`## sidecar: POST /api/calls and the store (${target.label}, batches of ${batchSize})`);
  // 1. Over HTTP, against a real serve child.
  const server = await startServe({ dbPath: await target.db() });
  try {
    // Fresh events for every request (start times move forward, as live traffic's do).
    const result = await autocannon({
      url: `${server.url}/api/calls`,
      connections,
      duration: seconds,
      method: "POST",
      headers: { "content-type": "application/json" },
      requests: [
        {
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ calls: syntheticEvents(batchSize) }) }),
        },
      ],
    });
    const ok = result["2xx"];
    const bad = result.non2xx + result.errors + result.timeouts;
    const perSecond = ok / (result.duration || seconds);
    console.log(
      `POST /api/calls (${connections} connections): ${fmt(perSecond * batchSize)} call events/s ` +
        `(${fmt(perSecond)} batches/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms per batch; ` +
        `${fmt(ok * batchSize)} events stored, ${bad} errors/non-2xx)`,
    );
  } finally {
    await server.stop();
  }

  // 2. The store alone: only insertCalls is timed (making and validating the batches is not).
  const store = FeedbackStore.open(await target.db());
  try {
    const calls = callsStore(store);
    calls.insertCalls(callBatchSchema.parse({ calls: syntheticEvents(batchSize) })); // statements prepared
    let events = 0;
    let spent = 0;
    const budget = Math.min(seconds, 5) * 1000;
    while (spent < budget) {
      const batch: CallBatch = callBatchSchema.parse({ calls: syntheticEvents(batchSize) });
      const t0 = performance.now();
      events += calls.insertCalls(batch).calls;
      spent += performance.now() - t0;
    }
    const s = spent / 1000;
    console.log(
      `store insertCalls alone: ${fmt(events / s)} call events/s (${fmt(events)} events in ${s.toFixed(1)} s)`,
    );
  } finally {
    store.close();
  }
  const raw = Array.from({ length: 20 }, () => ({ calls: syntheticEvents(batchSize) }));
  for (const b of raw) callBatchSchema.parse(b); // warm
  let parsed = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < 2000) {
    callBatchSchema.parse(raw[parsed % raw.length]);
    parsed++;
  }
  const ms = (performance.now() - t1) / parsed;
  console.log(
    `callBatchSchema.parse: ${ms.toFixed(2)} ms per batch of ${batchSize} (${fmt((batchSize * 1000) / ms)} events/s)`,
  );
}

/** The bench's sections, in order (the proxy's analytics on/off comparison is added here as one more). */
const SECTIONS: { name: string; run(target: Target): Promise<void> }[] = [{ name: "sidecar", run: sidecarSection }];

async function main(): Promise<void> {
  let pg: BenchPg | undefined;
  let target: Target;
  if (backend === "postgres") {
    pg = await benchPostgres();
    target = { db: () => pg!.newDatabase(), label: `PostgreSQL, ${pg.where}` };
  } else {
    let n = 0;
    const dir = tempDir("pwm-bench-calls-");
    target = { db: async () => join(dir, `calls-${n++}.db`), label: "SQLite, WAL" };
  }
  const only = process.env.BENCH_SECTIONS?.split(",").filter(Boolean);
  try {
    for (const section of SECTIONS) if (!only || only.includes(section.name)) await section.run(target);
  } finally {
    await pg?.stop();
  }
}

await main();
