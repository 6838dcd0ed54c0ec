/**
 * `npm run bench:proxy`: tools/call round trips, direct vs through the proxy.
 *
 *   stdio→stdio  a raw line client → (proxy →) the fixture server over stdio
 *   HTTP→stdio   a raw fetch client → proxy --listen → the fixture over stdio,
 *                against the fixture served over HTTP directly
 *
 * Env: BENCH_CALLS, BENCH_PIPELINED, BENCH_ROUNDS. Prints p50/p99 latency of sequential calls, sequential round trips per
 * second, and pipelined throughput (many calls in flight). Figures depend on
 * the machine and its load: compare the rows of one run, not runs.
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
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 5000);
const IN_FLIGHT = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const callBody = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { text: "bench" } } });
const initBody = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } };

interface Rpc {
  call(id: number): Promise<void>;
  close(): Promise<void>;
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
  const init = await post(initBody);
  headers["mcp-session-id"] = init.res.headers.get("mcp-session-id") ?? "";
  headers["mcp-protocol-version"] = "2025-06-18";
  await post({ jsonrpc: "2.0", method: "notifications/initialized" });
  return {
    async call(id) {
      const { text } = await post(callBody(id));
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
  pipelinedPerSec: number;
}

async function measure(rpc: Rpc): Promise<Figures> {
  let id = 1;
  for (let i = 0; i < WARMUP; i++) await rpc.call(id++);
  const times: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = process.hrtime.bigint();
    await rpc.call(id++);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const sequentialMs = Number(process.hrtime.bigint() - start) / 1e6;
  times.sort((a, b) => a - b);
  const pStart = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PIPELINED) {
        next++;
        await rpc.call(id++);
      }
    }),
  );
  const pipelinedMs = Number(process.hrtime.bigint() - pStart) / 1e6;
  return {
    p50: times[Math.floor(times.length * 0.5)]!,
    p99: times[Math.floor(times.length * 0.99)]!,
    sequentialPerSec: (SEQUENTIAL / sequentialMs) * 1000,
    pipelinedPerSec: (PIPELINED / pipelinedMs) * 1000,
  };
}

const row = (label: string, f: Figures) =>
  `${label.padEnd(30)} p50 ${f.p50.toFixed(3).padStart(7)} ms   p99 ${f.p99.toFixed(3).padStart(7)} ms   ${f.sequentialPerSec.toFixed(0).padStart(6)} calls/s sequential   ${f.pipelinedPerSec.toFixed(0).padStart(6)} calls/s with ${IN_FLIGHT} in flight`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianFigures = (fs: Figures[]): Figures => ({
  p50: median(fs.map((f) => f.p50)),
  p99: median(fs.map((f) => f.p99)),
  sequentialPerSec: median(fs.map((f) => f.sequentialPerSec)),
  pipelinedPerSec: median(fs.map((f) => f.pipelinedPerSec)),
});

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
  console.log(`tools/call "echo" round trips: ${SEQUENTIAL} sequential after ${WARMUP} warm-up, then ${PIPELINED} with ${IN_FLIGHT} in flight;`);
  console.log(`stdio rows are the median of ${ROUNDS} alternating rounds\n`);

  const direct: Figures[] = [];
  const proxied: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await measureStdio([process.execPath, server]));
    proxied.push(await measureStdio([...proxy, "--", process.execPath, server]));
  }
  const d1 = medianFigures(direct);
  const p1 = medianFigures(proxied);
  console.log(row("stdio, direct", d1));
  console.log(row("stdio→stdio, through proxy", p1));
  const d2 = await measureHttp([process.execPath, server, "--http", "0"]);
  console.log(row("HTTP, direct (fixture on HTTP)", d2));
  const p2 = await measureHttp([...proxy, "--listen", "127.0.0.1:0", "--", process.execPath, server]);
  console.log(row("HTTP→stdio, through proxy", p2));

  console.log(`\nstdio→stdio: +${(p1.p50 - d1.p50).toFixed(3)} ms at p50 (target < 0.3 ms), +${(p1.p99 - d1.p99).toFixed(3)} ms at p99,`);
  console.log(`             ${((p1.sequentialPerSec / d1.sequentialPerSec) * 100).toFixed(1)}% of direct sequential throughput, ${((p1.pipelinedPerSec / d1.pipelinedPerSec) * 100).toFixed(1)}% with ${IN_FLIGHT} in flight (target ≥ 90%)`);
  console.log(`HTTP→stdio:  ${p2.p50.toFixed(3)} ms at p50 vs ${d2.p50.toFixed(3)} ms for the fixture served over HTTP directly`);
}

await main();
