/**
 * What the proxy records about each upstream `tools/call` it passes on (the
 * contract is src/analytics/call-event.ts), and the hook that hands each
 * finished call to whoever wants it: the analytics buffer (analytics.ts), an
 * OTLP exporter, a test. Sinks are called synchronously with the finished
 * event, so they must be cheap; one that throws is caught (the call is never
 * affected) and logged the first time only.
 *
 * The session (session.ts) notes a call's start where it already reads the
 * request — the raw fast path's `toolCallOf`, or the parsed frame — and its end
 * where the answer is routed; for a raw answer line the outcome is sniffed off
 * the bytes (`isErrorResult`), never parsed.
 */
import { CALL_LIMITS, type CallEvent, type CallOutcome } from "../src/analytics/index.js";
import type { RpcId } from "./jsonrpc.js";
import type { Log } from "./log.js";

/** How the call reached the proxy (OpenTelemetry's `network.transport`): stdio is "pipe", HTTP "tcp". */
export type CallTransport = "pipe" | "tcp";

export interface CallContext {
  transport: CallTransport;
  /** The JSON-RPC id the client gave the call. */
  request_id: RpcId;
}

/** Called with every finished call; must not block (it runs on the request path). */
export type CallSink = (event: CallEvent, context: CallContext) => void;

/** Noted when the call goes upstream. */
export interface CallStart {
  tool: string;
  /** performance.now() when sent: the duration, and (with the wall-clock offset) the start time. */
  t0: number;
  requestBytes: number;
  arguments: Record<string, unknown> | null;
  /** Facts the request itself states (2026-07-28 envelopes), over the session's. */
  caller?: Partial<CallFacts>;
}

/** What the session knows about its two ends when a call finishes. */
export interface CallFacts {
  serverName: string | undefined;
  serverVersion: string | undefined;
  clientName: string | undefined;
  clientVersion: string | undefined;
  protocolVersion: string | undefined;
  sessionId: string | undefined;
}

export interface CallEnd {
  outcome: CallOutcome;
  errorCode: number | null;
  responseBytes: number;
}

/**
 * The code a call is recorded with when the client cancelled it: the client gets
 * no answer at all, so the code is the one JSON-RPC implementations use for a
 * cancelled request (LSP's RequestCancelled).
 */
export const REQUEST_CANCELLED = -32800;

/** Used when upstream never said its name and no --name was given. */
export const UNKNOWN_SERVER = "unknown";

const cut = (s: string | undefined, max: number): string | null =>
  s === undefined || s === "" ? null : s.length > max ? s.slice(0, max) : s;

/**
 * Arguments as recorded: the object itself when its JSON fits CALL_LIMITS.arguments_chars,
 * else a marked preview. Scrubbing (src/privacy/) happens off the request path: on the analytics
 * flush before they are sent (`--privacy`, analytics.ts), and where they are stored.
 */
export function recordedArguments(args: unknown): Record<string, unknown> | null {
  if (typeof args !== "object" || args === null || Array.isArray(args)) return null;
  let text: string;
  try {
    text = JSON.stringify(args);
  } catch {
    return { _unrecordable: true };
  }
  if (text.length <= CALL_LIMITS.arguments_chars) return args as Record<string, unknown>;
  return { _truncated: true, _chars: text.length, _preview: text.slice(0, CALL_LIMITS.arguments_chars - 100) };
}

export interface CallRecorderOptions {
  sinks: CallSink[];
  /** `--record-arguments`: keep each call's arguments (off: never). */
  recordArguments: boolean;
  log: Log;
}

/** One per proxy: every session's finished calls go through it to the sinks. */
export class CallRecorder {
  readonly recordArguments: boolean;
  private readonly sinks: CallSink[];
  private readonly failed = new Set<number>();
  private finished = 0;
  private wallOffset = Date.now() - performance.now();
  private isoSecond = Number.NaN;
  private isoPrefix = "";

  constructor(private readonly options: CallRecorderOptions) {
    this.sinks = [...options.sinks];
    this.recordArguments = options.recordArguments;
  }

  /**
   * ISO 8601 of a wall-clock time in ms. Date#toISOString costs about as much as the rest of
   * recording a call put together, so the second is formatted once and the milliseconds appended.
   */
  private isoOf(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    if (second !== this.isoSecond) {
      this.isoSecond = second;
      this.isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const milli = whole - second * 1000;
    return `${this.isoPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
  }

  /** Add a sink (e.g. an OTLP exporter) after construction. */
  addSink(sink: CallSink): void {
    this.sinks.push(sink);
  }

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  start(tool: string, requestBytes: number, args: unknown): CallStart {
    return {
      tool,
      t0: performance.now(),
      requestBytes,
      arguments: this.recordArguments ? recordedArguments(args) : null,
    };
  }

  finish(start: CallStart, end: CallEnd, sessionFacts: CallFacts, context: CallContext): void {
    const facts = start.caller ? { ...sessionFacts, ...definedOnly(start.caller) } : sessionFacts;
    const now = performance.now();
    // One clock read per end of a call: the wall clock is derived, and re-read now and then.
    if ((++this.finished & 1023) === 0) this.wallOffset = Date.now() - now;
    const event: CallEvent = {
      server_name: cut(facts.serverName, CALL_LIMITS.name) ?? UNKNOWN_SERVER,
      server_version: cut(facts.serverVersion, CALL_LIMITS.version),
      tool_name: start.tool.slice(0, CALL_LIMITS.name),
      started_at: this.isoOf(this.wallOffset + start.t0),
      duration_ms: Math.min(86_400_000, Math.max(0, Math.round((now - start.t0) * 1000) / 1000)),
      outcome: end.outcome,
      error_code: end.outcome === "error" ? end.errorCode : null,
      client_name: cut(facts.clientName, CALL_LIMITS.name),
      client_version: cut(facts.clientVersion, CALL_LIMITS.version),
      protocol_version: cut(facts.protocolVersion, CALL_LIMITS.version),
      session_id: cut(facts.sessionId, CALL_LIMITS.session_id),
      request_bytes: start.requestBytes,
      response_bytes: end.responseBytes,
      arguments: start.arguments,
    };
    for (let i = 0; i < this.sinks.length; i++) {
      try {
        this.sinks[i]!(event, context);
      } catch (err) {
        if (this.failed.has(i)) continue;
        this.failed.add(i);
        this.options.log(
          `a call-analytics sink failed (${err instanceof Error ? err.message : String(err)}); the call went through, later failures of this sink are not logged`,
        );
      }
    }
  }
}

function definedOnly(facts: Partial<CallFacts>): Partial<CallFacts> {
  const out: Partial<CallFacts> = {};
  for (const [k, v] of Object.entries(facts) as [keyof CallFacts, string | undefined][])
    if (v !== undefined) out[k] = v;
  return out;
}

const IS_ERROR_TRUE = Buffer.from('"isError":true');
const IS_ERROR_TRUE_SPACED = Buffer.from('"isError": true');

/**
 * A raw result line whose result says `isError: true`, read off the bytes: the
 * key with an unescaped quote can only be a key (inside a JSON string a quote is
 * `\"`). Searched from the end, where both SDKs write it. A nested object with
 * its own `isError` key (in structuredContent) would be misread: tools/call
 * results rarely carry one.
 */
export function isErrorResult(line: Buffer): boolean {
  return line.lastIndexOf(IS_ERROR_TRUE) !== -1 || line.lastIndexOf(IS_ERROR_TRUE_SPACED) !== -1;
}

/** The bytes of a message that came without its line (object transports): its JSON length. */
export function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? "");
  } catch {
    return 0;
  }
}
