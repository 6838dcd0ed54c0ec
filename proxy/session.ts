/**
 * One downstream connection and its upstream: raw JSON-RPC passes through
 * unchanged except for exactly three interceptions —
 *   1. the `initialize` result (instructions appended, `tools` capability ensured),
 *   2. the first `tools/list` page (the feedback tool added),
 *   3. `tools/call` of the feedback tool (answered here).
 * Everything else keeps its ids, `_meta`, cursors and payload. The session also
 * remembers what a report gets for free (server and client names, the tools
 * upstream listed, the session id) and which stream a server message belongs
 * to (progress token → request id), for downstreams that care (HTTP).
 *
 * The session routes; what it routes to lives beside it: the tool catalogue
 * (tool-catalogue.ts: upstream's tools, the name the feedback tool is offered
 * under, the edits to `tools/list`), the initialize gate (initialize-gate.ts:
 * the handshake the proxy finishes with upstream before the client gets the
 * initialize result, and the instructions in it), the proxy's own requests
 * upstream (own-requests.ts) and the feedback tool's answers and missing-tool
 * reports (feedback-call.ts).
 *
 * Protocol revisions: what a revision changes lands in those modules, not in
 * the routing here. For 2026-07-28, serverInfo read from the initialize
 * result's `_meta` goes in `introductionOf` (initialize-gate.ts), and the
 * `resultType: "complete"` of results the proxy builds itself in `toolResult`
 * (feedback-call.ts) and the catalogue's own `tools/list` page; the negotiated
 * version is known in `initializeResult` below.
 */
