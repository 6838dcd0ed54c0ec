/**
 * Flow control of the stdio proxy: a peer that falls behind makes the proxy
 * stop reading from the other side instead of buffering without bound, and a
 * message over --max-message-bytes is answered with an error, not passed on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RawClient, fixtureCommand, tempDir, textOf, waitFor } from "./helpers.js";

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

function proxyFlags(...extra: string[]): string[] {
  const dir = tempDir();
  return ["--db", join(dir, "f.db"), "--outbox", join(dir, "o.log"), ...extra];
}

describe("stdio proxy flow control", () => {
  it("stops reading the client while the server is not reading, then delivers every call", async () => {
    const c = new RawClient(fixtureCommand("--stall-stdin-ms", "2500"), proxyFlags("--debug"));
    const text = "x".repeat(1024 * 1024);
    c.send({
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    });
    for (let id = 1; id <= 30; id++)
      c.send({ id, method: "tools/call", params: { name: "echo", arguments: { text } } });
    await waitFor(() => c.stderr.includes("the upstream is not reading: pausing the client's input"), 20_000, "pause");
    // The proxy holds at most a pipe's worth: the rest of the 30 MB is still waiting on the client's side.
    expect(c.proc.stdin.writableLength).toBeGreaterThan(20 * 1024 * 1024);
    expect(rssMb(c.proc.pid!)).toBeLessThan(150);
    for (let id = 1; id <= 30; id++) expect(textOf((await c.response(id)).result)).toContain(text);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("stops reading the server while the client is not reading, then delivers every answer", async () => {
    const c = new RawClient(fixtureCommand(), proxyFlags("--debug"));
    await c.initialize();
    c.proc.stdout.pause();
    for (let id = 1; id <= 20; id++)
      c.send({ id, method: "tools/call", params: { name: "big", arguments: { bytes: 5 * 1024 * 1024 } } });
    await waitFor(() => c.stderr.includes("the client is not reading: pausing the upstream's output"), 20_000, "pause");
    // 100 MB of answers were asked for; the proxy keeps no more than a few of them.
    expect(rssMb(c.proc.pid!)).toBeLessThan(150);
    c.proc.stdout.resume();
    for (let id = 1; id <= 20; id++) expect(textOf((await c.response(id)).result)).toHaveLength(5 * 1024 * 1024);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("answers a client message over --max-message-bytes with an error for its id, and keeps serving", async () => {
    const c = new RawClient(fixtureCommand(), proxyFlags("--max-message-bytes", "65536"));
    await c.initialize();
    c.send({ id: 5, method: "tools/call", params: { name: "echo", arguments: { text: "y".repeat(200_000) } } });
    c.send({ id: 6, method: "tools/call", params: { name: "echo", arguments: { text: "small" } } });
    const dropped = await c.response(5);
    expect(dropped.error).toMatchObject({ code: -32600 });
    expect((dropped.error as { message: string }).message).toMatch(
      /more than the proxy passes on \(--max-message-bytes 65536\)/,
    );
    expect(textOf((await c.response(6)).result)).toContain("small");
    await waitFor(() => c.stderr.includes("over --max-message-bytes"), 5000, "a log line");
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("answers a request whose answer is over --max-message-bytes with an error, and keeps serving", async () => {
    const c = new RawClient(fixtureCommand(), proxyFlags("--max-message-bytes", "65536"));
    await c.initialize();
    c.send({ id: "big-one", method: "tools/call", params: { name: "big", arguments: { bytes: 300_000 } } });
    const dropped = await c.response("big-one");
    expect(dropped.error).toMatchObject({ code: -32603 });
    expect((dropped.error as { message: string }).message).toMatch(
      /answer was \d+ bytes, more than the proxy passes on/,
    );
    c.send({ id: 2, method: "tools/call", params: { name: "big", arguments: { bytes: 1000 } } });
    expect(textOf((await c.response(2)).result)).toHaveLength(1000);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  });

  it("refuses a --max-message-bytes that is not a sensible size", async () => {
    const c = new RawClient(fixtureCommand(), proxyFlags("--max-message-bytes", "12"));
    expect(await c.exit).toBe(2);
    expect(c.stderr).toMatch(/--max-message-bytes must be at least 1024/);
  });
});
