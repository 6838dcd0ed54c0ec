/**
 * `npm run bench:proxy`: tools/call round trips, direct vs through the proxy.
 *
 *   stdio→stdio  a raw line client → (proxy →) the fixture server over stdio
 *   HTTP→stdio   a raw fetch client → proxy --listen → the fixture over stdio,
 *                against the fixture served over HTTP directly
 *
 * Each path is measured three ways: sequential calls (p50/p99 latency and calls
 * per second), then throughput with 32 calls in flight, then with 256 in flight
 * (enough to keep the server busy however long a hop takes, so the figure is the
 * path's capacity rather than its latency). stdio rows run in paired rounds —
 * direct, a bare relay, the proxy, back to back — and ratios are the median of
 * each round's own ratio, so a machine that speeds up or slows down between
 * rounds does not tilt them. The bare relay is a ten-line Node process that
 * pipes bytes both ways with no logic at all: the floor for any proxy that is a
 * process of its own.
 *
 * Env: BENCH_CALLS (sequential), BENCH_PIPELINED (calls per in-flight run),
 * BENCH_ROUNDS. Figures depend on the machine and its load: compare the rows of
 * one run, not runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fixture } from "../test/fixtures/build.js";
import { startListening } from "../test/proxy/helpers.js";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/src/cli.js");
const SEQUENTIAL = Number(process.env.BENCH_CALLS ?? 3000);
const WARMUP = 300;
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 20000);
const DEPTHS = [32, 256] as const;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Bytes both ways between our stdio and a child's, nothing else. */
const BARE_RELAY = `
import { spawn } from "node:child_process";
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on("exit", (code) => process.exit(code ?? 1));
`;

const callBody = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { text: "bench" } } });
const initBody = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } };

interface Rpc {
  call(id: number): Promise<void>;
  close(): Promise<void>;
  /** Calls that got no answer (HTTP only: a reset connection is counted and shown, not fatal). */
  failures: { count: number; first?: string };
}

