/**
 * npm run bench:alerts — what alert rules cost ingestion.
 *
 * 1. The engine's cost per ingested report: a SQLite file with BENCH_ALERT_REPORTS reports
 *    (default 20,000, grouped inline, 20 servers, sessions reused) is evaluated from the start by
 *    AlertEngine.step() with 20 rules configured (new_gap, sessions, regression, blocked_share
 *    and digest, per server and for all), then with none: µs per report, and deliveries queued.
 *    Nothing is sent (the engine only queues; the queue's sender is not started here).
 * 2. POST /api/feedback against a real `serve` with no rules, then against a fresh one with the
 *    same 20 rules (their destination a loopback receiver answering 200), in one run,
 *    BENCH_SECONDS each (default 10), alternated, each run starting once both sidecars' grouping
 *    has caught up: req/s both ways, at each of BENCH_POST_CONNECTIONS (default 10, then 50;
 *    bench/connections.ts says why both).
 * The machine's load average is printed before and after: the figures are only comparable on
 * an otherwise quiet machine.
 */
import autocannon from "autocannon";
import { loadavg } from "node:os";
import { join } from "node:path";
import { AlertEngine, AlertService, ruleInputSchema } from "../src/alerts/index.js";
import { alertStore, FeedbackStore } from "../src/store/index.js";
import { startHttpReceiver } from "../test/helpers/alert-receivers.js";
import { startServe, tempDir } from "../test/helpers/serve.js";
import { postConnections } from "./connections.js";
import { diskLine } from "./disk.js";
import { syntheticReport } from "./seed.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const reports = Number(process.env.BENCH_ALERT_REPORTS ?? 20_000);
const LIMITS = {
  FEEDBACK_RATE_LIMIT: "1000000",
  FEEDBACK_RATE_LIMIT_BURST: "1000000",
  FEEDBACK_MAX_BYTES_PER_SERVER_DAY: "1000gb",
};

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** The 20 rules: 4 of each kind, half for one server and half for every server. */
function twentyRules(destination_id: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 4; i++) {
    const server_name = i % 2 === 0 ? `server-${i}` : null;
    out.push({ kind: "new_gap", destination_id, server_name });
    out.push({ kind: "sessions", destination_id, server_name, threshold: 3 + i, window: "24h" });
    out.push({ kind: "regression", destination_id, server_name });
    out.push({ kind: "blocked_share", destination_id, server_name, threshold: 30 + 10 * i, min_reports: 3 });
    out.push({ kind: "digest", destination_id, server_name, window: i < 2 ? "daily" : "weekly" });
  }
  return out;
}

function engineCost(dir: string, withRules: boolean): { us: number; queued: number } {
  const store = FeedbackStore.open(join(dir, `engine-${withRules ? "rules" : "none"}.db`));
  try {
    for (let n = 0; n < reports; n += 2000) {
      const items = [];
      for (let i = n; i < Math.min(n + 2000, reports); i++)
        items.push({ payload: { ...syntheticReport(i), session_id: `session-${i % 500}` } });
      store.insertMany(items);
    }
    if (withRules) {
      const service = new AlertService(store, { publicUrl: "http://localhost:8099" });
      const { destination } = service.addDestination({ kind: "webhook", url: "http://127.0.0.1:9/hook", name: null });
      for (const r of twentyRules(destination.id)) service.addRule(ruleInputSchema.parse(r));
    }
    // Evaluate everything stored, from the start.
    alertStore(store).setState(0, 0);
    const engine = new AlertEngine(store, { publicUrl: "http://localhost:8099" });
    let queued = 0;
    let done = 0;
    const t0 = performance.now();
    for (;;) {
      const r = engine.step();
      queued += r.queued;
      done += r.reports;
      if (!r.more) break;
    }
    const ms = performance.now() - t0;
    return { us: (ms * 1000) / Math.max(1, done), queued };
  } finally {
    store.close();
  }
}

/**
 * Wait until a sidecar's grouping worker has assigned every stored report (GET /healthz), so a
 * run never shares the CPU with the previous run's catch-up (one core does the grouping).
 */
async function settled(url: string): Promise<void> {
  for (;;) {
    const h = (await (await fetch(`${url}/healthz`)).json()) as { grouping: { pending: number } };
    if (h.grouping.pending === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, title: string, connections: number): Promise<number> {
  const result = await autocannon({
    url: `${url}/api/feedback`,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(syntheticReport(1)),
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${title}: ${Math.round(result.requests.average)} POST/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms (${result.requests.total} requests, ${bad} errors/non-2xx)`,
  );
  return result.requests.average;
}

async function main(): Promise<void> {
  const dir = tempDir("pwm-bench-alerts-");
  console.log(`bench:alerts — ${reports} reports for the engine, ${seconds}s per POST run; load average ${load()}`);
  console.log(diskLine(dir));
  const withRules = engineCost(dir, true);
  const without = engineCost(dir, false);
  console.log(
    `rule evaluation: ${withRules.us.toFixed(2)} µs/report with 20 rules (${withRules.queued} deliveries queued), ` +
      `${without.us.toFixed(2)} µs/report with none`,
  );

  const receiver = await startHttpReceiver();
  const plain = await startServe({ dbPath: join(dir, "post-none.db"), env: LIMITS });
  const ruled = await startServe({ dbPath: join(dir, "post-rules.db"), env: LIMITS });
  const dest = await fetch(`${ruled.url}/api/alerts/destinations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "webhook", url: receiver.url }),
  }).then((r) => r.json() as Promise<{ destination: { id: number } }>);
  for (const r of twentyRules(dest.destination.id)) {
    const res = await fetch(`${ruled.url}/api/alerts/rules`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(r),
    });
    if (res.status !== 201) throw new Error(`rule refused: ${await res.text()}`);
  }
  // Alternated (none, rules, none, rules) so a machine getting busier or quieter skews both alike.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summaries: string[] = [];
  for (const c of postConnections()) {
    const none: number[] = [];
    const twenty: number[] = [];
    for (let round = 1; round <= 2; round++) {
      await Promise.all([settled(plain.url), settled(ruled.url)]);
      none.push(await post(plain.url, `POST /api/feedback, no rules, ${c} connections (round ${round})`, c));
      await Promise.all([settled(plain.url), settled(ruled.url)]);
      twenty.push(await post(ruled.url, `POST /api/feedback, 20 rules, ${c} connections (round ${round})`, c));
    }
    summaries.push(
      `${c} connections, with 20 rules: ${Math.round(mean(twenty))} POST/s vs ${Math.round(mean(none))} without ` +
        `(${((mean(twenty) / mean(none) - 1) * 100).toFixed(1)}%)`,
    );
  }
  await plain.stop();
  await ruled.stop();
  await receiver.close();
  for (const line of summaries) console.log(line);
  console.log(diskLine(dir, "disk after the POST runs"));
  console.log(`${receiver.received.length} alerts delivered; load average ${load()}`);
}

await main();
