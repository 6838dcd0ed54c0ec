/**
 * Requests the proxy sends upstream on its own account (its `tools/list`),
 * under ids no client uses: the reserved prefix, this process's instance tag
 * (so proxies chained in front of each other never claim each other's
 * answers) and a counter. Every answer under such an id is the proxy's — one
 * that arrives after its request timed out included: it is dropped, never
 * passed to a client that did not ask.
 */
import { randomBytes } from "node:crypto";
import { RESERVED_ID_PREFIX, type Frame, type RpcMessage } from "./jsonrpc.js";
import type { Log } from "./log.js";

/** Per-process part of our request ids. */
const INSTANCE = randomBytes(4).toString("hex");

export const OWN_REQUEST_TIMEOUT_MS = 10_000;

export interface OwnRequestsOptions {
  /** Hand a message to upstream; throws or rejects when it could not be taken. */
  send: (frame: Frame) => Promise<void> | void;
  /** Where a dropped late answer is mentioned. */
  debug: Log;
  timeoutMs?: number;
  /** Distinguishes proxies in one process (tests); defaults to this process's tag. */
  instance?: string;
}

export class OwnRequests {
  private readonly waiting = new Map<string, (m: RpcMessage | undefined) => void>();
  private readonly prefix: string;
  private seq = 0;
  private closed = false;

  constructor(private readonly options: OwnRequestsOptions) {
    this.prefix = `${RESERVED_ID_PREFIX}${options.instance ?? INSTANCE}:`;
  }

  /** Ask upstream; resolves with its answer, or `undefined` when it failed, timed out or upstream closed. */
  request(method: string, params?: Record<string, unknown>): Promise<RpcMessage | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const id = `${this.prefix}${++this.seq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), this.options.timeoutMs ?? OWN_REQUEST_TIMEOUT_MS);
      const done = (m: RpcMessage | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(m);
      };
      this.waiting.set(id, done);
      try {
        this.options
          .send({ msg: { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) } })
          ?.catch(() => done(undefined));
      } catch {
        done(undefined);
      }
    });
  }

  /** `true` when this answer is to one of ours (settled here, or dropped when nobody waits any more). */
  claim(m: RpcMessage): boolean {
    const id = m.id;
    if (typeof id !== "string" || !id.startsWith(this.prefix)) return false;
    const done = this.waiting.get(id);
    if (done) done(m);
    else this.options.debug(`dropped upstream's answer to the proxy's own request ${id}: it came after the wait ended`);
    return true;
  }

  /** Upstream is gone: everything waiting gets `undefined`, later requests too. */
  close(): void {
    this.closed = true;
    for (const done of [...this.waiting.values()]) done(undefined);
  }
}
