/**
 * LLM providers, both asked for the same change set through the same JSON
 * Schema (derived from the zod schema in change-set.ts):
 *
 * - Anthropic (@anthropic-ai/sdk): a single tool whose `input_schema` is the
 *   schema, forced with `tool_choice` — the tool input IS the answer.
 * - OpenAI (openai SDK): the Responses API with `text.format` json_schema,
 *   strict, and `max_output_tokens`. OpenAI-compatible servers without the
 *   Responses API (older Ollama, vLLM, LM Studio builds) answer 404 there;
 *   we then fall back to Chat Completions with `response_format` json_schema
 *   and `max_completion_tokens`.
 *
 * The same two paths answer the gap analysis, with its own schema (`output`).
 *
 * The answer is returned as parsed JSON, NOT trusted: the caller validates it.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { LlmProvider } from "../settings/index.js";
import { CHANGE_SET_JSON_SCHEMA, CHANGE_SET_TOOL_NAME } from "./change-set.js";
import { DraftError } from "./events.js";

/** What the model must answer with: one JSON object matching `schema`. */
export interface StructuredOutput {
  /** Anthropic tool name. */
  toolName: string;
  /** OpenAI json_schema format name. */
  formatName: string;
  description: string;
  schema: Record<string, unknown>;
  /** For messages: "change set", "analysis"; with its article: "a change set", "an analysis". */
  noun: string;
  withArticle: string;
  /** For refusals: "draft this change", "analyse this gap". */
  task: string;
}

export const CHANGE_SET_OUTPUT: StructuredOutput = {
  toolName: CHANGE_SET_TOOL_NAME,
  formatName: "change_set",
  description: "Submit the change set for the draft pull request.",
  schema: CHANGE_SET_JSON_SCHEMA as Record<string, unknown>,
  noun: "change set",
  withArticle: "a change set",
  task: "draft this change",
};

export interface ModelRequest {
  system: string;
  user: string;
  maxOutputTokens: number;
  signal?: AbortSignal | undefined;
  /** The answer's shape (default: the draft change set). */
  output?: StructuredOutput | undefined;
}

export interface ModelClient {
  readonly provider: LlmProvider;
  readonly model: string;
  /** Which API answered (for messages): "messages", "responses", "chat.completions". */
  api: string;
  generate(request: ModelRequest): Promise<unknown>;
}

