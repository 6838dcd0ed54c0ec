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
 * Before the client gets the initialize result, the proxy finishes the
 * handshake with upstream itself (`notifications/initialized`, then a paged
 * `tools/list` of its own) so the instructions already name the tool as it
 * will be offered, even when upstream has a `feedback` tool of its own. What
 * upstream sends meanwhile waits behind the initialize result; the client's own
 * `notifications/initialized` is then not sent twice.
 */
import { randomBytes } from "node:crypto";
import { randomUUID } from "node:crypto";
import {
  FEEDBACK_REPLIES,
  FEEDBACK_SERVER_INSTRUCTIONS,
  FEEDBACK_TOOL_NAME,
  LIMITS,
  feedbackToolDefinition,
  parseFeedback,
  type FeedbackPayload,
} from "../src/feedback/index.js";
import {
  CONNECTION_CLOSED,
  INVALID_PARAMS,
  RESERVED_ID_PREFIX,
  INTERNAL_ERROR,
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
import type { Reporter } from "./reporter.js";
import type { UpstreamClosed, UpstreamLink } from "./upstream.js";

/** Per-process part of our request ids, so chained proxies never claim each other's answers. */
const INSTANCE = randomBytes(4).toString("hex");

export interface SessionConfig {
  /** Name to offer the feedback tool under. */
  toolName: string;
  /** Name to use instead when upstream already has a tool called `toolName`. */
  collisionToolName: string;
  /** Overrides upstream's serverInfo.name in reports. */
  serverName?: string | undefined;
  /** Record calls to tools upstream never listed as missing_tool reports. */
  missingToolReports: boolean;
  /**
   * Shared by every session of one proxy (one upstream): once a session finds
   * the name taken, later sessions offer the other name from their first
   * message on, instructions included.
   */
  learned?: { toolName?: string };
}

/** Where messages for the client go; `relatedRequestId` picks the HTTP stream. */
export interface DownstreamSink {
  send(frame: Frame, relatedRequestId?: RpcId): void;
  /** Line transports take an unparsed line (newline included) too (see `fastResponse`). */
  sendRaw?(line: Buffer): void;
}

interface Pending {
  id: RpcId;
  method: string;
  firstToolsPage: boolean;
  progressToken?: RpcId;
}

export interface SessionOptions {
  upstream: UpstreamLink;
  downstream: DownstreamSink;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
  /** The MCP session id (HTTP) or one made up per stdio connection. */
  sessionId: () => string | undefined;
  onUpstreamClosed: (info: UpstreamClosed) => void;
}

const INTERNAL_TIMEOUT_MS = 10_000;
/** Longest the initialize result waits for upstream's tool list; after it, the default name is used. */
const TOOLS_PROBE_WAIT_MS = 3_000;
const MAX_TOOL_PAGES = 100;

/** The server instructions, naming the tool as it is actually offered. */
export function instructionsFor(toolName: string): string {
  return toolName === FEEDBACK_TOOL_NAME
    ? FEEDBACK_SERVER_INSTRUCTIONS
    : FEEDBACK_SERVER_INSTRUCTIONS.replaceAll(`\`${FEEDBACK_TOOL_NAME}\``, `\`${toolName}\``);
}

const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

export class ProxySession {
  /** Name the feedback tool is offered under in this session (changes on a collision). */
  toolName: string;
  lastActivity = Date.now();
  /** Client requests waiting upstream, by id (a Map keeps 1 and "1" apart). */
  private readonly pending = new Map<RpcId, Pending>();
  private readonly progress = new Map<RpcId, RpcId>();
  /** Server→client requests: which client request's stream they went out on. */
  private readonly serverRequests = new Map<RpcId, RpcId | undefined>();
  private readonly localCalls = new Map<RpcId, { cancelled: boolean }>();
  private readonly internal = new Map<string, (m: RpcMessage | undefined) => void>();
  private internalSeq = 0;
  private upstreamName?: string;
  private upstreamVersion?: string;
  private clientType?: string;
  /** undefined until the initialize result says. */
  private upstreamHasTools?: boolean;
  private initialized = false;
  private toolNames = new Set<string>();
  private toolsListed = false;
  private toolsComplete = false;
  private toolsFresh = false;
  private injectedOnce = false;
  private refreshing?: Promise<void>;
  private readonly reportedMissing = new Set<string>();
  private closedInfo?: UpstreamClosed;
  /** Set while the initialize result waits for the tool list: what else is for the client queues here. */
  private held?: { release: () => void; queue: Array<[Frame, RpcId | undefined]> };
  /** Upstream has been sent `notifications/initialized` (by the client, or by the proxy finishing the handshake): it hears it once. */
  private initializedSent = false;

  constructor(private readonly options: SessionOptions) {
    this.toolName = options.config.learned?.toolName ?? options.config.toolName;
    options.upstream.onmessage = (frame) => this.fromUpstream(frame);
    if (options.downstream.sendRaw) options.upstream.onrawline = (line) => this.fastResponse(line);
    options.upstream.onclose = (info) => this.upstreamClosed(info);
    options.upstream.ontoolong = (line) => this.upstreamLineDropped(line);
  }

  get pendingCount(): number {
    return this.pending.size + this.localCalls.size;
  }

  /** The tool names upstream last listed (without the injected tool). */
  get toolsAvailable(): string[] {
    return [...this.toolNames];
  }

  // ── client → server ────────────────────────────────────────────────────

  fromDownstream(frame: Frame): void {
    this.lastActivity = Date.now();
    const m = frame.msg;
    if (isRequest(m)) {
      this.clientRequest(frame, m.id as RpcId, m.method as string);
      return;
    }
    if (isNotification(m) && m.method === "notifications/initialized") {
      if (this.initializedSent) return;
      this.initializedSent = true;
    }
    if (isNotification(m) && m.method === "notifications/cancelled") {
      const rid = paramsOf(m).requestId;
      if (typeof rid === "string" || typeof rid === "number") {
        const local = this.localCalls.get(rid);
        if (local) {
          local.cancelled = true;
          return;
        }
        this.release(rid);
      }
    } else if (isResponse(m) && m.id !== undefined && m.id !== null) {
      this.serverRequests.delete(m.id);
    }
    this.forward(frame);
  }

  private clientRequest(frame: Frame, id: RpcId, method: string): void {
    const params = paramsOf(frame.msg);
    if (method === "tools/call") {
      const name = params.name;
      if (name === this.toolName) {
        void this.answerFeedback(frame, id, params.arguments);
        return;
      }
      if (typeof name === "string" && !this.toolNames.has(name)) this.noticeUnknownTool(name, params.arguments);
    } else if (method === "tools/list" && this.upstreamHasTools === false) {
      // Upstream has no tools at all: the list is ours alone.
      this.toClient(
        params.cursor === undefined
          ? resultFrame(id, { tools: [feedbackToolDefinition(this.toolName)] })
          : errorFrame(id, INVALID_PARAMS, "Invalid cursor: this tool list has one page."),
        id,
      );
      return;
    } else if (method === "initialize") {
      const info = params.clientInfo;
      if (isObject(info) && typeof info.name === "string") {
        this.clientType = clip(
          typeof info.version === "string" ? `${info.name}/${info.version}` : info.name,
          LIMITS.client_type,
        );
      }
    }
    const entry: Pending = { id, method, firstToolsPage: method === "tools/list" && params.cursor === undefined };
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
    if (!call || call.name === this.toolName || !this.toolNames.has(call.name)) return false;
    this.pending.set(call.id, { id: call.id, method: "tools/call", firstToolsPage: false });
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
    this.release(requestId);
    const why = err instanceof Error ? err.message : String(err);
    this.toClient(
      errorFrame(requestId, CONNECTION_CLOSED, `The upstream MCP server could not take this request: ${why}`),
      requestId,
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
    // Answers to the client count as activity; a server's own chatter (logs, updates) does not,
    // or a session whose client has gone would never be reaped.
    if (isResponse(m)) this.lastActivity = Date.now();
    if (isResponse(m)) {
      const id = m.id;
      if (id === undefined || id === null) {
        this.toClient(frame);
        return;
      }
      // Only answers to our own requests are ours: a proxy in front of this one uses the same prefix.
      const own = typeof id === "string" ? this.internal.get(id) : undefined;
      if (own) {
        own(m);
        return;
      }
      const entry = this.release(id);
      if (entry?.method === "initialize") this.initializeResult(frame, id);
      else
        this.toClient(entry?.method === "tools/list" ? this.toolsListResult(frame, entry.firstToolsPage) : frame, id);
      return;
    }
    if (isRequest(m)) {
      // Sampling, elicitation, roots: they belong with the call that caused them.
      const related = this.latestPending();
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
      if (m.method === "notifications/tools/list_changed") this.toolsFresh = false;
      related = this.latestPending();
    }
    this.toClient(frame, related);
  }

  /** Everything for the client goes through here, so nothing overtakes a held initialize result. */
  toClient(frame: Frame, related?: RpcId): void {
    if (this.held) this.held.queue.push([frame, related]);
    else this.options.downstream.send(frame, related);
  }

  /**
   * The common case — a plain result for a request the proxy does not
   * intercept — forwarded without parsing (see `resultId`). Only line
   * downstreams (stdio) take raw lines, so `lastActivity` is left alone.
   */
  private fastResponse(line: Buffer): boolean {
    if (this.held) return false;
    const id = resultId(line);
    if (id === undefined) return false;
    const entry = this.pending.get(id);
    if (!entry || entry.method === "initialize" || entry.method === "tools/list") return false;
    this.release(id);
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
    this.toClient(
      errorFrame(
        entry.id,
        INTERNAL_ERROR,
        `The upstream MCP server's answer was ${line.bytes} bytes, more than the proxy passes on (--max-message-bytes); it was dropped.`,
      ),
      entry.id,
    );
  }

  /** The most recent client request still waiting upstream (stdio servers do not say which one a message belongs to). */
  private latestPending(): RpcId | undefined {
    let last: RpcId | undefined;
    for (const entry of this.pending.values()) last = entry.id;
    return last;
  }

  /**
   * Learn what the initialize result says, then pass it on with the
   * instructions. When upstream has tools, first finish the handshake and list
   * them, so a name collision is known before the instructions name the tool.
   */
  private initializeResult(frame: Frame, id: RpcId): void {
    const m = frame.msg;
    if (!isObject(m.result)) {
      this.toClient(frame, id);
      return;
    }
    const result = m.result;
    const info = result.serverInfo;
    if (isObject(info)) {
      if (typeof info.name === "string") this.upstreamName = info.name;
      if (typeof info.version === "string") this.upstreamVersion = info.version;
    }
    if (typeof result.protocolVersion === "string") this.options.upstream.setProtocolVersion(result.protocolVersion);
    this.upstreamHasTools = isObject(result.capabilities) && isObject(result.capabilities.tools);
    this.initialized = true;
    // Without tools there is nothing to learn; a second initialize (a client out of line) queues behind the first.
    if (!this.upstreamHasTools || this.held) {
      this.toClient(this.withInstructions(frame), id);
      return;
    }
    const pass = () => this.options.downstream.send(this.withInstructions(frame), id);
    const queue: Array<[Frame, RpcId | undefined]> = [];
    const release = () => {
      if (this.held?.queue !== queue) return;
      clearTimeout(timer);
      this.held = undefined;
      pass();
      for (const [f, related] of queue) this.options.downstream.send(f, related);
    };
    const timer = setTimeout(() => {
      this.options.log(
        `upstream did not list its tools within ${TOOLS_PROBE_WAIT_MS} ms of initialize; the instructions name "${this.toolName}"`,
      );
      release();
    }, TOOLS_PROBE_WAIT_MS);
    this.held = { release, queue };
    void (async () => {
      if (!this.initializedSent) {
        this.initializedSent = true;
        try {
          // Over HTTP the notification is a request of its own: it must land before the list is asked for.
          await this.options.upstream.send({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } });
        } catch {
          this.initializedSent = false; // the client's own goes through instead
          return;
        }
      }
      await this.refreshTools();
    })()
      .catch((err: unknown) =>
        this.options.log(
          `listing upstream's tools after initialize failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      )
      .finally(release);
  }

  private withInstructions(frame: Frame): Frame {
    const m = frame.msg;
    const result = { ...(m.result as Record<string, unknown>) };
    const capabilities = isObject(result.capabilities) ? { ...result.capabilities } : {};
    if (!isObject(capabilities.tools)) capabilities.tools = {};
    result.capabilities = capabilities;
    const own =
      typeof result.instructions === "string" && result.instructions.trim() !== "" ? `${result.instructions}\n\n` : "";
    result.instructions = own + instructionsFor(this.toolName);
    return { msg: { ...m, result } };
  }

  private toolsListResult(frame: Frame, first: boolean): Frame {
    const m = frame.msg;
    const id = m.id as RpcId;
    if (!isObject(m.result)) {
      if (!first) return frame;
      this.options.log(
        `upstream tools/list failed (${m.error?.message ?? "no result"}); offering the feedback tool alone`,
      );
      this.toolNames = new Set();
      this.toolsListed = true;
      this.toolsComplete = false;
      return resultFrame(id, { tools: [feedbackToolDefinition(this.toolName)] });
    }
    const tools: unknown[] = Array.isArray(m.result.tools) ? m.result.tools : [];
    const names = tools.flatMap((t) => (isObject(t) && typeof t.name === "string" ? [t.name] : []));
    this.adoptToolNames(names, { replace: first, complete: typeof m.result.nextCursor !== "string" });
    if (!first) return frame;
    this.injectedOnce = true;
    return { msg: { ...m, result: { ...m.result, tools: [...tools, feedbackToolDefinition(this.toolName)] } } };
  }

  private adoptToolNames(names: string[], how: { replace: boolean; complete: boolean }): void {
    if (how.replace) this.toolNames = new Set(names);
    else for (const n of names) this.toolNames.add(n);
    this.toolsListed = true;
    this.toolsComplete = how.complete;
    this.toolsFresh = true;
    if (!this.toolNames.has(this.toolName)) return;
    let alternative = this.options.config.collisionToolName;
    for (let i = 2; this.toolNames.has(alternative); i++) alternative = `${this.options.config.collisionToolName}_${i}`;
    this.options.log(
      `upstream already has a tool named "${this.toolName}": keeping it, and offering the feedback tool as "${alternative}" (choose with --collision-tool-name)`,
    );
    this.toolName = alternative;
    if (this.options.config.learned) this.options.config.learned.toolName = alternative;
    // The client may already hold a list with the old name: make it ask again.
    if (this.injectedOnce) this.toClient({ msg: { jsonrpc: "2.0", method: "notifications/tools/list_changed" } });
  }

  // ── what the proxy answers itself ──────────────────────────────────────

  private async answerFeedback(frame: Frame, id: RpcId, args: unknown): Promise<void> {
    const call = { cancelled: false };
    this.localCalls.set(id, call);
    let reply: Record<string, unknown> | undefined;
    try {
      // Never listed yet: make sure upstream has no tool of this name before answering in its place.
      if (this.upstreamHasTools && !this.toolsListed && this.initialized) await this.refreshTools();
      if (paramsOf(frame.msg).name !== this.toolName) {
        this.localCalls.delete(id);
        this.clientRequest(frame, id, "tools/call");
        return;
      }
      reply = await this.recordFeedback(args);
    } catch (err) {
      this.options.log(`feedback call failed: ${err instanceof Error ? err.message : String(err)}`);
      reply = { content: [{ type: "text", text: FEEDBACK_REPLIES.queued() }] };
    } finally {
      this.localCalls.delete(id);
    }
    if (!call.cancelled && reply) this.toClient(resultFrame(id, reply), id);
  }

  private async recordFeedback(args: unknown): Promise<Record<string, unknown>> {
    const parsed = parseFeedback(args ?? {}, { server_name: this.serverName() });
    if (!parsed.ok) {
      const details = parsed.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
      return { content: [{ type: "text", text: FEEDBACK_REPLIES.invalid(details) }], isError: true };
    }
    const result = await this.options.reporter.submit(
      this.enrich(parsed.payload),
      parsed.idempotencyKey ?? `proxy-${randomUUID()}`,
    );
    const text = result.recorded ? FEEDBACK_REPLIES.recorded(result.id) : FEEDBACK_REPLIES.queued();
    return { content: [{ type: "text", text }] };
  }

  private serverName(): string | undefined {
    const name = this.options.config.serverName ?? this.upstreamName;
    return name === undefined ? undefined : clip(name, LIMITS.server_name);
  }

  /** Fill in what agents rarely know. The proxy knows the server better than the agent does. */
  private enrich(payload: FeedbackPayload): FeedbackPayload {
    const out: FeedbackPayload = { ...payload };
    const name = this.serverName();
    if (name !== undefined) out.server_name = name;
    if (this.upstreamVersion !== undefined) out.server_version = clip(this.upstreamVersion, LIMITS.server_version);
    if (out.client_type === undefined && this.clientType !== undefined) out.client_type = this.clientType;
    if (out.tools_available.length === 0) {
      out.tools_available = this.toolsAvailable
        .slice(0, LIMITS.tools_available_items)
        .map((n) => clip(n, LIMITS.tool_name_in_list));
    }
    const sid = this.options.sessionId();
    if (out.session_id === undefined && sid !== undefined) out.session_id = clip(sid, LIMITS.session_id);
    return out;
  }

  /** A call to a tool upstream may not have: find out in the background and report it once. */
  private noticeUnknownTool(name: string, args: unknown): void {
    if (!this.options.config.missingToolReports || this.reportedMissing.has(name)) return;
    void (async () => {
      const known = () => this.upstreamHasTools === false || (this.toolsComplete && this.toolsFresh);
      if (!known() && this.initialized) await this.refreshTools();
      if (!known() || this.toolNames.has(name) || name === this.toolName || this.reportedMissing.has(name)) return;
      this.reportedMissing.add(name);
      let shownArgs = "";
      if (args !== undefined) {
        const json = JSON.stringify(args) ?? "";
        shownArgs = ` and arguments ${json.length > 1000 ? `${json.slice(0, 1000)}…` : json}`;
      }
      const parsed = parseFeedback(
        {
          what_i_needed: `A tool named "${clip(name, 200)}" on this server.`,
          what_i_tried: `The agent called tools/call with name "${clip(name, 200)}"${shownArgs}, but this server does not list a tool by that name. The proxy passed the call to the server unchanged.`,
          gap_type: "missing_tool",
          tool_name: clip(name, LIMITS.tool_name),
        },
        { server_name: this.serverName() },
      );
      if (!parsed.ok) return;
      const result = await this.options.reporter.submit(this.enrich(parsed.payload), `proxy-missing-${randomUUID()}`);
      this.options.log(
        `recorded a missing_tool report for "${clip(name, 200)}"${result.recorded ? ` (report ${result.id})` : " (kept in the outbox)"}`,
      );
    })().catch((err: unknown) =>
      this.options.log(`missing_tool report failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Learn upstream's complete tool list with requests of the proxy's own (reserved ids). */
  private refreshTools(): Promise<void> {
    this.refreshing ??= (async () => {
      const names: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const res = await this.internalRequest("tools/list", cursor === undefined ? undefined : { cursor });
        if (!res || !isObject(res.result)) return;
        const tools: unknown[] = Array.isArray(res.result.tools) ? res.result.tools : [];
        for (const t of tools) if (isObject(t) && typeof t.name === "string") names.push(t.name);
        cursor = typeof res.result.nextCursor === "string" ? res.result.nextCursor : undefined;
        if (cursor === undefined) {
          this.adoptToolNames(names, { replace: true, complete: true });
          return;
        }
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private internalRequest(method: string, params?: Record<string, unknown>): Promise<RpcMessage | undefined> {
    if (this.closedInfo) return Promise.resolve(undefined);
    const id = `${RESERVED_ID_PREFIX}${INSTANCE}:${++this.internalSeq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), INTERNAL_TIMEOUT_MS);
      const done = (m: RpcMessage | undefined) => {
        clearTimeout(timer);
        this.internal.delete(id);
        resolve(m);
      };
      this.internal.set(id, done);
      try {
        this.options.upstream
          .send({ msg: { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) } })
          ?.catch(() => done(undefined));
      } catch {
        done(undefined);
      }
    });
  }

  // ── endings ────────────────────────────────────────────────────────────

  private upstreamClosed(info: UpstreamClosed): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    this.held?.release();
    const reason = info.reason.charAt(0).toUpperCase() + info.reason.slice(1);
    for (const entry of [...this.pending.values()]) {
      this.toClient(errorFrame(entry.id, CONNECTION_CLOSED, `${reason} before answering this request.`), entry.id);
    }
    this.pending.clear();
    this.progress.clear();
    for (const done of [...this.internal.values()]) done(undefined);
    this.options.onUpstreamClosed(info);
  }
}
