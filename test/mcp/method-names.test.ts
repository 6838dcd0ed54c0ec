import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";
import { openRawSession, rawMcp } from "./helpers.js";

let serve: ServeProcess;
let ingestKey = "";

beforeAll(async () => {
  const dbPath = testDbPath("pwm-mcp-methods-");
  const store = FeedbackStore.open(dbPath);
  ingestKey = store.createKey("ingest", "agents").key;
  store.close();
  serve = await startServe({ dbPath });
});
afterAll(async () => {
  await serve?.stop();
});

describe("method names that are Object.prototype properties", () => {
  it("are answered as unknown methods (-32601), never as a 403 for a missing scope", async () => {
    const url = `${serve.url}/mcp`;
    const session = await openRawSession(url, ingestKey);
    for (const [i, method] of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__"].entries()) {
      const res = await rawMcp(url, { key: ingestKey, session, body: { jsonrpc: "2.0", id: 100 + i, method } });
      expect(res.status, method).not.toBe(403);
      expect(res.body?.error?.code, method).toBe(-32601);
    }
  });
});