export interface ProviderConfig {
  provider: LlmProvider;
  model: string;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  timeoutMs?: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Satisfies the openai SDK's constructor for keyless local servers; never sent (the header is removed). */
const KEYLESS_PLACEHOLDER = "patchworkmcp-keyless";

function apiError(err: unknown, provider: string): DraftError {
  if (err instanceof DraftError) return err;
  if (err instanceof Error && (err.name === "AbortError" || err.name === "APIUserAbortError")) {
    return new DraftError("cancelled", "The draft was cancelled.", "model");
  }
  const status = typeof err === "object" && err !== null ? (err as { status?: unknown }).status : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (status === 401 || status === 403)
    return new DraftError(
      "llm_auth_failed",
      `The ${provider} API rejected the API key (${status}). Check the key in the draft settings.`,
      "model",
    );
  if (status === 404)
    return new DraftError(
      "llm_not_found",
      `The ${provider} API does not know this model or endpoint (404): ${message}`,
      "model",
    );
  if (status === 429)
    return new DraftError(
      "llm_rate_limited",
      `The ${provider} API is rate limiting requests (429); try again later.`,
      "model",
    );
  if (typeof status === "number")
    return new DraftError("llm_error", `The ${provider} API failed (${status}): ${message}`, "model");
  return new DraftError("llm_unreachable", `Could not reach the ${provider} API (${message}).`, "model");
}

function parseJsonAnswer(text: string, provider: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*\n([\s\S]*)\n```$/, "$1");
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw new DraftError(
      "invalid_json",
      `The ${provider} model did not answer with valid JSON (it began: ${JSON.stringify(text.slice(0, 80))}).`,
      "model",
    );
  }
}

class AnthropicClient implements ModelClient {
  readonly provider = "anthropic" as const;
  api = "messages";
  private readonly client: Anthropic;

  constructor(
    readonly model: string,
    config: ProviderConfig,
  ) {
    this.client = new Anthropic({
      apiKey: config.apiKey ?? null,
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      maxRetries: 2,
      timeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  async generate(request: ModelRequest): Promise<unknown> {
    const out = request.output ?? CHANGE_SET_OUTPUT;
    let message: Anthropic.Message;
    try {
      message = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: request.maxOutputTokens,
          system: request.system,
          messages: [{ role: "user", content: request.user }],
          tools: [
            {
              name: out.toolName,
              description: out.description,
              input_schema: out.schema as Anthropic.Tool.InputSchema,
            },
          ],
          tool_choice: { type: "tool", name: out.toolName },
        },
        { signal: request.signal },
      );
    } catch (err) {
      throw apiError(err, "Anthropic");
    }
    const text = message.content
      .flatMap((b) => (b.type === "text" ? [b.text] : []))
      .join(" ")
      .trim();
    if (message.stop_reason === "refusal") {
      throw new DraftError(
        "model_refused",
        `The model declined to ${out.task}${text ? `: ${text.slice(0, 300)}` : "."}`,
        "model",
      );
    }
    if (message.stop_reason === "max_tokens") {
      throw new DraftError(
        "model_truncated",
        `The model ran out of output tokens before finishing the ${out.noun}.`,
        "model",
      );
    }
    const call = message.content.find((b) => b.type === "tool_use" && b.name === out.toolName);
    if (call?.type !== "tool_use") {
      if (text) return parseJsonAnswer(text, "Anthropic");
      throw new DraftError("invalid_json", `The model answered without ${out.withArticle}.`, "model");
    }
    return call.input;
  }
}

class OpenAIClient implements ModelClient {
  readonly provider = "openai" as const;
  api = "responses";
  private readonly client: OpenAI;
  private useChat = false;

  constructor(
    readonly model: string,
    config: ProviderConfig,
  ) {
    this.client = new OpenAI({
      // The SDK refuses to start without a key, but a local server (Ollama, vLLM, LM Studio) needs none: give it a
      // placeholder and strip the Authorization header it would make from it, so nothing key-like is sent.
      apiKey: config.apiKey ?? KEYLESS_PLACEHOLDER,
      ...(config.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
      // Never pick up OPENAI_ADMIN_KEY from the environment behind the settings' back.
      adminAPIKey: null,
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      maxRetries: 2,
      timeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  async generate(request: ModelRequest): Promise<unknown> {
    if (!this.useChat) {
      try {
        return await this.viaResponses(request);
      } catch (err) {
        // No Responses API on this (OpenAI-compatible) server: use Chat Completions from now on.
        if (err instanceof OpenAI.NotFoundError && !/model/i.test(err.message)) this.useChat = true;
        else throw apiError(err, "OpenAI");
      }
    }
    this.api = "chat.completions";
    return this.viaChat(request);
  }

  private async viaResponses(request: ModelRequest): Promise<unknown> {
    const out = request.output ?? CHANGE_SET_OUTPUT;
    const response = await this.client.responses.create(
      {
        model: this.model,
        instructions: request.system,
        input: request.user,
        max_output_tokens: request.maxOutputTokens,
        // Repository code and reports are not kept on OpenAI's side for later retrieval.
        store: false,
        text: { format: { type: "json_schema", name: out.formatName, schema: out.schema, strict: true } },
      },
      { signal: request.signal },
    );
    for (const item of response.output) {
      if (item.type !== "message") continue;
      for (const part of item.content) {
        if (part.type === "refusal")
          throw new DraftError(
            "model_refused",
            `The model declined to ${out.task}: ${part.refusal.slice(0, 300)}`,
            "model",
          );
      }
    }
    if (response.status === "incomplete") {
      const reason = response.incomplete_details?.reason;
      if (reason === "content_filter")
        throw new DraftError("model_refused", "The model's answer was stopped by the content filter.", "model");
      throw new DraftError(
        "model_truncated",
        `The model ran out of output tokens before finishing the ${out.noun}.`,
        "model",
      );
    }
    if (!response.output_text)
      throw new DraftError("invalid_json", `The model answered without ${out.withArticle}.`, "model");
    return parseJsonAnswer(response.output_text, "OpenAI");
  }

  private async viaChat(request: ModelRequest): Promise<unknown> {
    const out = request.output ?? CHANGE_SET_OUTPUT;
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: [
            { role: "system", content: request.system },
            { role: "user", content: request.user },
          ],
          max_completion_tokens: request.maxOutputTokens,
          response_format: {
            type: "json_schema",
            json_schema: { name: out.formatName, schema: out.schema, strict: true },
          },
        },
        { signal: request.signal },
      );
    } catch (err) {
      throw apiError(err, "OpenAI-compatible");
    }
    const choice = completion.choices[0];
    if (!choice) throw new DraftError("invalid_json", `The model answered without ${out.withArticle}.`, "model");
    if (choice.message.refusal)
      throw new DraftError(
        "model_refused",
        `The model declined to ${out.task}: ${choice.message.refusal.slice(0, 300)}`,
        "model",
      );
    if (choice.finish_reason === "length")
      throw new DraftError(
        "model_truncated",
        `The model ran out of output tokens before finishing the ${out.noun}.`,
        "model",
      );
    if (choice.finish_reason === "content_filter")
      throw new DraftError("model_refused", "The model's answer was stopped by the content filter.", "model");
    if (!choice.message.content)
      throw new DraftError("invalid_json", `The model answered without ${out.withArticle}.`, "model");
    return parseJsonAnswer(choice.message.content, "OpenAI-compatible");
  }
}

export function createModelClient(config: ProviderConfig): ModelClient {
  if (config.provider === "anthropic") {
    if (!config.apiKey)
      throw new DraftError(
        "missing_api_key",
        "No Anthropic API key: set ANTHROPIC_API_KEY or save one in the draft settings.",
        "settings",
      );
    return new AnthropicClient(config.model, config);
  }
  // A local OpenAI-compatible server usually needs no key.
  if (!config.apiKey && !config.baseUrl)
    throw new DraftError(
      "missing_api_key",
      "No OpenAI API key: set OPENAI_API_KEY or save one in the draft settings (or set OPENAI_BASE_URL for a local server).",
      "settings",
    );
  return new OpenAIClient(config.model, config);
}
