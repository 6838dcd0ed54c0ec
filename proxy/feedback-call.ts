/**
 * What the proxy answers itself: a `tools/call` of the feedback tool, and the
 * missing_tool report it files (once per name) when an agent calls a tool
 * upstream never listed. Both parse against the contract (src/feedback), fill
 * in what the session knows and agents rarely do (the report context), submit
 * through the reporter (which keeps what it cannot deliver) and, for the call,
 * build the tool result. The session only decides when to call in here.
 */
import { randomUUID } from "node:crypto";
import { FEEDBACK_REPLIES, LIMITS, parseFeedback, recordedReply, type FeedbackPayload } from "../src/feedback/index.js";
import { isObject } from "./jsonrpc.js";
import type { Caller } from "./era.js";
import type { Log } from "./log.js";
import type { Reporter } from "./reporter.js";

/** What the session has learnt so far, read each time a report is built. */
export interface SessionFacts {
  /**
   * serverInfo from upstream's initialize result (see `introductionOf` in
   * initialize-gate.ts, which is where revision 2026-07-28's serverInfo in the
   * result's `_meta` is to be read).
   */
  upstreamName?: string | undefined;
  upstreamVersion?: string | undefined;
  /** From the client's initialize params (`clientTypeOf`). */
  clientType?: string | undefined;
  /** The tools upstream last listed, without the injected one. */
  toolsAvailable: readonly string[];
  /** The MCP session id (HTTP) or the one made up for a stdio connection. */
  sessionId?: string | undefined;
}

/** A tools/call result as the proxy sends it. */
export interface ToolResult {
  content: { type: "text"; text: string }[];
  isError?: true;
  [key: string]: unknown;
}

/** What the session offers the missing-tool check: upstream's tool list, learnt on demand. */
export interface UpstreamTools {
  /** Learn the list if it is not known and can be; resolves whether it is known now. */
  settle(): Promise<boolean>;
  /** A tool upstream lists, or the feedback tool itself: not missing. */
  known(name: string): boolean;
}

export interface FeedbackCallsOptions {
  reporter: Reporter;
  log: Log;
  /** --server-name: overrides upstream's serverInfo.name in reports. */
  serverName?: string | undefined;
  /** Record calls to tools upstream never listed as missing_tool reports. */
  missingToolReports: boolean;
  /**
   * `--record-arguments`: a missing_tool report shows the call's argument values, scrubbed by the
   * reporter before they are cut to length (and again, as part of the report, where it is stored).
   * Off (the default): only the argument names.
   */
  recordArguments?: boolean | undefined;
  facts: () => SessionFacts;
}

const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/** The client's `clientInfo` (initialize params) as a report's client_type: `name/version`. */
export function clientTypeOf(clientInfo: unknown): string | undefined {
  if (!isObject(clientInfo) || typeof clientInfo.name !== "string") return undefined;
  const { name, version } = clientInfo;
  return clip(typeof version === "string" ? `${name}/${version}` : name, LIMITS.client_type);
}

/** ` and arguments {…}`: the call's arguments as JSON, cut at 1000 characters (--record-arguments). */
export function argumentValues(args: unknown): string {
  if (args === undefined) return "";
  const json = JSON.stringify(args) ?? "";
  return ` and arguments ${json.length > 1000 ? `${json.slice(0, 1000)}…` : json}`;
}

/** ` and arguments named a, b`: the names only, never a value (the default). */
export function argumentNames(args: unknown): string {
  if (args === undefined) return "";
  if (!isObject(args)) return " and arguments that were not an object";
  const names = Object.keys(args);
  if (names.length === 0) return " and no arguments";
  const shown = names.slice(0, 50).map((n) => JSON.stringify(clip(n, 100)));
  return ` and arguments named ${shown.join(", ")}${names.length > 50 ? ` and ${names.length - 50} more` : ""}`;
}

/**
 * Every tool result the proxy builds itself comes from here. Protocol
 * revision 2026-07-28 marks results with `resultType: "complete"`: once the
 * session negotiates that revision, this is the one place to add it.
 */
export function toolResult(text: string, options: { isError?: boolean } = {}): ToolResult {
  return options.isError ? { content: [{ type: "text", text }], isError: true } : { content: [{ type: "text", text }] };
}

export class FeedbackCalls {
  /** Tool names already reported missing in this session (one report each). */
  private readonly reportedMissing = new Set<string>();

  constructor(private readonly options: FeedbackCallsOptions) {}

