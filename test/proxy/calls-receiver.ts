/**
 * A loopback stand-in for the sidecar's POST /api/calls: it validates every body
 * with the contract's callBatchSchema (a body that does not validate is a 422
 * and fails the test that looks), keeps what it accepted, and can be stopped,
 * made to fail, and started again on the same port, as a sidecar restart would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { callBatchSchema, type CallBatch } from "../../src/analytics/index.js";

export interface ReceivedBatch {
  batch: CallBatch;
  authorization: string | undefined;
}

export class CallsReceiver {
  readonly batches: ReceivedBatch[] = [];
  readonly invalid: unknown[] = [];
  /** Answer every POST with this status instead of taking it (503: overloaded; 422: refuse). */
  failWith: number | undefined;
  private server?: Server;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Gone, as a killed sidecar: the port refuses connections until `start()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get calls() {
    return this.batches.flatMap((b) => b.batch.calls);
  }

  get rollups() {
    return this.batches.flatMap((b) => b.batch.rollups);
  }

  /** Calls counted, raw and rolled up. */
  countedCalls(filter: (item: { client_name: string | null; tool_name: string }) => boolean = () => true): number {
    return this.calls.filter(filter).length + this.rollups.filter(filter).reduce((n, r) => n + r.calls, 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/api/calls")
      return json(404, { error: { code: "not_found", message: "no such route" } });
    if (this.failWith !== undefined)
      return json(this.failWith, { error: { code: "failing", message: "failing on purpose" } });
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return json(400, { error: { code: "invalid_json", message: "not JSON" } });
    }
    const parsed = callBatchSchema.safeParse(body);
    if (!parsed.success) {
      this.invalid.push(body);
      return json(422, { error: { code: "invalid_calls", message: parsed.error.message } });
    }
    this.batches.push({ batch: parsed.data, authorization: req.headers.authorization });
    json(202, { accepted: { calls: parsed.data.calls.length, rollups: parsed.data.rollups.length } });
  }
}
