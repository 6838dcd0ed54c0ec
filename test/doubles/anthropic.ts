/**
 * A loopback double of the Anthropic Messages API (`POST /v1/messages`) with
 * the real response and error shapes. Point the SDK at it with
 * `new Anthropic({ apiKey, baseURL: double.url })` or ANTHROPIC_BASE_URL.
 * A `{json}` reply becomes a `tool_use` block for the tool the request forced.
 */
import {
  listenJson,
  randomId,
  replyQueue,
  type LlmDoubleBase,
  type LlmReply,
  type LlmRequestRecord,
} from "./llm-common.js";

export type { LlmReply } from "./llm-common.js";

export async function startAnthropicDouble(options: { apiKey?: string } = {}): Promise<LlmDoubleBase> {
  const apiKey = options.apiKey ?? "sk-ant-double-key";
  const requests: LlmRequestRecord[] = [];
  const replies = replyQueue();
  const error = (status: number, type: string, message: string) => ({
    status,
    body: { type: "error", error: { type, message }, request_id: randomId("req_") },
  });

  const listening = await listenJson(
    (req, path, body) => {
      if (req.method !== "POST" || path !== "/v1/messages") return error(404, "not_found_error", "Not found");
      // SDK 1.x sends the key as a Bearer token; older clients use x-api-key. Accept both.
      const key = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
      if (key !== apiKey) return error(401, "authentication_error", "invalid x-api-key");
      if (typeof body.model !== "string" || !Array.isArray(body.messages) || typeof body.max_tokens !== "number") {
        return error(400, "invalid_request_error", "model, messages and max_tokens are required");
      }
      const record = { path, body };
      requests.push(record);
      const reply: LlmReply | undefined = replies.next(record, double.fallback);
      if (!reply) return error(500, "api_error", "The Anthropic double has no scripted reply left.");
      if ("status" in reply) return { status: reply.status, body: reply.body };

      const choice = body.tool_choice as { type?: string; name?: string } | undefined;
      const tools = (body.tools as { name?: string }[] | undefined) ?? [];
      let content: unknown[];
      let stop_reason: string;
      if ("json" in reply) {
        content = [
          {
            type: "tool_use",
            id: randomId("toolu_"),
            name: choice?.name ?? tools[0]?.name ?? "tool",
            input: reply.json,
          },
        ];
        stop_reason = "tool_use";
      } else if ("refusal" in reply) {
        content = [{ type: "text", text: reply.refusal, citations: null }];
        stop_reason = "refusal";
      } else {
        content = [{ type: "text", text: reply.text, citations: null }];
        stop_reason = "end_turn";
      }
      return {
        status: 200,
        body: {
          id: randomId("msg_"),
          type: "message",
          role: "assistant",
          model: body.model,
          content,
          stop_reason,
          stop_sequence: null,
          usage: {
            input_tokens: JSON.stringify(body.messages).length >> 2,
            output_tokens: 200,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      };
    },
    () => double.latencyMs,
  );

  const double: LlmDoubleBase = {
    url: `http://127.0.0.1:${listening.port}`,
    apiKey,
    requests,
    enqueue: (...r) => void replies.queue.push(...r),
    fallback: undefined,
    latencyMs: 0,
    close: listening.close,
  };
  return double;
}