/** Newline-delimited JSON-RPC over a child's stdio. */
async function stdioRpc(command: string[]): Promise<Rpc> {
  const [cmd, ...args] = command as [string, ...string[]];
  const child: ChildProcessWithoutNullStreams = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, FEEDBACK_API_KEY: "" } });
  child.stderr.resume();
  const waiting = new Map<number, () => void>();
  let buf = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /"id":(\d+)/.exec(line.slice(-40)) ?? /"id":(\d+)/.exec(line);
      if (m) waiting.get(Number(m[1]))?.();
    }
  });
  const send = (body: unknown) => child.stdin.write(`${JSON.stringify(body)}\n`);
  const call = (id: number, body: unknown = callBody(id)) =>
    new Promise<void>((r) => {
      waiting.set(id, () => {
        waiting.delete(id);
        r();
      });
      send(body);
    });
  await call(0, initBody);
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  return {
    call: (id) => call(id),
    failures: { count: 0 },
    async close() {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Streamable HTTP with plain fetch: one POST per call, the answer read from JSON or SSE. */
async function httpRpc(url: string): Promise<Rpc> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
  const post = async (body: unknown) => {
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await res.text();
    return { res, text };
  };
  const failures: Rpc["failures"] = { count: 0 };
  const init = await post(initBody);
  headers["mcp-session-id"] = init.res.headers.get("mcp-session-id") ?? "";
  headers["mcp-protocol-version"] = "2025-06-18";
  await post({ jsonrpc: "2.0", method: "notifications/initialized" });
  return {
    failures,
    async call(id) {
      let text: string;
      try {
        ({ text } = await post(callBody(id)));
      } catch (err) {
        failures.count++;
        failures.first ??= err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}` : String(err);
        return;
      }
      if (!text.includes(`"id":${id}`)) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    },
    async close() {
      await fetch(url, { method: "DELETE", headers }).catch(() => undefined);
    },
  };
}

interface Figures {
  p50: number;
  p99: number;
  sequentialPerSec: number;
  /** Calls per second with DEPTHS[i] calls in flight. */
  pipelinedPerSec: number[];
  failures: Rpc["failures"];
}

async function inFlight(rpc: Rpc, depth: number, nextId: () => number): Promise<number> {
  let sent = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: depth }, async () => {
      while (sent < PIPELINED) {
        sent++;
        await rpc.call(nextId());
      }
    }),
  );
  return (PIPELINED / (Number(process.hrtime.bigint() - start) / 1e6)) * 1000;
}

async function measure(rpc: Rpc): Promise<Figures> {
  let id = 1;
  const nextId = () => id++;
  for (let i = 0; i < WARMUP; i++) await rpc.call(nextId());
  const times: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = process.hrtime.bigint();
    await rpc.call(nextId());
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const sequentialMs = Number(process.hrtime.bigint() - start) / 1e6;
  times.sort((a, b) => a - b);
  const pipelinedPerSec: number[] = [];
  for (const depth of DEPTHS) pipelinedPerSec.push(await inFlight(rpc, depth, nextId));
  return {
    p50: times[Math.floor(times.length * 0.5)]!,
    p99: times[Math.floor(times.length * 0.99)]!,
    sequentialPerSec: (SEQUENTIAL / sequentialMs) * 1000,
    pipelinedPerSec,
    failures: rpc.failures,
  };
}

const num = (n: number) => n.toFixed(0).padStart(6);
const row = (label: string, f: Figures) =>
  `${label.padEnd(30)} p50 ${f.p50.toFixed(3).padStart(7)} ms   p99 ${f.p99.toFixed(3).padStart(7)} ms   ${num(f.sequentialPerSec)} /s sequential   ` +
  DEPTHS.map((d, i) => `${num(f.pipelinedPerSec[i]!)} /s with ${d} in flight`).join("   ") +
  (f.failures.count > 0 ? `\n${"".padEnd(30)} ${f.failures.count} calls got no answer; the first: ${f.failures.first}` : "");

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const medianFigures = (fs: Figures[]): Figures => ({
  p50: median(fs.map((f) => f.p50)),
  p99: median(fs.map((f) => f.p99)),
  sequentialPerSec: median(fs.map((f) => f.sequentialPerSec)),
  pipelinedPerSec: DEPTHS.map((_, i) => median(fs.map((f) => f.pipelinedPerSec[i]!))),
  failures: { count: fs.reduce((n, f) => n + f.failures.count, 0), first: fs.find((f) => f.failures.first)?.failures.first },
});
/** Median over rounds of (path / direct) in that same round, as a percentage. */
const pairedRatio = (path: Figures[], direct: Figures[], pick: (f: Figures) => number) =>
  median(path.map((f, i) => (pick(f) / pick(direct[i]!)) * 100)).toFixed(1);
const pairedDelta = (path: Figures[], direct: Figures[], pick: (f: Figures) => number) =>
  median(path.map((f, i) => pick(f) - pick(direct[i]!))).toFixed(3);

async function measureStdio(command: string[]): Promise<Figures> {
  const rpc = await stdioRpc(command);
  try {
    return await measure(rpc);
  } finally {
    await rpc.close();
  }
}

async function measureHttp(command: string[]): Promise<Figures> {
  const server = await startListening(command);
  try {
    const rpc = await httpRpc(server.url);
    const figures = await measure(rpc);
    await rpc.close();
    return figures;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const server = fixture("fixture-server");
  const dir = mkdtempSync(join(tmpdir(), "pwm-bench-proxy-"));
  const proxy = [process.execPath, CLI, "proxy", "--db", join(dir, "f.db"), "--outbox", join(dir, "o.log")];
  const relay = [process.execPath, "--input-type=module", "-e", BARE_RELAY];
  console.log(`tools/call "echo" round trips: ${SEQUENTIAL} sequential after ${WARMUP} warm-up, then ${PIPELINED} each with ${DEPTHS.join(" and ")} in flight;`);
  console.log(`stdio rows are medians of ${ROUNDS} rounds, each running direct, bare relay and proxy back to back\n`);

  const direct: Figures[] = [];
  const relayed: Figures[] = [];
  const proxied: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await measureStdio([process.execPath, server]));
    relayed.push(await measureStdio([...relay, process.execPath, server]));
    proxied.push(await measureStdio([...proxy, "--", process.execPath, server]));
  }
  console.log(row("stdio, direct", medianFigures(direct)));
  console.log(row("stdio, bare relay (reference)", medianFigures(relayed)));
  console.log(row("stdio→stdio, through proxy", medianFigures(proxied)));
  const d2 = await measureHttp([process.execPath, server, "--http", "0"]);
  console.log(row("HTTP, direct (fixture on HTTP)", d2));
  const p2 = await measureHttp([...proxy, "--listen", "127.0.0.1:0", "--", process.execPath, server]);
  console.log(row("HTTP→stdio, through proxy", p2));

  const p50 = (f: Figures) => f.p50;
  const seq = (f: Figures) => f.sequentialPerSec;
  const depth = (i: number) => (f: Figures) => f.pipelinedPerSec[i]!;
  console.log(`\nstdio→stdio, per-round medians against direct (targets: < 0.3 ms added at p50, ≥ 90% of direct throughput):`);
  for (const [label, path] of [["proxy", proxied], ["bare relay", relayed]] as const) {
    console.log(
      `  ${label.padEnd(10)} +${pairedDelta(path, direct, p50)} ms at p50;  ${pairedRatio(path, direct, seq)}% sequential;  ` +
        DEPTHS.map((d, i) => `${pairedRatio(path, direct, depth(i))}% with ${d} in flight`).join(";  "),
    );
  }
  console.log(`HTTP→stdio:  ${p2.p50.toFixed(3)} ms at p50 vs ${d2.p50.toFixed(3)} ms for the fixture served over HTTP directly`);
}

await main();
