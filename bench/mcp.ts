/**
 * npm run bench:mcp — MCP tool calls over streamable HTTP against a real
 * `serve` child process holding 100k reports (needs `npm run build`).
 *
 * Each of BENCH_CONCURRENCY sessions (default 8) sends raw JSON-RPC
 * `tools/call` POSTs back to back for BENCH_SECONDS (default 10) per run:
 *   1. list_reports {server_name, limit 50}
 *   2. list_reports {gap_type, resolution, limit 50} (two filters)
 *   3. list_reports {query: "<word>", limit 20} (full-text)
 *   4. get_report {id: random}
 * and prints calls/s with client-side p50/p99 latency.
 *
 * Env: BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_ROWS (default 100000).
 */
import { join } from "node:path";
import { FeedbackStore } from "../src/store/index.js";
import { startServe, tempDir } from "../test/helpers/serve.js";
import { seedTo } from "./seed.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const rows = Number(process.env.BENCH_ROWS ?? 100_000);

const HEADERS = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "MCP-Protocol-Version": "2025-06-18",
};

/** The JSON-RPC message in a response: plain JSON, or the data line of an SSE event. */
function message(contentType: string | null, text: string): { result?: { isError?: boolean }; error?: unknown } {
  if (contentType?.includes("text/event-stream")) {
    const line = text.split("\n").find((l) => l.startsWith("data: ") && l.length > 6);
    if (!line) throw new Error(`no data event in: ${text.slice(0, 200)}`);
    return JSON.parse(line.slice(6)) as { result?: { isError?: boolean } };
  }
  return JSON.parse(text) as { result?: { isError?: boolean } };
}

async function openSession(url: string): Promise<string> {
  const init = await fetch(url, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
    }),
  });
  await init.text();
  const session = init.headers.get("mcp-session-id");
  if (!init.ok || !session) throw new Error(`initialize failed: HTTP ${init.status}`);
  const ack = await fetch(url, {
    method: "POST",
    headers: { ...HEADERS, "Mcp-Session-Id": session },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await ack.text();
  return session;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(
  url: string,
  sessions: string[],
  title: string,
  args: () => Record<string, unknown>,
  tool: string,
): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    sessions.map(async (session, s) => {
      let id = s * 1_000_000;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await fetch(url, {
          method: "POST",
          headers: { ...HEADERS, "Mcp-Session-Id": session },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: ++id,
            method: "tools/call",
            params: { name: tool, arguments: args() },
          }),
        });
        const msg = message(res.headers.get("content-type"), await res.text());
        latencies.push(performance.now() - t0);
        if (!res.ok || msg.error || msg.result?.isError) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  console.log(
    `${title}: ${Math.round(latencies.length / seconds)} calls/s, p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(1)} ms (${latencies.length} calls, ${errors} errors)`,
  );
}

async function main(): Promise<void> {
  const dbPath = join(tempDir("pwm-bench-mcp-"), "feedback.db");
  const store = FeedbackStore.open(dbPath);
  const t0 = Date.now();
  seedTo(store, rows);
  store.db.sqlite!.pragma("wal_checkpoint(TRUNCATE)");
  store.close();
  console.log(
    `bench:mcp — ${rows} reports seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${concurrency} sessions, ${seconds} s per run`,
  );

  const serve = await startServe({ dbPath });
  try {
    const url = `${serve.url}/mcp`;
    const sessions = await Promise.all(Array.from({ length: concurrency }, () => openSession(url)));
    // Warm up (statement cache, JIT).
    await run(
      url,
      sessions.slice(0, 2),
      "warm-up list_reports",
      () => ({ server_name: "server-1", limit: 50 }),
      "list_reports",
    ).catch(() => {});
    let n = 0;
    await run(
      url,
      sessions,
      "list_reports {server_name, limit 50}",
      () => ({ server_name: `server-${n++ % 20}`, limit: 50 }),
      "list_reports",
    );
    await run(
      url,
      sessions,
      "list_reports {gap_type, resolution, limit 50}",
      () => ({ gap_type: "missing_tool", resolution: "blocked", limit: 50 }),
      "list_reports",
    );
    const words = ["invoice", "timezone", "webhook", "currency", "nested"];
    await run(
      url,
      sessions,
      "list_reports {query, limit 20}",
      () => ({ query: words[n++ % words.length], limit: 20 }),
      "list_reports",
    );
    await run(url, sessions, "get_report {id}", () => ({ id: 1 + Math.floor(Math.random() * rows) }), "get_report");
  } finally {
    await serve.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