import {
  type CallEnd,
  type CallFacts,
  type CallRecorder,
  type CallStart,
  type CallTransport,
  isErrorResult,
  jsonBytes,
  REQUEST_CANCELLED,
} from "./calls.js";
import { clientTypeOf, FeedbackCalls, type ToolResult } from "./feedback-call.js";
import { callerOf, envelopeClient, envelopeForOwnRequests, isModernRequest, SUBSCRIPTION_ID_META } from "./era.js";
import { InitializeGate, introductionOf, withInstructions } from "./initialize-gate.js";
import {
  CONNECTION_CLOSED,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  errorFrame,
  isNotification,
  isObject,
  isRequest,
  isResponse,
  paramsOf,
  progressTokenOf,
  resultFrame,
  type Frame,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.js";
import type { OversizedLine } from "./line-reader.js";
import { idAtEnds, resultId, toolCallOf } from "./line-sniff.js";
import type { Log } from "./log.js";
import { OwnRequests } from "./own-requests.js";
import { type ParamHeader, paramHeaderValues } from "./param-headers.js";
import type { Reporter } from "./reporter.js";
import { ToolCatalogue } from "./tool-catalogue.js";
import type { UpstreamClosed, UpstreamLink } from "./upstream.js";

export { instructionsFor } from "./initialize-gate.js";

export interface SessionConfig {
  /** Name to offer the feedback tool under. */
  toolName: string;
  /** Name to use instead when upstream already has a tool called `toolName`. */
  collisionToolName: string;
  /** Overrides upstream's serverInfo.name in reports. */
  serverName?: string | undefined;
  /** Record calls to tools upstream never listed as missing_tool reports. */
  missingToolReports: boolean;
  /** `--record-arguments`: missing_tool reports carry argument values; otherwise only their names. */
  recordArguments?: boolean | undefined;
  /**
   * Shared by every session of one proxy (one upstream): once a session finds
   * the name taken, later sessions offer the other name from their first
   * message on, instructions included.
   */
  learned?: { toolName?: string };
  /** How long the proxy waits for upstream to answer a request of its own, in ms (a later answer is dropped). */
  ownRequestTimeoutMs?: number | undefined;
}

/** Where messages for the client go; `relatedRequestId` picks the HTTP stream. */
export interface DownstreamSink {
  send(frame: Frame, relatedRequestId?: RpcId): void;
  /** HTTP (2025-11-25): end a request's stream for the client to resume after `retryMs`, as upstream did. */
  closeStream?(requestId: RpcId, retryMs: number | undefined): void;
  /** Line transports take an unparsed line (newline included) too (see `fastResponse`). */
  sendRaw?(line: Buffer): void;
}

interface Pending {
  id: RpcId;
  method: string;
  firstToolsPage: boolean;
  progressToken?: RpcId;
  /** A 2026-07-28 request: what the proxy builds for it carries `resultType`. */
  modern?: boolean;
  /** An upstream `tools/call` being recorded (calls.ts). */
  call?: CallStart;
}

export interface SessionOptions {
  upstream: UpstreamLink;
  downstream: DownstreamSink;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
  /** Details worth having only when looking for trouble (`--debug`); dropped when absent. */
  debug?: Log;
  /** The MCP session id (HTTP) or one made up per stdio connection. */
  sessionId: () => string | undefined;
  onUpstreamClosed: (info: UpstreamClosed) => void;
  /** Records every upstream `tools/call` (absent: nothing is recorded). */
  calls?: CallRecorder | undefined;
  /** How the client reaches this session, for the recorded calls (default "pipe"). */
  transport?: CallTransport;
}

/** Requests whose answers the proxy changes: never on the raw fast path. */
const INTERCEPTED = new Set(["initialize", "server/discover", "tools/list"]);

export class ProxySession {
  lastActivity = Date.now();
  /** Client requests waiting upstream, by id (a Map keeps 1 and "1" apart). */
  private readonly pending = new Map<RpcId, Pending>();
  private readonly progress = new Map<RpcId, RpcId>();
  /** Server→client requests: which client request's stream they went out on. */
  private readonly serverRequests = new Map<RpcId, RpcId | undefined>();
  private readonly localCalls = new Map<RpcId, { cancelled: boolean }>();
  private readonly catalogue: ToolCatalogue;
  private readonly gate: InitializeGate;
  private readonly own: OwnRequests;
  private readonly feedback: FeedbackCalls;
  private upstreamName?: string;
  private upstreamVersion?: string;
  private clientType?: string;
  private clientName?: string;
  private clientVersion?: string;
  private protocolVersion?: string;
  /** The recorder, when it has sinks. */
  private readonly calls?: CallRecorder;
  /** The envelope of the latest 2026-07-28 request: the proxy's own requests upstream need one too. */
  private envelope?: Record<string, unknown> | undefined;
  /** The revisions upstream's `server/discover` result offers (2026-07-28). */
  upstreamVersions?: string[] | undefined;
  private closedInfo?: UpstreamClosed;

  constructor(private readonly options: SessionOptions) {
    const { upstream, config, log } = options;
    this.catalogue = new ToolCatalogue({
      toolName: config.toolName,
      collisionToolName: config.collisionToolName,
      learned: config.learned,
      log,
      onRenamed: () => this.toClient({ msg: { jsonrpc: "2.0", method: "notifications/tools/list_changed" } }),
    });
    this.gate = new InitializeGate({
      downstream: options.downstream,
      sendInitialized: () => upstream.send({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } }),
      log,
    });
    this.own = new OwnRequests({
      send: (frame) => upstream.send(frame),
      debug: options.debug ?? (() => undefined),
      timeoutMs: config.ownRequestTimeoutMs,
    });
    this.feedback = new FeedbackCalls({
      reporter: options.reporter,
      log,
      serverName: config.serverName,
      missingToolReports: config.missingToolReports,
      recordArguments: config.recordArguments === true,
      facts: () => ({
        upstreamName: this.upstreamName,
        upstreamVersion: this.upstreamVersion,
        clientType: this.clientType,
        toolsAvailable: this.toolsAvailable,
        sessionId: options.sessionId(),
      }),
    });
    if (options.calls?.enabled) this.calls = options.calls;
    upstream.onmessage = (frame) => this.fromUpstream(frame);
    if (options.downstream.sendRaw) upstream.onrawline = (line) => this.fastResponse(line);
    upstream.onclose = (info) => this.upstreamClosed(info);
    upstream.onstreamclosed = (requestId, retryMs) => {
      if (this.pending.has(requestId)) options.downstream.closeStream?.(requestId, retryMs);
    };
    upstream.ontoolong = (line) => this.upstreamLineDropped(line);
  }

  /** Name the feedback tool is offered under in this session (changes on a collision). */
  get toolName(): string {
    return this.catalogue.toolName;
  }

  get pendingCount(): number {
    return this.pending.size + this.localCalls.size;
  }

  /**
   * The `Mcp-Param-*` marks of an upstream tool, for checking a call's
   * headers in front of an upstream that never sees them; lists upstream's
   * tools first when the catalogue does not know the name yet.
   */
  async paramHeadersFor(name: string, request: Frame): Promise<ParamHeader[]> {
    if (!this.catalogue.isUpstreamTool(name) && name !== this.toolName && !this.catalogue.upstreamHasNoTools) {
      if (isModernRequest(request.msg)) this.envelope = envelopeForOwnRequests(request.msg);
      await this.refreshTools();
    }
    return this.catalogue.paramHeaders(name);
  }

  /** The tool names upstream last listed (without the injected tool). */
  get toolsAvailable(): string[] {
    return this.catalogue.upstreamTools;
  }

  // ── client → server ────────────────────────────────────────────────────

  fromDownstream(frame: Frame): void {
    this.lastActivity = Date.now();
    const m = frame.msg;
    if (isRequest(m)) {
      this.clientRequest(frame, m.id as RpcId, m.method as string);
      return;
    }
    if (isNotification(m) && m.method === "notifications/initialized" && !this.gate.clientInitialized()) return;
    if (isNotification(m) && m.method === "notifications/cancelled") {
      const rid = paramsOf(m).requestId;
      if (typeof rid === "string" || typeof rid === "number") {
        const local = this.localCalls.get(rid);
        if (local) {
          local.cancelled = true;
          return;
        }
        this.endCall(this.release(rid), { outcome: "error", errorCode: REQUEST_CANCELLED, responseBytes: 0 });
      }
    } else if (isResponse(m) && m.id !== undefined && m.id !== null) {
      this.serverRequests.delete(m.id);
    }
    this.forward(frame);
  }

  private clientRequest(frame: Frame, id: RpcId, method: string): void {
    const params = paramsOf(frame.msg);
    const modern = isModernRequest(frame.msg);
    if (modern) this.envelope = envelopeForOwnRequests(frame.msg);
    let call: CallStart | undefined;
    if (method === "tools/call") {
      const name = params.name;
      if (name === this.toolName) {
        void this.answerFeedback(frame, id, params.arguments);
        return;
      }
      if (typeof name === "string" && !this.catalogue.isUpstreamTool(name))
        this.feedback.noticeUnknownTool(
          name,
          params.arguments,
          {
            settle: async () => {
              if (!this.catalogue.settled && this.catalogue.canRefresh) await this.refreshTools();
              return this.catalogue.settled;
            },
            known: (tool) => this.catalogue.isUpstreamTool(tool) || tool === this.toolName,
          },
          callerOf(frame.msg),
        );
      // A client without headers (stdio) calling an HTTP upstream: the proxy states the marked arguments.
      if (modern && frame.headers === undefined && typeof name === "string") {
        const headers = paramHeaderValues(this.catalogue.paramHeaders(name), params.arguments);
        if (Object.keys(headers).length > 0) frame = { ...frame, headers };
      }
      if (this.calls && typeof name === "string") {
        call = this.calls.start(name, frame.raw?.length ?? jsonBytes(frame.msg), params.arguments);
        // 2026-07-28: no initialize, and one shared session serves every client: each request names its own.
        if (modern) call.caller = callerFacts(frame.msg);
      }
    } else if (method === "tools/list" && this.catalogue.upstreamHasNoTools) {
      // Upstream has no tools at all: the list is ours alone.
      const own = this.catalogue.ownList(params.cursor, modern);
      this.toClient("result" in own ? resultFrame(id, own.result) : errorFrame(id, INVALID_PARAMS, own.error), id);
      return;
    } else if (method === "initialize") {
      this.clientType = clientTypeOf(params.clientInfo) ?? this.clientType;
      const info = isObject(params.clientInfo) ? params.clientInfo : {};
      if (typeof info.name === "string") this.clientName = info.name;
      if (typeof info.version === "string") this.clientVersion = info.version;
      if (typeof params.protocolVersion === "string") this.protocolVersion = params.protocolVersion;
    }
    const entry: Pending = { id, method, firstToolsPage: method === "tools/list" && params.cursor === undefined };
    if (modern) entry.modern = true;
    if (call) entry.call = call;
    const token = progressTokenOf(frame.msg);
    if (token !== undefined) {
      entry.progressToken = token;
      this.progress.set(token, id);
    }
    this.pending.set(id, entry);
    this.forward(frame, id);
  }

  /**
   * The most common client message — `tools/call` of a tool upstream listed —
   * tracked and handed to a line upstream as the bytes received, without a
   * parse (see `toolCallOf`). `false`: anything else, for `fromDownstream`.
   * Only stdio downstreams call this, and they are never reaped for being
   * idle, so `lastActivity` is left alone.
   */
  fastRequest(line: Buffer): boolean {
    const upstream = this.options.upstream;
    if (!upstream.sendRaw) return false;
    const call = toolCallOf(line);
    if (!call || !this.catalogue.isUpstreamTool(call.name)) return false;
    const entry: Pending = { id: call.id, method: "tools/call", firstToolsPage: false };
    if (this.calls)
      entry.call = this.calls.start(
        call.name,
        line.length,
        this.calls.recordArguments ? argumentsOfLine(line) : undefined,
      );
    this.pending.set(call.id, entry);
    try {
      upstream.sendRaw(line);
    } catch (err) {
      this.notTaken(call.id, err);
    }
    return true;
  }

  private forward(frame: Frame, requestId?: RpcId): void {
    try {
      this.options.upstream.send(frame)?.catch((err: unknown) => this.notTaken(requestId, err));
    } catch (err) {
      this.notTaken(requestId, err);
    }
  }

  /** Upstream could not take a message: a request is answered with an error at once. */
  private notTaken(requestId: RpcId | undefined, err: unknown): void {
    if (requestId === undefined || !this.pending.has(requestId)) return;
    const entry = this.release(requestId);
    const why = err instanceof Error ? err.message : String(err);
    const answer = errorFrame(
      requestId,
      CONNECTION_CLOSED,
      `The upstream MCP server could not take this request: ${why}`,
    );
    this.endCall(entry, { outcome: "error", errorCode: CONNECTION_CLOSED, responseBytes: jsonBytes(answer.msg) });
    this.toClient(answer, requestId);
  }

  /** A recorded call ended: hand it to the recorder with what the session knows. */
  private endCall(entry: Pending | undefined, end: CallEnd): void {
    if (!entry?.call || !this.calls) return;
    this.calls.finish(
      entry.call,
      end,
      {
        serverName: this.options.config.serverName ?? this.upstreamName,
        serverVersion: this.upstreamVersion,
        clientName: this.clientName,
        clientVersion: this.clientVersion,
        protocolVersion: this.protocolVersion,
        sessionId: this.options.sessionId(),
      },
      { transport: this.options.transport ?? "pipe", request_id: entry.id },
    );
  }

  private release(key: RpcId): Pending | undefined {
    const entry = this.pending.get(key);
    if (!entry) return undefined;
    this.pending.delete(key);
    if (entry.progressToken !== undefined) this.progress.delete(entry.progressToken);
    return entry;
  }

  // ── server → client ────────────────────────────────────────────────────

  private fromUpstream(frame: Frame): void {
    const m = frame.msg;
    if (isResponse(m)) {
      // Answers to the client count as activity; a server's own chatter (logs, updates) does not,
      // or a session whose client has gone would never be reaped.
      this.lastActivity = Date.now();
      const id = m.id;
      if (id === undefined || id === null) {
        this.toClient(frame);
        return;
      }
      if (this.own.claim(m)) return;
      const entry = this.release(id);
      if (entry?.call) this.endCall(entry, outcomeOf(frame));
      if (isObject(m.result)) this.learnServerInfo(m.result);
      if (entry?.method === "initialize" || entry?.method === "server/discover") this.introductionResult(frame, id);
      else if (entry?.method === "tools/list")
        this.toClient(this.toolsListResult(frame, entry.firstToolsPage, entry.modern === true), id);
      else this.toClient(frame, id);
      return;
    }
    if (isRequest(m)) {
      // Sampling, elicitation, roots: they belong with the call that caused them.
      const related = frame.related ?? this.latestPending();
      this.serverRequests.set(m.id as RpcId, related);
      this.toClient(frame, related);
      return;
    }
    const params = paramsOf(m);
    let related: RpcId | undefined;
    if (m.method === "notifications/progress") {
      const token = params.progressToken;
      related = typeof token === "string" || typeof token === "number" ? this.progress.get(token) : undefined;
    } else if (m.method === "notifications/cancelled") {
      const rid = params.requestId;
      related = typeof rid === "string" || typeof rid === "number" ? this.serverRequests.get(rid) : undefined;
    } else {
      if (m.method === "notifications/tools/list_changed") this.catalogue.listChanged();
      // 2026-07-28 subscriptions: every notification of a `subscriptions/listen` stream names its request.
      const meta = params._meta;
      const sub = isObject(meta) ? meta[SUBSCRIPTION_ID_META] : undefined;
      related =
        (typeof sub === "string" || typeof sub === "number") && this.pending.has(sub) ? sub : this.latestPending();
    }
    this.toClient(frame, frame.related ?? related);
  }

  /** Everything for the client goes through here, so nothing overtakes a held initialize result. */
  toClient(frame: Frame, related?: RpcId): void {
    this.gate.send(frame, related);
  }

  /**
   * The common case — a plain result for a request the proxy does not
   * intercept — forwarded without parsing (see `resultId`). Only line
   * downstreams (stdio) take raw lines, so `lastActivity` is left alone.
   */
  private fastResponse(line: Buffer): boolean {
    if (this.gate.holding) return false;
    const id = resultId(line);
    if (id === undefined) return false;
    const entry = this.pending.get(id);
    if (!entry || INTERCEPTED.has(entry.method)) return false;
    this.release(id);
    if (entry.call)
      this.endCall(entry, {
        outcome: isErrorResult(line) ? "tool_error" : "ok",
        errorCode: null,
        responseBytes: line.length,
      });
    this.options.downstream.sendRaw!(line);
    return true;
  }

  /** An answer too long to pass on still ends its request, with an error that says why. */
  private upstreamLineDropped(line: OversizedLine): void {
    const found = idAtEnds(line.head, line.tail);
    const entry = found && this.pending.get(found.id);
    this.options.log(
      `the upstream wrote a message of ${line.bytes} bytes, over --max-message-bytes; dropped it${entry ? ` (the answer to request ${JSON.stringify(entry.id)})` : ""}`,
    );
    if (!entry) return;
    this.release(entry.id);
    const answer = errorFrame(
      entry.id,
      INTERNAL_ERROR,
      `The upstream MCP server's answer was ${line.bytes} bytes, more than the proxy passes on (--max-message-bytes); it was dropped.`,
    );
    this.endCall(entry, { outcome: "error", errorCode: INTERNAL_ERROR, responseBytes: jsonBytes(answer.msg) });
    this.toClient(answer, entry.id);
  }

  /** The most recent client request still waiting upstream (stdio servers do not say which one a message belongs to). */
  private latestPending(): RpcId | undefined {
    let last: RpcId | undefined;
    for (const entry of this.pending.values()) last = entry.id;
    return last;
  }

  /**
   * Learn what the initialize result says, then pass it on with the
   * instructions. When upstream has tools, the gate holds it while the
   * handshake is finished and the tools listed, so a name collision is known
   * before the instructions name the tool.
   */
  private introductionResult(frame: Frame, id: RpcId): void {
    const result = frame.msg.result;
    // An input_required discover result (or anything but a complete one) is not an introduction.
    if (!isObject(result) || (result.resultType !== undefined && result.resultType !== "complete")) {
      this.toClient(frame, id);
      return;
    }
    const intro = introductionOf(result);
    if (intro.name !== undefined) this.upstreamName = intro.name;
    if (intro.version !== undefined) this.upstreamVersion = intro.version;
    if (intro.protocolVersion !== undefined) {
      this.options.upstream.setProtocolVersion(intro.protocolVersion);
      this.protocolVersion = intro.protocolVersion;
    }
    if (Array.isArray(result.supportedVersions))
      this.upstreamVersions = result.supportedVersions.filter((v): v is string => typeof v === "string");
    this.catalogue.setCapability(intro.hasTools);
    const answer = () => withInstructions(frame, this.toolName);
    // Without tools there is nothing to learn.
    if (!intro.hasTools) {
      this.toClient(answer(), id);
      return;
    }
    this.gate.hold(
      answer,
      id,
      async () => {
        // `server/discover` has no handshake to finish: 2026-07-28 requests stand alone.
        if (intro.protocolVersion === undefined || (await this.gate.finishHandshake())) await this.refreshTools();
      },
      () => `the instructions name "${this.toolName}"`,
    );
  }

  /** serverInfo, wherever a result carries it (2026-07-28: in `_meta`, on any result). */
  private learnServerInfo(result: Record<string, unknown>): void {
    const intro = introductionOf(result);
    if (intro.name !== undefined) this.upstreamName = intro.name;
    if (intro.version !== undefined) this.upstreamVersion = intro.version;
  }

  private toolsListResult(frame: Frame, first: boolean, modern: boolean): Frame {
    const m = frame.msg;
    const id = m.id as RpcId;
    const changed = isObject(m.result)
      ? this.catalogue.clientPage(m.result, first)
      : this.catalogue.failedPage(first, m.error?.message ?? "no result", modern);
    if (!changed) return frame;
    return isObject(m.result) ? { msg: { ...m, result: changed } } : resultFrame(id, changed);
  }

  /** Learn upstream's complete tool list with requests of the proxy's own (reserved ids). */
  private refreshTools(): Promise<void> {
    return this.catalogue.refresh(async (cursor) => {
      const params: Record<string, unknown> = cursor === undefined ? {} : { cursor };
      if (this.envelope) params._meta = this.envelope;
      const res = await this.own.request("tools/list", Object.keys(params).length > 0 ? params : undefined);
      return res && isObject(res.result) ? res.result : undefined;
    });
  }

  // ── what the proxy answers itself ──────────────────────────────────────

  /** A feedback tool call: answered here (feedback-call.ts), unless upstream turns out to own the name. */
  private async answerFeedback(frame: Frame, id: RpcId, args: unknown): Promise<void> {
    const call = { cancelled: false };
    this.localCalls.set(id, call);
    let reply: ToolResult;
    try {
      // Never listed yet: make sure upstream has no tool of this name before answering in its place.
      if (this.catalogue.unlisted) await this.refreshTools();
      if (paramsOf(frame.msg).name !== this.toolName) {
        this.localCalls.delete(id);
        this.clientRequest(frame, id, "tools/call");
        return;
      }
      reply = await this.feedback.answer(args, callerOf(frame.msg));
    } catch (err) {
      reply = this.feedback.failed(err);
    } finally {
      this.localCalls.delete(id);
    }
    // A 2026-07-28 client rejects a result without `resultType`.
    if (isModernRequest(frame.msg)) reply = { ...reply, resultType: "complete" };
    if (!call.cancelled) this.toClient(resultFrame(id, reply), id);
  }

  // ── endings ────────────────────────────────────────────────────────────

  private upstreamClosed(info: UpstreamClosed): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    this.gate.open();
    const reason = info.reason.charAt(0).toUpperCase() + info.reason.slice(1);
    for (const entry of [...this.pending.values()]) {
      const answer = errorFrame(entry.id, CONNECTION_CLOSED, `${reason} before answering this request.`);
      this.endCall(entry, { outcome: "error", errorCode: CONNECTION_CLOSED, responseBytes: jsonBytes(answer.msg) });
      this.toClient(answer, entry.id);
    }
    this.pending.clear();
    this.progress.clear();
    this.own.close();
    this.options.onUpstreamClosed(info);
  }
}

/** The client a 2026-07-28 request names in its envelope, and the session id made up for it. */
function callerFacts(m: RpcMessage): Partial<CallFacts> {
  const client = envelopeClient(m);
  return {
    clientName: client.name,
    clientVersion: client.version,
    protocolVersion: client.protocolVersion,
    sessionId: callerOf(m)?.sessionId,
  };
}

/** How an answer the session parsed ends its call. */
function outcomeOf(frame: Frame): CallEnd {
  const m = frame.msg;
  const responseBytes = frame.raw?.length ?? jsonBytes(m);
  if (m.error !== undefined)
    return { outcome: "error", errorCode: typeof m.error?.code === "number" ? m.error.code : null, responseBytes };
  const failed = isObject(m.result) && m.result.isError === true;
  return { outcome: failed ? "tool_error" : "ok", errorCode: null, responseBytes };
}

/** `--record-arguments` only: the arguments of a raw tools/call line (the one parse that option costs). */
function argumentsOfLine(line: Buffer): unknown {
  try {
    const msg = JSON.parse(line.toString("utf8")) as unknown;
    return isObject(msg) && isObject(msg.params) ? msg.params.arguments : undefined;
  } catch {
    return undefined;
  }
}
