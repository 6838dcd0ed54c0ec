/**
 * Process lifecycle of the stdio proxy, spoken to as raw JSON lines: upstream
 * death answers every pending request and ends the proxy non-zero; stdin EOF
 * ends the proxy and its upstream's whole process group.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { CLI, NODE, RawClient, fixtureCommand, isAlive, proxyEnv, tempDir, waitFor } from "./helpers.js";

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};

/** Child pids of a process, from /proc (the proxy's watchdog shell left out). */
function children(pid: number): number[] {
  try {
    const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return pids.filter((p) => !cmdline(p).includes("patchworkmcp-proxy-watchdog"));
  } catch {
    return [];
  }
}

/** Gone, or a zombie nobody has reaped yet (the process itself has ended). */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return true;
  }
}

/** A process's nice value (field 19 of /proc/PID/stat: its main thread's). */
const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);

describe("stdio proxy lifecycle", () => {
  it("lowers its own priority by --nice once upstream runs, and leaves upstream's as it was", async () => {
    const dir = tempDir();
    const c = new RawClient(fixtureCommand(), [
      "--db",
      join(dir, "f.db"),
      "--outbox",
      join(dir, "o.log"),
      "--nice",
      "7",
    ]);
    await c.initialize();
    const [upstream] = children(c.proc.pid!);
    expect(niceOf(c.proc.pid!)).toBe(Math.min(19, niceOf(process.pid) + 7));
    expect(niceOf(upstream!)).toBe(niceOf(process.pid));
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("keeps its priority with --nice 0", async () => {
    const dir = tempDir();
    const c = new RawClient(fixtureCommand(), [
      "--db",
      join(dir, "f.db"),
      "--outbox",
      join(dir, "o.log"),
      "--nice",
      "0",
    ]);
    await c.initialize();
    expect(niceOf(c.proc.pid!)).toBe(niceOf(process.pid));
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("answers every pending request with an error when upstream dies, then exits non-zero", async () => {
    const c = new RawClient(fixtureCommand());
    await c.initialize();
    c.send({
      id: 1,
      method: "tools/call",
      params: { name: "slow", arguments: { steps: 50, delayMs: 100 }, _meta: { progressToken: "p1" } },
    });
    c.send({ id: "two", method: "tools/call", params: { name: "crash", arguments: {} } });
    const [one, two] = await Promise.all([c.response(1), c.response("two")]);
    for (const r of [one, two]) {
      expect(r.error).toEqual({
        code: -32000,
        message: "The upstream MCP server exited (exit code 3) before answering this request.",
      });
    }
    expect(await c.exit).toBe(3);
  });

  it("delivers an answer written just before upstream exits, then exits non-zero", async () => {
    const c = new RawClient(fixtureCommand());
    await c.initialize();
    c.send({ id: 1, method: "tools/call", params: { name: "answer_and_exit", arguments: {} } });
    expect((await c.response(1)).result).toMatchObject({ content: [{ type: "text", text: "last words" }] });
    expect(await c.exit).toBe(1);
  });

  it("keeps ids exactly as sent, including strings", async () => {
    const c = new RawClient(fixtureCommand());
    await c.initialize();
    c.send({ id: "a-string-id", method: "ping" });
    // 1 and "1" are different requests.
    c.send({ id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "number" } } });
    c.send({ id: "1", method: "tools/call", params: { name: "echo", arguments: { text: "string" } } });
    c.send({ id: 7, method: "tools/call", params: { name: "echo", arguments: { text: "x" } } });
    expect((await c.response("a-string-id")).result).toEqual({});
    expect((await c.response(7)).result).toMatchObject({ content: [{ type: "text", text: "x" }] });
    expect((await c.response(1)).result).toMatchObject({ content: [{ type: "text", text: "number" }] });
    expect((await c.response("1")).result).toMatchObject({ content: [{ type: "text", text: "string" }] });
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("passes cancellation upstream and keeps serving", async () => {
    const c = new RawClient(fixtureCommand());
    await c.initialize();
    c.send({ id: 5, method: "tools/call", params: { name: "slow", arguments: { steps: 100, delayMs: 50 } } });
    c.send({ method: "notifications/cancelled", params: { requestId: 5, reason: "user pressed stop" } });
    await waitFor(
      () => c.stderr.includes("[upstream] slow call 5 cancelled"),
      10_000,
      "the upstream to see the cancellation",
    );
    c.send({ id: 6, method: "ping" });
    expect((await c.response(6)).result).toEqual({});
    expect(c.lines.some((l) => l.id === 5)).toBe(false);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("ends on stdin EOF and takes the upstream's process group with it", async () => {
    // A shell that starts the fixture as its own child: the grandchild must go too.
    const c = new RawClient([
      "sh",
      "-c",
      `${fixtureCommand()
        .map((a) => `'${a}'`)
        .join(" ")}; echo never`,
    ]);
    await c.initialize();
    const shell = await waitFor(() => children(c.proc.pid!)[0], 10_000, "upstream shell");
    const server = await waitFor(() => children(shell)[0], 10_000, "upstream server");
    expect(isAlive(server)).toBe(true);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
    await waitFor(() => !isAlive(shell) && !isAlive(server), 10_000, "upstream processes to end");
  });

  it("still delivers the answer to a call in flight when stdin closes (close stdin first, then signal)", async () => {
    const c = new RawClient(fixtureCommand("--eof-linger-ms", "600"));
    await c.initialize();
    c.send({ id: 7, method: "tools/call", params: { name: "slow", arguments: { steps: 2, delayMs: 150 } } });
    c.proc.stdin.end();
    const answer = await c.response(7);
    expect(answer).toHaveProperty("result");
    expect(await c.exit).toBe(0);
  });

  it("takes the upstream's process group with it even when the proxy is SIGKILLed", async () => {
    // A server that keeps running after its stdin closes (as the SDK's stdio servers do), under a shell.
    const c = new RawClient([
      "sh",
      "-c",
      `${fixtureCommand("--eof-linger-ms", "60000")
        .map((a) => `'${a}'`)
        .join(" ")}; echo never`,
    ]);
    await c.initialize();
    const shell = await waitFor(() => children(c.proc.pid!)[0], 10_000, "upstream shell");
    const server = await waitFor(() => children(shell)[0], 10_000, "upstream server");
    c.proc.kill("SIGKILL");
    await c.exit;
    await waitFor(() => ended(shell) && ended(server), 10_000, "upstream processes to end");
  });

  it("ends when it is told to stop, and the upstream with it", async () => {
    const c = new RawClient(fixtureCommand());
    await c.initialize();
    const server = await waitFor(() => children(c.proc.pid!)[0], 10_000, "upstream server");
    c.proc.kill("SIGTERM");
    await c.exit;
    await waitFor(() => !isAlive(server), 10_000, "upstream to end");
  });

  it("runs the upstream in --cwd with the proxy's environment, and relays its stderr with a prefix", async () => {
    const dir = tempDir();
    const script = `echo "cwd=$(pwd) token=$UPSTREAM_TOKEN" >&2; exec ${fixtureCommand()
      .map((a) => `'${a}'`)
      .join(" ")}`;
    const c = new RawClient(
      ["sh", "-c", script],
      ["--db", join(dir, "f.db"), "--outbox", join(dir, "o.log"), "--cwd", dir],
      { UPSTREAM_TOKEN: "t-123" },
    );
    await c.initialize();
    await waitFor(() => c.stderr.includes(`[upstream] cwd=${dir} token=t-123`), 10_000, "the upstream's stderr line");
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("exits non-zero with a clear message when the upstream command does not exist", async () => {
    const c = new RawClient(["/nonexistent/mcp-server"]);
    expect(await c.exit).not.toBe(0);
    expect(c.stderr).toContain('the upstream command "/nonexistent/mcp-server" could not be started');
  });

  it("refuses contradictory or missing upstream settings with a sentence", async () => {
    const none = spawn(NODE, [CLI, "proxy"], { env: proxyEnv() });
    let err = "";
    none.stderr.on("data", (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => none.once("exit", r))).toBe(2);
    expect(err).toContain("name the upstream: `patchworkmcp proxy -- <command> [args…]` or `--upstream-url <url>`");
  });
});
