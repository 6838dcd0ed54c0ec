/**
 * `npm run bench:proxy`: tools/call round trips, direct vs through the proxy.
 *
 *   stdio→stdio  a raw line client → (proxy →) the fixture server over stdio
 *   HTTP→stdio   a raw fetch client → proxy --listen → the fixture over stdio,
 *                against the fixture served over HTTP directly
 *
 * The proxy runs twice, with tool-call analytics off (`--analytics no`) and on
 * (every call recorded and sent as POST /api/calls batches to a loopback
 * receiver in this process, which counts what arrives), as two of the
 * interleaved paths over stdio and again over HTTP; the on/off ratio
 * is printed per slice like the others (the issue's target: on within 5% of off),
 * and so is the proxy process's own CPU time per call both ways (from /proc),
 * which the machine's drift moves far less than a throughput ratio.
 *
 * Each path is measured three ways: sequential calls (p50/p99 latency), then
 * throughput with 32 calls in flight, then with 256 in flight (enough to keep
 * the server busy however long a hop takes, so the figure is the path's
 * capacity rather than its latency).
 *
 * The paths of one transport — over stdio direct, a bare relay and the proxy;
 * over HTTP direct and the proxy — are open at once and take turns in short
 * slices, and each ratio is the median of the slices' own ratios. A machine
 * whose speed drifts over seconds (a shared VM does, by a third) then moves
 * every path alike instead of tilting whichever ran last. The bare relay is a
 * ten-line Node process that pipes bytes both ways with no logic at all: the
 * floor for any proxy that is a process of its own.
 *
 * Env: BENCH_CALLS (sequential calls per path), BENCH_SLICES, BENCH_SLICE_CALLS
 * (calls per depth per slice), BENCH_HTTP_SLICES, BENCH_HTTP_SLICE_CALLS. Figures
 * depend on the machine and its load: compare the rows of one run, not runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fixture } from "../test/fixtures/build.js";
import { startListening } from "../test/proxy/helpers.js";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/src/cli.js");
const SEQUENTIAL = Number(process.env.BENCH_CALLS ?? 3000);
const WARMUP = 300;
/** Untimed calls at the start of each stdio slice. */
const SLICE_WARMUP = 5;
const DEPTHS = [32, 256] as const;
/** stdio: slices per path, and calls per depth in each slice. */
// Many short slices rather than a few long ones: on a shared VM a slice's ratio
// swings by a fifth either way however long the slice is, so what narrows the
// median is the number of slices.
const SLICES = Number(process.env.BENCH_SLICES ?? 200);
const SLICE_BURST = Number(process.env.BENCH_SLICE_CALLS ?? 1000);
/** HTTP: slices per path (direct, proxy with analytics off, on), and calls per depth in each slice. */
const HTTP_SLICES = Number(process.env.BENCH_HTTP_SLICES ?? 20);
const HTTP_SLICE_CALLS = Number(process.env.BENCH_HTTP_SLICE_CALLS ?? 500);

/** Bytes both ways between our stdio and a child's, nothing else. */
const BARE_RELAY = `
import { spawn } from "node:child_process";
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on("exit", (code) => process.exit(code ?? 1));
`;

const callBody = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "bench" } },
});
const initBody = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
};

interface Rpc {
  call(id: number): Promise<void>;
  close(): Promise<void>;
  /** The process answering this path's first hop (the proxy, the relay, or the server itself). */
  pid: number | undefined;
  /** Calls that got no answer (HTTP only: a reset connection is counted and shown, not fatal). */
  failures: { count: number; first?: string };
}