  /** The result of a feedback tool call. Never rejects: a failure is logged and the agent told it is kept. */
  async answer(args: unknown, caller?: Caller): Promise<ToolResult> {
    try {
      return await this.record(args, caller);
    } catch (err) {
      return this.failed(err);
    }
  }

  /** The answer when something before or during recording threw (the reporter keeps what it can). */
  failed(err: unknown): ToolResult {
    this.options.log(`feedback call failed: ${err instanceof Error ? err.message : String(err)}`);
    return toolResult(FEEDBACK_REPLIES.queued());
  }

  private async record(args: unknown, caller: Caller | undefined): Promise<ToolResult> {
    const parsed = parseFeedback(args ?? {}, { server_name: this.serverName() });
    if (!parsed.ok) {
      const details = parsed.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
      return toolResult(FEEDBACK_REPLIES.invalid(details), { isError: true });
    }
    const result = await this.options.reporter.submit(
      this.enrich(parsed.payload, caller),
      parsed.idempotencyKey ?? `proxy-${randomUUID()}`,
    );
    // A gap the developers acted on is echoed in the one wording every surface uses (src/feedback/echo.ts).
    if (result.recorded) return toolResult(recordedReply(result.id, result.gap));
    if (result.kept) return toolResult(FEEDBACK_REPLIES.queued());
    // The sidecar will never take this report as it is: say so, so the agent can fix it.
    return toolResult(FEEDBACK_REPLIES.invalid(`the feedback service refused it (${result.refused})`), {
      isError: true,
    });
  }

  /** A call to a tool upstream may not have: find out in the background and report it once. */
  noticeUnknownTool(name: string, args: unknown, tools: UpstreamTools, caller?: Caller): void {
    // Once per name per client: without sessions (2026-07-28 over HTTP) one proxy session serves every client.
    const key = `${caller?.sessionId ?? ""}\n${name}`;
    if (!this.options.missingToolReports || this.reportedMissing.has(key)) return;
    void (async () => {
      if (!(await tools.settle()) || tools.known(name) || this.reportedMissing.has(key)) return;
      this.reportedMissing.add(key);
      const shown = clip(name, 200);
      const shownArgs = this.options.recordArguments
        ? argumentValues(await this.options.reporter.scrubValue(args))
        : argumentNames(args);
      const parsed = parseFeedback(
        {
          what_i_needed: `A tool named "${shown}" on this server.`,
          what_i_tried: `The agent called tools/call with name "${shown}"${shownArgs}, but this server does not list a tool by that name. The proxy passed the call to the server unchanged.`,
          gap_type: "missing_tool",
          tool_name: clip(name, LIMITS.tool_name),
        },
        { server_name: this.serverName() },
      );
      if (!parsed.ok) return;
      const result = await this.options.reporter.submit(
        this.enrich(parsed.payload, caller),
        `proxy-missing-${randomUUID()}`,
      );
      this.options.log(
        result.recorded
          ? `recorded a missing_tool report for "${shown}" (report ${result.id})`
          : result.kept
            ? `kept a missing_tool report for "${shown}" in the outbox`
            : `the sidecar refused a missing_tool report for "${shown}": ${result.refused}`,
      );
    })().catch((err: unknown) =>
      this.options.log(`missing_tool report failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  private serverName(): string | undefined {
    const name = this.options.serverName ?? this.options.facts().upstreamName;
    return name === undefined ? undefined : clip(name, LIMITS.server_name);
  }

  /** Fill in what agents rarely know. The proxy knows the server better than the agent does. */
  private enrich(payload: FeedbackPayload, caller?: Caller): FeedbackPayload {
    const facts = this.options.facts();
    const out: FeedbackPayload = { ...payload };
    const name = this.serverName();
    if (name !== undefined) out.server_name = name;
    if (facts.upstreamVersion !== undefined) out.server_version = clip(facts.upstreamVersion, LIMITS.server_version);
    const clientType =
      caller?.clientType !== undefined ? clip(caller.clientType, LIMITS.client_type) : facts.clientType;
    if (out.client_type === undefined && clientType !== undefined) out.client_type = clientType;
    if (out.tools_available.length === 0) {
      out.tools_available = facts.toolsAvailable
        .slice(0, LIMITS.tools_available_items)
        .map((n) => clip(n, LIMITS.tool_name_in_list));
    }
    // Without a session (2026-07-28 over HTTP) the caller's own id stands in.
    const sessionId = facts.sessionId ?? caller?.sessionId;
    if (out.session_id === undefined && sessionId !== undefined) out.session_id = clip(sessionId, LIMITS.session_id);
    return out;
  }
}
