/**
 * A fleet: 20 proxies (built CLI, stdio, each in front of its own fixture
 * server) sharing one analytics spill, sending to one sidecar that is killed
 * while they work and started again. Every call a client got an answer for is
 * counted once the sidecar is back — raw events plus replayed rollups — within
 * the bound the README states: a batch the sidecar took whose 202 was lost when
 * it died is sent again, so a proxy's count may exceed its calls by at most its
 * largest batch, never fall short.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CallsReceiver } from "./calls-receiver.js";
import { fixtureCommand, RawClient, tempDir, waitFor } from "./helpers.js";

const PROXIES = 20;

interface Member {
  client: RawClient;
  name: string;
  made: number;
}

const members: Member[] = [];

/** The answer to request `id` (longer patience than RawClient.response: the machine is busy). */
const answered = (client: RawClient, id: number) =>
  waitFor(() => client.lines.some((l) => l.id === id && ("result" in l || "error" in l)), 60_000, `answer ${id}`);
afterAll(async () => {
  for (const m of members) {
    m.client.proc.kill();
    await m.client.exit;
  }
});

describe("proxy fleet analytics", () => {
  it("20 proxies, one sidecar killed and restarted mid-run: raw + rollups reconcile with the calls made", async () => {
    const receiver = await new CallsReceiver().start();
    const dir = tempDir();
    const spill = join(dir, "calls-spill.json");
    // Started a few at a time: 40 processes starting at once on a two-core machine take longer than any wait.
    for (let i = 0; i < PROXIES; i++) {
      const client = new RawClient(fixtureCommand(), [
        "--sidecar-url",
        receiver.url,
        "--outbox",
        join(dir, "outbox.log"),
        "--no-missing-tool-reports",
      ]);
      const m: Member = { client, name: `fleet-${i}`, made: 0 };
      members.push(m);
      client.send({
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: m.name, version: "1" } },
      });
      if (i % 4 === 3 || i === PROXIES - 1) await Promise.all(members.slice(-4).map((x) => answered(x.client, 0)));
    }
    for (const m of members) m.client.send({ method: "notifications/initialized" });

    let sending = true;
    let nextId = 1;
    const loops = members.map(async (m) => {
      while (sending) {
        const id = nextId++;
        m.client.send({ id, method: "tools/call", params: { name: "echo", arguments: { text: `call ${id}` } } });
        await answered(m.client, id);
        m.made++;
        // A little air between calls, so the run spans the outage rather than finishing before it.
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    // Every proxy has delivered something: now the sidecar dies.
    await waitFor(
      () => members.every((m) => receiver.countedCalls((c) => c.client_name === m.name) > 0),
      60_000,
      "a delivery from every proxy",
    );
    await receiver.stop();
    const madeAtKill = members.reduce((n, m) => n + m.made, 0);
    // The proxies keep serving; what they record aggregates in the shared spill.
    await waitFor(() => existsSync(spill), 60_000, "the spill");
    await waitFor(
      () => members.reduce((n, m) => n + m.made, 0) > madeAtKill + PROXIES,
      60_000,
      "calls during the outage",
    );
    await receiver.start();

    // Back: the spill is replayed and removed while the fleet keeps working.
    const leftovers = () => readdirSync(dir).filter((f) => f.startsWith("calls-spill.json"));
    await waitFor(() => leftovers().length === 0, 90_000, "the spill replayed");
    sending = false;
    await Promise.all(loops);
    for (const m of members) m.client.proc.stdin.end();
    await Promise.all(members.map((m) => m.client.exit));

    expect(receiver.invalid).toEqual([]);
    expect(receiver.rollups.length).toBeGreaterThan(0);
    expect(leftovers()).toEqual([]);
    const report = members.map((m) => {
      const mine = (c: { client_name: string | null }) => c.client_name === m.name;
      const counted = receiver.countedCalls(mine);
      const largestBatch = Math.max(
        ...receiver.batches.map(
          (b) => b.batch.calls.filter(mine).length + b.batch.rollups.filter(mine).reduce((n, r) => n + r.calls, 0),
        ),
      );
      return { name: m.name, made: m.made, counted, largestBatch };
    });
    for (const r of report) {
      expect(r.counted, `${r.name} lost calls`).toBeGreaterThanOrEqual(r.made);
      expect(r.counted - r.made, `${r.name} counted more than one batch twice`).toBeLessThanOrEqual(r.largestBatch);
    }
    const made = report.reduce((n, r) => n + r.made, 0);
    const counted = report.reduce((n, r) => n + r.counted, 0);
    process.stderr.write(`fleet: ${made} calls made, ${counted} counted (${receiver.rollups.length} rollup rows)\n`);
    await receiver.stop();
  }, 240_000);
});
