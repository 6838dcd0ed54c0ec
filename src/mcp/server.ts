/**
 * `createReportServer`: the MCP report server, built by both transports (stdio
 * in `patchworkmcp mcp`, streamable HTTP at /mcp) for each session or, for
 * 2026-07-28 requests, each request. Tools come from the registry in
 * tools/index.ts, filtered by the session's scope.
 *
 * It runs on the v2 SDK (`@modelcontextprotocol/server`), which serves both
 * protocol eras from one instance definition: a 2025-11-25 (or older)
 * `initialize` handshake, and 2026-07-28 per-request `_meta` envelopes with
 * `server/discover` (answered with the same instructions), `resultType`,
 * `ttlMs`/`cacheScope` and `_meta` serverInfo filled in by the SDK.
 * It uses the SDK's low-level `Server` (not `McpServer`) so the `feedback` tool
 * is listed exactly as src/feedback defines it and arguments are parsed by our
 * own (liberal) schemas, with our own error texts.
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  Server,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { FeedbackPayload } from "../feedback/index.js";
import { type KeyScope, scopeAllows } from "../auth/index.js";
import type { FeedbackStore } from "../store/index.js";
import { insertScrubbed, PrivacyPolicy, type ScrubbedInsert } from "../ingest/index.js";
import { VERSION } from "../version.js";
import { reportServerInstructions } from "./instructions.js";
import { renderReport } from "./markdown.js";
import { TRIAGE_PROMPT, triagePrompt } from "./prompts.js";
import { REPORT_TOOLS, toolsForScope } from "./tools/index.js";
import { errorResult, type RequestExtra } from "./tools/types.js";

export const SERVER_NAME = "patchworkmcp";
export const SERVER_VERSION = VERSION;

export const REPORT_URI_TEMPLATE = "patchworkmcp://reports/{id}";
const REPORT_URI = /^patchworkmcp:\/\/reports\/(\d{1,15})$/;

export interface ReportServerOptions {
  store: FeedbackStore;
  /** What this session may do. stdio sessions are `admin` (the local user owns the file). */
  scope: KeyScope;
  /** How feedback is stored; defaults to a direct, scrubbed insert. HTTP passes the app's group-commit queue. */
  ingest?: (payload: FeedbackPayload, idempotencyKey?: string) => Promise<ScrubbedInsert>;
  /** server_name for feedback calls that do not name one (`--server-name`). */
  defaultServerName?: string | undefined;
  /** Only the feedback tool (`--feedback-only`). */
  feedbackOnly?: boolean | undefined;
}

export function createReportServer(options: ReportServerOptions): Server {
  const { store, scope } = options;
  const feedbackOnly = options.feedbackOnly ?? false;
  const tools = toolsForScope(scope, { feedbackOnly });
  const canRead = !feedbackOnly && scopeAllows(scope, "read");
  const canWrite = !feedbackOnly && scopeAllows(scope, "admin");
  const ingest =
    options.ingest ??
    ((payload, key) => {
      privacy ??= new PrivacyPolicy(store);
      return Promise.resolve(insertScrubbed(store, privacy, [{ payload, idempotencyKey: key }])[0]!);
    });
  let privacy: PrivacyPolicy | undefined;

  const server = new Server(
    { name: SERVER_NAME, version: SERVER_VERSION, title: "PatchworkMCP feedback" },
    {
      capabilities: { tools: {}, ...(canRead ? { prompts: {}, resources: {} } : {}) },
      instructions: reportServerInstructions({
        canRead,
        canWrite,
        hasFeedback: tools.some((t) => t.definition.name === "feedback"),
      }),
    },
  );

  server.setRequestHandler("tools/list", () => ({ tools: tools.map((t) => t.definition) }));

  server.setRequestHandler("tools/call", async (request, ctx) => {
    const { name, arguments: args } = request.params;
    const tool = tools.find((t) => t.definition.name === name);
    if (!tool) {
      // Like the SDK's McpServer, an unknown tool is a tool error the agent can correct, not a transport failure.
      const known = REPORT_TOOLS.find((t) => t.definition.name === name);
      if (known && !feedbackOnly)
        return errorResult(
          `The tool ${name} needs the feedback:${known.scope} scope, which this session does not have.`,
        );
      return errorResult(
        `There is no tool named ${JSON.stringify(name)} here. Available tools: ${tools.map((t) => t.definition.name).join(", ")}.`,
      );
    }
    return tool.call(args, { store, ingest, defaultServerName: options.defaultServerName, extra: requestExtra(ctx) });
  });

  if (canRead) {
    server.setRequestHandler("prompts/list", () => ({ prompts: [TRIAGE_PROMPT] }));
    server.setRequestHandler("prompts/get", (request) => {
      if (request.params.name !== TRIAGE_PROMPT.name) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `There is no prompt named ${JSON.stringify(request.params.name)}; try ${TRIAGE_PROMPT.name}.`,
        );
      }
      try {
        return triagePrompt(request.params.arguments, canWrite);
      } catch (err) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, err instanceof Error ? err.message : String(err));
      }
    });

    server.setRequestHandler("resources/templates/list", () => ({
      resourceTemplates: [
        {
          uriTemplate: REPORT_URI_TEMPLATE,
          name: "report",
          title: "Feedback report",
          description: "One feedback report as Markdown (the same text get_report returns).",
          mimeType: "text/markdown",
        },
      ],
    }));
    server.setRequestHandler("resources/list", (request) => {
      try {
        const page = store.listReports({}, { cursor: request.params?.cursor });
        return {
          resources: page.items.map((r) => ({
            uri: `patchworkmcp://reports/${r.id}`,
            name: `report-${r.id}`,
            title: `Report ${r.id} (${r.gap_type}, ${r.status})`,
            mimeType: "text/markdown",
          })),
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
        };
      } catch (err) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, err instanceof Error ? err.message : String(err));
      }
    });
    server.setRequestHandler("resources/read", (request) => {
      const { uri } = request.params;
      const match = REPORT_URI.exec(uri);
      // Not found, either way: -32602 with data {uri} on every revision (2026-07-28 requires it; the v1 SDK sent the same).
      if (!match)
        throw new ResourceNotFoundError(uri, `${JSON.stringify(uri)} is not a report URI; use ${REPORT_URI_TEMPLATE}.`);
      const detail = store.getReportDetail(Number(match[1]));
      if (!detail) throw new ResourceNotFoundError(uri, `There is no report ${match[1]}.`);
      return { contents: [{ uri, mimeType: "text/markdown", text: renderReport(detail) }] };
    });
  }

  return server;
}

/** What a tool sees of the SDK's request context: cancellation and progress. */
function requestExtra(ctx: ServerContext): RequestExtra {
  return {
    signal: ctx.mcpReq.signal,
    progressToken: ctx.mcpReq._meta?.progressToken,
    notify: (notification) => ctx.mcpReq.notify(notification),
  };
}
