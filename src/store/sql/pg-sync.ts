/**
 * A synchronous PostgreSQL connection: node-postgres in a worker thread, and a caller that
 * blocks until each query's answer is there, the way better-sqlite3 blocks on the disk.
 *
 * Protocol: the caller lowers a shared flag, posts {id, text, values} on a MessagePort and
 * waits on the flag (Atomics.wait); the worker runs the query, posts the reply (with the same id)
 * on the port and raises the flag; the caller wakes and takes the reply synchronously
 * (receiveMessageOnPort), waiting a few microseconds more if it is not visible yet.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { PG_WORKER_SOURCE } from "./pg-worker.js";

const PG_PATH = createRequire(import.meta.url).resolve("pg");

export type PgRequest =
  /** `before`: parameterless statements run first, in the same exchange (see PgSyncConnection.defer). */
  | { op: "query"; before: string[]; text: string; values: unknown[]; array: boolean; prepare: boolean }
  | { op: "close" };
/** Each reply carries its request's id (added on the way in). */
export type PgReply =
  | { ok: true; rows: unknown[]; rowCount: number }
  | {
      ok: false;
      message: string;
      code?: string | undefined;
      detail?: string | undefined;
      constraint?: string | undefined;
    };

/** A PostgreSQL error as the store sees it: the server's SQLSTATE in `code` ("23505" unique violation, …). */
export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "PgError";
  }

  /**
   * A failure a retry may not meet: the connection was lost (08…, the server shutting down 57P0…,
   * no SQLSTATE at all, or no answer), a serialization failure or deadlock (40001, 40P01), or the
   * server out of resources (53…).
   */
  get transient(): boolean {
    const c = this.code ?? "";
    return !/^[0-9A-Z]{5}$/.test(c) || /^(08|57P0|53|40001|40P01)/.test(c);
  }
}

/** How long one query may take before the caller gives up on the connection (ms). */
const QUERY_TIMEOUT_MS = 120_000;

export class PgSyncConnection {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  /** Never notified: Atomics.wait on it is a short sleep. */
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  private deferred: string[] = [];
  private workerAlive = true;
  private closed = false;

  constructor(url: string, applicationName = "patchworkmcp") {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    this.signal = new Int32Array(flag);
    this.port = port1;
    this.worker = new Worker(PG_WORKER_SOURCE, {
      eval: true,
      workerData: { url, port: port2, flag, applicationName, pgPath: PG_PATH },
      transferList: [port2],
    });
    this.worker.unref();
    this.worker.once("exit", () => {
      this.workerAlive = false;
    });
    this.port.unref();
  }

  /** One query; `prepare`: a statement the caller runs again and again (kept prepared on the connection). */
  query(text: string, values: unknown[] = [], array = false, prepare = false): { rows: unknown[]; rowCount: number } {
    const before = this.deferred;
    this.deferred = [];
    const r = this.call({ op: "query", before, text, values, array, prepare });
    if (!r.ok) throw new PgError(r.message, r.code, r.detail);
    return r;
  }

  /**
   * Run `text` (no parameters, its rows unused) just before the next query, in the same exchange
   * with the connection's thread: a BEGIN or a lock costs no wait of its own. A failure is the
   * next query's.
   */
  defer(text: string): void {
    this.deferred.push(text);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call({ op: "close" });
    } finally {
      void this.worker.terminate();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private call(req: PgRequest): PgReply {
    if (this.closed && req.op !== "close") throw new PgError("the database connection is closed", "closed");
    const id = ++this.seq;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ ...req, id });
    const deadline = Date.now() + QUERY_TIMEOUT_MS;
    Atomics.wait(this.signal, 0, 0, QUERY_TIMEOUT_MS);
    // The flag can rise a moment before the reply is visible on this side of the port: wait for
    // the reply with this request's id (20 µs at a time), never taking another request's answer.
    for (;;) {
      const msg = receiveMessageOnPort(this.port);
      if (msg !== undefined) {
        const reply = msg.message as PgReply & { id: number };
        if (reply.id === id) return reply;
        continue; // a reply to a request that had already timed out
      }
      if (Date.now() > deadline) {
        throw new PgError(`PostgreSQL did not answer within ${QUERY_TIMEOUT_MS / 1000} s`, "unavailable");
      }
      if (!this.workerAlive) throw new PgError("the PostgreSQL connection thread stopped", "unavailable");
      Atomics.wait(this.nap, 0, 0, 0.02);
    }
  }
}
