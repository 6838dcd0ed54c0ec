/**
 * A loopback double of the OpenAI API: `POST /v1/responses` (Responses API)
 * and `POST /v1/chat/completions`, with the real response and error shapes.
 * Point the SDK at it with `new OpenAI({ apiKey, baseURL: double.url })`.
 * `responsesApi = false` makes it behave like an OpenAI-compatible local
 * server without the Responses API (404 there), to exercise the fallback.
 * `apiKey: null` makes it a keyless local server that refuses any request
 * carrying an Authorization header (so a client must send none at all).
 */
import {
  listenJson,
  randomId,
  replyQueue,
  type LlmDoubleBase,
  type LlmReply,
  type LlmRequestRecord,
} from "./llm-common.js";

export interface OpenAIDouble extends LlmDoubleBase {
  responsesApi: boolean;
  /** True when started with `apiKey: null`: `apiKey` is then "". */
  keyless: boolean;
}

export async function startOpenAIDouble(
  options: { apiKey?: string | null; responsesApi?: boolean } = {},
): Promise<OpenAIDouble> {
  const keyless = options.apiKey === null;
  const apiKey = options.apiKey === null ? "" : (options.apiKey ?? "sk-openai-double-key");
  const requests: LlmRequestRecord[] = [];
  const replies = replyQueue();
  const error = (status: number, message: string, type: string, code: string | null) => ({
    status,
    body: { error: { message, type, param: null, code } },
  });

  const listening = await listenJson(
    (req, path, body) => {
      const isResponses = path === "/v1/responses";
      const isChat = path === "/v1/chat/completions";
      if (req.method !== "POST" || !(isResponses || isChat) || (isResponses && !double.responsesApi)) {
        return { status: 404, body: "404 page not found", contentType: "text/plain" };
      }
      const auth = req.headers.authorization ?? "";
      if (keyless && req.headers.authorization !== undefined) {
        return error(
          401,
          "This local server takes no API key; send no Authorization header.",
          "invalid_request_error",
          null,
        );
      }
      if (!keyless && auth !== `Bearer ${apiKey}`) {
        // Some compatible servers echo the key they got: the pipeline must never pass it on.
        return error(
          401,
          `Incorrect API key provided: ${auth.replace(/^Bearer\s+/i, "")}.`,
          "invalid_request_error",
          "invalid_api_key",
        );
      }
      if (typeof body.model !== "string")
        return error(400, "you must provide a model parameter", "invalid_request_error", null);
      const record = { path, body };
      requests.push(record);
      const reply: LlmReply | undefined = replies.next(record, double.fallback);
      if (!reply) return error(500, "The OpenAI double has no scripted reply left.", "server_error", null);
      if ("status" in reply) return { status: reply.status, body: reply.body };

      const text = "json" in reply ? JSON.stringify(reply.json) : "text" in reply ? reply.text : null;
      const refusal = "refusal" in reply ? reply.refusal : null;
      const usage = { input_tokens: 1000, output_tokens: 200, total_tokens: 1200 };
      const created = Math.floor(Date.now() / 1000);
      if (isResponses) {
        return {
          status: 200,
          body: {
            id: randomId("resp_"),
            object: "response",
            created_at: created,
            status: "completed",
            error: null,
            incomplete_details: null,
            instructions: body.instructions ?? null,
            max_output_tokens: body.max_output_tokens ?? null,
            model: body.model,
            output: [
              {
                type: "message",
                id: randomId("msg_"),
                status: "completed",
                role: "assistant",
                content:
                  refusal !== null
                    ? [{ type: "refusal", refusal }]
                    : [{ type: "output_text", text, annotations: [], logprobs: [] }],
              },
            ],
            parallel_tool_calls: true,
            temperature: 1,
            tool_choice: "auto",
            tools: [],
            top_p: 1,
            text: body.text ?? { format: { type: "text" } },
            usage: {
              ...usage,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens_details: { reasoning_tokens: 0 },
            },
            metadata: {},
          },
        };
      }
      return {
        status: 200,
        body: {
          id: randomId("chatcmpl-"),
          object: "chat.completion",
          created,
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: text, refusal, annotations: [] },
              logprobs: null,
              finish_reason: "stop",
            },
          ],
          usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
        },
      };
    },
    () => double.latencyMs,
  );

  const double: OpenAIDouble = {
    url: `http://127.0.0.1:${listening.port}/v1`,
    apiKey,
    keyless,
    requests,
    responsesApi: options.responsesApi ?? true,
    enqueue: (...r) => void replies.queue.push(...r),
    fallback: undefined,
    latencyMs: 0,
    close: listening.close,
  };
  return double;
}
