/**
 * SSE polling offered by the proxy itself (SEP-1699, `--sse-poll-after`): when a
 * 2025-11-25 session's POST stream has been open that long without its answer,
 * the proxy ends it, and the client reconnects with `Last-Event-ID` and gets the
 * answer from the session's event store (event-store.ts), replayed or live. For
 * load balancers that cut quiet streams, and for upstreams that cannot end a
 * stream themselves (a stdio server has none).
 *
 * Only a stream the client can resume is ended: the SDK's transport primes it
 * with an event id (a client of 2025-11-25 or later) and then, and only then,
 * hands `onmessage` a `closeSSEStream` for the request. Each POST stream is
 * ended once; the stream the client resumes on stays until the answer.
 */
import type { Response } from "express";
import { isObject, type RpcId } from "./jsonrpc.js";
import type { Log } from "./log.js";

/** The ids of the requests in a POST body (one message or a batch); notifications and responses have none. */
export function requestIds(body: unknown): RpcId[] {
  const ids: RpcId[] = [];
  for (const m of Array.isArray(body) ? body : [body])
    if (isObject(m) && typeof m.method === "string" && (typeof m.id === "string" || typeof m.id === "number"))
      ids.push(m.id);
  return ids;
}

export class SsePoller {
  /** Unanswered requests whose stream the client can resume, with the SDK's way to end it. */
  private readonly resumable = new Map<RpcId, () => void>();

  constructor(private readonly options: { afterMs: number; debug?: Log | undefined }) {}

  /** The transport handed request `id` on; `closeStream` is set when its stream is resumable. */
  received(id: RpcId, closeStream: (() => void) | undefined): void {
    if (this.options.afterMs > 0 && closeStream) this.resumable.set(id, closeStream);
  }

  /** The answer to `id` is on its way: nothing left to poll for. */
  answered(id: RpcId): void {
    this.resumable.delete(id);
  }

  /** A POST that carries requests `ids` and is answered on `res`: end its stream if it outlasts the limit. */
  watch(res: Response, ids: RpcId[]): void {
    const { afterMs, debug } = this.options;
    if (afterMs <= 0 || ids.length === 0) return;
    const timer = setTimeout(() => {
      if (res.writableEnded || res.destroyed) return;
      // A batch shares one stream: ending it for one request ends it for all.
      const id = ids.find((i) => this.resumable.has(i));
      if (id === undefined) {
        debug?.(
          `the stream of request ${ids.join(", ")} is open after ${afterMs} ms; it stays, as the client cannot resume it`,
        );
        return;
      }
      debug?.(`ended the stream of request ${ids.join(", ")} after ${afterMs} ms: the client resumes it (SEP-1699)`);
      this.resumable.get(id)!();
    }, afterMs);
    res.once("close", () => clearTimeout(timer));
  }
}
