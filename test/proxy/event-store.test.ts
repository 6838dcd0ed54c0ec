import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { boundedEventStore } from "../../proxy/event-store.js";

const note = (n: number, text = ""): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/message",
  params: { level: "info", data: `${n}${text}` },
});

async function replay(store: ReturnType<typeof boundedEventStore>, after: string): Promise<string[]> {
  const seen: string[] = [];
  await store.replayEventsAfter(after, {
    send: async (_id, m) => void seen.push(String((m as unknown as { params: { data: string } }).params.data)),
  });
  return seen;
}

describe("bounded event store", () => {
  it("replays only the same stream's later events, and skips priming events", async () => {
    const store = boundedEventStore();
    const a1 = await store.storeEvent("a", note(1));
    await store.storeEvent("b", note(2));
    await store.storeEvent("a", {} as JSONRPCMessage);
    await store.storeEvent("a", note(3));
    expect(await replay(store, a1)).toEqual(["3"]);
    expect(await store.getStreamIdForEventId!(a1)).toBe("a");
  });

  it("drops the oldest events past the count or size limit, and refuses ids it no longer has", async () => {
    const store = boundedEventStore({ maxEvents: 3, maxBytes: 1_000_000 });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push(await store.storeEvent("s", note(n)));
    expect(await store.getStreamIdForEventId!(ids[1]!)).toBeUndefined();
    await expect(replay(store, ids[0]!)).rejects.toThrow(/no longer kept/);
    expect(await replay(store, ids[2]!)).toEqual(["4", "5"]);

    const small = boundedEventStore({ maxEvents: 100, maxBytes: 2_500 });
    const big = await small.storeEvent("s", note(1, "x".repeat(1_000)));
    await small.storeEvent("s", note(2, "x".repeat(1_000)));
    const last = await small.storeEvent("s", note(3, "x".repeat(1_000)));
    expect(await small.getStreamIdForEventId!(big)).toBeUndefined();
    expect(await small.getStreamIdForEventId!(last)).toBe("s");
  });

  it("keeps the newest event even when it alone is over the size limit", async () => {
    const store = boundedEventStore({ maxEvents: 10, maxBytes: 100 });
    const id = await store.storeEvent("s", note(1, "x".repeat(500)));
    expect(await store.getStreamIdForEventId!(id)).toBe("s");
  });
});
