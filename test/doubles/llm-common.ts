/**
 * Shared plumbing of the LLM API doubles: a scripted reply queue and a tiny
 * loopback JSON server. Tests enqueue what the "model" answers; every request
 * body is recorded for assertions (headers are not, so keys never linger).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the scripted model does with one request. */
export type LlmReply =
  /** Structured output: Anthropic answers with a forced tool_use block, OpenAI with JSON output text. */
  | { json: unknown }
  /** Plain text (for invalid-JSON tests: the model ignores the schema). */
  | { text: string }
  /** The model declines. */
  | { refusal: string }
  /** An HTTP error with a provider-shaped body. */
  | { status: number; body: unknown };

export interface LlmRequestRecord {
  path: string;
  body: Record<string, unknown>;
}

export interface LlmDoubleBase {
  /** Base URL for the SDK's baseURL option (OpenAI's includes /v1). */
  url: string;
  apiKey: string;
  requests: LlmRequestRecord[];
  /** Queue replies; each request takes the next one. */
  enqueue(...replies: LlmReply[]): void;
  /** Delay before every answer, in ms (to test cancellation while the model "thinks"). */
  latencyMs: number;
  /** Used when the queue is empty (default: a 500 error saying the script ran out). */
  fallback: ((request: LlmRequestRecord) => LlmReply) | undefined;
  close(): Promise<void>;
}

export interface JsonHandlerResult {
  status: number;
  body: unknown;
  contentType?: string;
}

export function sendJson(res: ServerResponse, result: JsonHandlerResult): void {
  res.statusCode = result.status;
  res.setHeader("content-type", result.contentType ?? "application/json");
  res.end(typeof result.body === "string" ? result.body : JSON.stringify(result.body));
}

export async function listenJson(
  handler: (req: IncomingMessage, path: string, body: Record<string, unknown>) => JsonHandlerResult,
  latency: () => number = () => 0,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        const raw = Buffer.concat(chunks).toString("utf8");
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return sendJson(res, {
          status: 400,
          body: { error: { message: "We could not parse the JSON body of your request." } },
        });
      }
      const result = handler(req, new URL(req.url ?? "/", "http://double").pathname, body);
      const ms = latency();
      if (ms > 0) setTimeout(() => sendJson(res, result), ms);
      else sendJson(res, result);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function replyQueue(): {
  queue: LlmReply[];
  next(record: LlmRequestRecord, fallback: ((r: LlmRequestRecord) => LlmReply) | undefined): LlmReply | undefined;
} {
  const queue: LlmReply[] = [];
  return {
    queue,
    next(record, fallback) {
      return queue.shift() ?? fallback?.(record);
    },
  };
}

export const randomId = (prefix: string): string => `${prefix}${Math.random().toString(36).slice(2, 14)}`;

/**
 * Which structured output a request asked for, on either API: the forced
 * Anthropic tool (`submit_change_set`, `submit_gap_analysis`), or the OpenAI
 * json_schema format name (`change_set`, `gap_analysis`). Lets one double
 * answer the draft pipeline and the gap analysis differently.
 */
export function outputName(record: LlmRequestRecord): string | undefined {
  const b = record.body as {
    tool_choice?: { name?: string };
    text?: { format?: { name?: string } };
    response_format?: { json_schema?: { name?: string } };
  };
  return b.tool_choice?.name ?? b.text?.format?.name ?? b.response_format?.json_schema?.name;
}

/** True for a gap-analysis request (either API). */
export const isAnalysisRequest = (record: LlmRequestRecord): boolean => /gap_analysis$/.test(outputName(record) ?? "");

/** The user message of a request on either API (Anthropic messages, Responses input, chat messages). */
export function userText(record: LlmRequestRecord): string {
  const b = record.body as { messages?: { role: string; content: unknown }[]; input?: unknown };
  if (typeof b.input === "string") return b.input;
  const user = b.messages?.find((m) => m.role === "user");
  return typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? "");
}

/** The system prompt of a request on either API. */
export function systemText(record: LlmRequestRecord): string {
  const b = record.body as {
    system?: unknown;
    instructions?: unknown;
    messages?: { role: string; content: unknown }[];
  };
  if (typeof b.system === "string") return b.system;
  if (typeof b.instructions === "string") return b.instructions;
  const sys = b.messages?.find((m) => m.role === "system");
  return typeof sys?.content === "string" ? sys.content : "";
}