/** Newline-delimited JSON-RPC over a child's stdio. */
async function stdioRpc(command: string[]): Promise<Rpc> {
  const [cmd, ...args] = command as [string, ...string[]];
  const child: ChildProcessWithoutNullStreams = spawn(cmd, args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, FEEDBACK_API_KEY: "" },
  });
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
    pid: child.pid,
    async close() {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Streamable HTTP with plain fetch: one POST per call, the answer read from JSON or SSE. */
async function httpRpc(url: string): Promise<Rpc> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
  };
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
    pid: undefined,
    async call(id) {
      let text: string;
      try {
        ({ text } = await post(callBody(id)));
      } catch (err) {
        failures.count++;
        failures.first ??=
          err instanceof Error
            ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}`
            : String(err);
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

/** Calls per second for `count` calls with `depth` of them in flight. */
async function inFlight(rpc: Rpc, depth: number, count: number, nextId: () => number): Promise<number> {
  let sent = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: depth }, async () => {
      while (sent < count) {
        sent++;
        await rpc.call(nextId());
      }
    }),
  );
  return (count / (Number(process.hrtime.bigint() - start) / 1e6)) * 1000;
}

/** One path's samples: per-call latencies, and one rate per slice for each measurement. */
interface Samples {
  times: number[];
  sequentialMs: number;
  sequentialCalls: number;
  perSlice: { sequentialPerSec: number; pipelinedPerSec: number[] }[];
}

const newSamples = (): Samples => ({ times: [], sequentialMs: 0, sequentialCalls: 0, perSlice: [] });

/** One slice on one path: a few sequential calls, then a burst at each depth. */
async function slice(
  rpc: Rpc,
  samples: Samples,
  nextId: () => number,
  sequential: number,
  burst: number,
): Promise<void> {
  // A path that sat idle while the others took their turn answers its first calls
  // from cold caches; that is the interleaving's doing, not the path's.
  for (let i = 0; i < SLICE_WARMUP; i++) await rpc.call(nextId());
  const start = process.hrtime.bigint();
  for (let i = 0; i < sequential; i++) {
    const t = process.hrtime.bigint();
    await rpc.call(nextId());
    samples.times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  samples.sequentialMs += ms;
  samples.sequentialCalls += sequential;
  const pipelinedPerSec: number[] = [];
  for (const depth of DEPTHS) pipelinedPerSec.push(await inFlight(rpc, depth, burst, nextId));
  samples.perSlice.push({ sequentialPerSec: (sequential / ms) * 1000, pipelinedPerSec });
}

function figures(s: Samples, failures: Rpc["failures"]): Figures {
  const times = [...s.times].sort((a, b) => a - b);
  return {
    p50: times[Math.floor(times.length * 0.5)]!,
    p99: times[Math.floor(times.length * 0.99)]!,
    sequentialPerSec: (s.sequentialCalls / s.sequentialMs) * 1000,
    pipelinedPerSec: DEPTHS.map((_, i) => median(s.perSlice.map((x) => x.pipelinedPerSec[i]!))),
    failures,
  };
}

const num = (n: number) => n.toFixed(0).padStart(6);
const row = (label: string, f: Figures) =>
  `${label.padEnd(30)} p50 ${f.p50.toFixed(3).padStart(7)} ms   p99 ${f.p99.toFixed(3).padStart(7)} ms   ${num(f.sequentialPerSec)} /s sequential   ` +
  DEPTHS.map((d, i) => `${num(f.pipelinedPerSec[i]!)} /s with ${d} in flight`).join("   ") +
  (f.failures.count > 0
    ? `\n${"".padEnd(30)} ${f.failures.count} calls got no answer; the first: ${f.failures.first}`
    : "");

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const quartiles = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return [sorted[Math.floor((sorted.length - 1) / 4)]!, sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!] as const;
};

/** A 95% interval for the median of `xs`, by resampling the slices (seeded, so a run repeats itself). */
function medianInterval(xs: number[]): readonly [number, number] {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = Array.from({ length: 2000 }, () => median(xs.map(() => xs[Math.floor(random() * xs.length)]!))).sort(
    (a, b) => a - b,
  );
  return [medians[50]!, medians[1949]!] as const;
}

/** Per-slice ratios of a path to direct, as "median% (95% interval of the median; middle half of slices)". */
function ratio(path: Samples, direct: Samples, pick: (x: Samples["perSlice"][number]) => number): string {
  const r = path.perSlice.map((x, i) => (pick(x) / pick(direct.perSlice[i]!)) * 100);
  const [lo, hi] = quartiles(r);
  const [mlo, mhi] = medianInterval(r);
  return `${median(r).toFixed(1)}% (95% interval of the median ${mlo.toFixed(1)}–${mhi.toFixed(1)}%; middle half of slices ${lo.toFixed(0)}–${hi.toFixed(0)}%)`;
}

/**
 * Paths interleaved: all connections stay open and take turns in short slices
 * (rotating which goes first), so a machine whose speed drifts over seconds moves
 * every path alike and each slice's ratio is a fair one.
 */
async function measureInterleaved(
  opens: (() => Promise<Rpc>)[],
  slices: number,
  sequentialPerSlice: number,
  burst: number,
): Promise<{ samples: Samples[]; failures: Rpc["failures"][]; cpuUsPerCall: (number | undefined)[] }> {
  const rpcs: Rpc[] = [];
  try {
    for (const open of opens) rpcs.push(await open());
    const ids = rpcs.map(() => 1);
    const nextId = (i: number) => () => ids[i]!++;
    for (const [i, rpc] of rpcs.entries()) {
      for (let k = 0; k < WARMUP; k++) await rpc.call(nextId(i)());
      for (const depth of DEPTHS) await inFlight(rpc, depth, burst, nextId(i));
    }
    const samples = rpcs.map(newSamples);
    const cpu0 = rpcs.map((r) => cpuMs(r.pid));
    const calls0 = [...ids];
    for (let n = 0; n < slices; n++) {
      for (let k = 0; k < rpcs.length; k++) {
        const i = (n + k) % rpcs.length;
        await slice(rpcs[i]!, samples[i]!, nextId(i), sequentialPerSlice, burst);
      }
    }
    const cpuUsPerCall = rpcs.map((r, i) => {
      const [before, after] = [cpu0[i], cpuMs(r.pid)];
      return before === undefined || after === undefined
        ? undefined
        : ((after - before) * 1000) / (ids[i]! - calls0[i]!);
    });
    return { samples, failures: rpcs.map((r) => r.failures), cpuUsPerCall };
  } finally {
    for (const rpc of rpcs) await rpc.close();
  }
}

/** CPU time a process has used so far, in ms (Linux /proc; undefined elsewhere). */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after "(comm) ": state is [0], utime [11] and stime [12], in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A server process listening on HTTP, and a session on it; closing ends both. */
async function httpPath(command: string[]): Promise<Rpc> {
  const server = await startListening(command);
  const rpc = await httpRpc(server.url);
  return {
    ...rpc,
    pid: server.proc.pid,
    async close() {
      await rpc.close();
      await server.stop();
    },
  };
}

/** A stand-in sidecar for POST /api/calls: reads each batch, counts its calls, answers 202. */
async function callsReceiver(): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        calls: unknown[];
        rollups: { calls: number }[];
      };
      calls += batch.calls.length + batch.rollups.reduce((n, r) => n + r.calls, 0);
      res.writeHead(202, { "Content-Type": "application/json" }).end('{"accepted":{}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function main(): Promise<void> {
  const server = fixture("fixture-server");
  const dir = mkdtempSync(join(tmpdir(), "pwm-bench-proxy-"));
  const receiver = await callsReceiver();
  const base = [process.execPath, CLI, "proxy", "--db", join(dir, "f.db"), "--outbox", join(dir, "o.log")];
  const proxy = [...base, "--analytics", "no"];
  const proxyOn = [...base, "--analytics-url", receiver.url, "--analytics-spill", join(dir, "spill.json")];
  const relay = [process.execPath, "--input-type=module", "-e", BARE_RELAY];
  console.log(
    `tools/call "echo" round trips. stdio: ${SLICES} interleaved slices per path, each ${Math.ceil(SEQUENTIAL / SLICES)} sequential calls`,
  );
  console.log(
    `then ${SLICE_BURST} calls with ${DEPTHS.join(" and then ")} in flight; throughput is the median slice. HTTP: ${HTTP_SLICES} interleaved slices per path, each ${Math.ceil(SEQUENTIAL / HTTP_SLICES)} sequential calls then ${HTTP_SLICE_CALLS} per depth.\n`,
  );

  const stdio = await measureInterleaved(
    [
      [process.execPath, server],
      [...relay, process.execPath, server],
      [...proxy, "--", process.execPath, server],
      [...proxyOn, "--", process.execPath, server],
    ].map((command) => () => stdioRpc(command)),
    SLICES,
    Math.ceil(SEQUENTIAL / SLICES),
    SLICE_BURST,
  );
  const [direct, relayed, proxied, analysed] = stdio.samples as [Samples, Samples, Samples, Samples];
  const stdioCallsOn =
    analysed.sequentialCalls + analysed.perSlice.length * (SLICE_WARMUP + DEPTHS.length * SLICE_BURST);
  console.log(row("stdio, direct", figures(direct, stdio.failures[0]!)));
  console.log(row("stdio, bare relay (reference)", figures(relayed, stdio.failures[1]!)));
  console.log(row("stdio→stdio, proxy, analytics off", figures(proxied, stdio.failures[2]!)));
  console.log(row("stdio→stdio, proxy, analytics on", figures(analysed, stdio.failures[3]!)));
  const stdioRecorded = receiver.calls();
  const http = await measureInterleaved(
    [
      [process.execPath, server, "--http", "0"],
      [...proxy, "--listen", "127.0.0.1:0", "--", process.execPath, server],
      [...proxyOn, "--listen", "127.0.0.1:0", "--", process.execPath, server],
    ].map((command) => () => httpPath(command)),
    HTTP_SLICES,
    Math.ceil(SEQUENTIAL / HTTP_SLICES),
    HTTP_SLICE_CALLS,
  );
  const [httpDirect, httpProxied, httpAnalysed] = http.samples as [Samples, Samples, Samples];
  const d2 = figures(httpDirect, http.failures[0]!);
  const p2 = figures(httpProxied, http.failures[1]!);
  console.log(row("HTTP, direct (fixture on HTTP)", d2));
  console.log(row("HTTP→stdio, proxy, analytics off", p2));
  console.log(row("HTTP→stdio, proxy, analytics on", figures(httpAnalysed, http.failures[2]!)));
  const httpRecorded = receiver.calls() - stdioRecorded;
  await receiver.close();

  const p50 = (s: Samples) => figures(s, { count: 0 }).p50;
  console.log(
    `\nstdio→stdio against direct, per-slice ratios (targets: < 0.3 ms added at p50, ≥ 90% of direct throughput):`,
  );
  const steadiness = DEPTHS.map((d, i) => {
    const [lo, hi] = quartiles(direct.perSlice.map((x) => x.pipelinedPerSec[i]!));
    return `${num(lo).trim()}–${num(hi).trim()}/s with ${d} in flight`;
  });
  console.log(`  (how steady the machine was: direct's middle half of slices ran ${steadiness.join(", ")})`);
  for (const [label, path] of [
    ["proxy", proxied],
    ["bare relay", relayed],
  ] as const) {
    console.log(`  ${label}: +${(p50(path) - p50(direct)).toFixed(3)} ms at p50`);
    for (const [i, d] of DEPTHS.entries())
      console.log(`    ${String(d).padStart(3)} in flight: ${ratio(path, direct, (x) => x.pipelinedPerSec[i]!)}`);
  }
  console.log(
    `HTTP→stdio:  ${p2.p50.toFixed(3)} ms at p50 vs ${d2.p50.toFixed(3)} ms for the fixture served over HTTP directly`,
  );

  console.log(`\ntool-call analytics, on against off, in this run (target: on within 5% of off):`);
  console.log(
    `  stdio→stdio: ${(p50(analysed) - p50(proxied) >= 0 ? "+" : "") + (p50(analysed) - p50(proxied)).toFixed(3)} ms at p50`,
  );
  for (const [i, d] of DEPTHS.entries())
    console.log(
      `    ${String(d).padStart(3)} in flight: on runs at ${ratio(analysed, proxied, (x) => x.pipelinedPerSec[i]!)} of off`,
    );
  console.log(
    `  HTTP→stdio: ${(p50(httpAnalysed) - p50(httpProxied) >= 0 ? "+" : "") + (p50(httpAnalysed) - p50(httpProxied)).toFixed(3)} ms at p50`,
  );
  for (const [i, d] of DEPTHS.entries())
    console.log(
      `    ${String(d).padStart(3)} in flight: on runs at ${ratio(httpAnalysed, httpProxied, (x) => x.pipelinedPerSec[i]!)} of off`,
    );
  const cpu = (us: number | undefined) => (us === undefined ? "n/a" : `${us.toFixed(1)} µs`);
  const cpuLine = (label: string, off: number | undefined, on: number | undefined) =>
    `  ${label} process CPU per call: ${cpu(off)} off, ${cpu(on)} on` +
    (off !== undefined && on !== undefined
      ? ` (${on >= off ? "+" : ""}${(((on - off) / off) * 100).toFixed(1)}%)`
      : "");
  console.log(cpuLine("stdio proxy", stdio.cpuUsPerCall[2], stdio.cpuUsPerCall[3]));
  console.log(cpuLine("HTTP proxy", http.cpuUsPerCall[1], http.cpuUsPerCall[2]));
  console.log(
    `  recorded by the receiver: ${stdioRecorded} of the ${stdioCallsOn + WARMUP + DEPTHS.length * SLICE_BURST} stdio calls made with analytics on, ${httpRecorded} over HTTP`,
  );
}

await main();
