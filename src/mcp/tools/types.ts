/**
 * The contract every report tool follows. A tool is a plain object: the scope
 * it needs, its `tools/list` entry, and `call`, which never throws — every
 * failure becomes an `isError: true` result the agent can read and act on.
 */
import type { CallToolResult, ProgressToken, ServerNotification, Tool } from "@modelcontextprotocol/server";
import { z } from "zod";
import { toFieldIssues, type FeedbackPayload } from "../../feedback/index.js";
import { StoreError, type FeedbackStore, type KeyScope } from "../../store/index.js";
import type { ScrubbedInsert } from "../../ingest/index.js";

/** What a tool sees of its request (built from the SDK's request context in server.ts). */
export interface RequestExtra {
  /** Aborted when the caller cancels (or, over HTTP, drops the connection). */
  signal: AbortSignal;
  /** The caller's progress token, when it sent one (progress may be sent only against it). */
  progressToken?: ProgressToken | undefined;
  /** Send a notification related to this request (progress). */
  notify(notification: ServerNotification): Promise<void>;
}

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  store: FeedbackStore;
  /** Store a report the way `POST /api/feedback` does (group commit on HTTP). */
  ingest(payload: FeedbackPayload, idempotencyKey?: string): Promise<ScrubbedInsert>;
  /** `--server-name`: used when a feedback call does not name its server. */
  defaultServerName?: string | undefined;
  /** This request's extras: abort signal, progress token and `sendNotification`. */
  extra: RequestExtra;
}

export interface ReportTool {
  /** The least scope a session needs to see and call this tool. */
  scope: KeyScope;
  /** The exact `tools/list` entry. */
  definition: Tool;
  call(args: unknown, ctx: ToolContext): Promise<CallToolResult>;
}

/** Throw from a handler to answer with `isError: true` and this message. */
export class ToolError extends Error {
  override name = "ToolError";
}

/** What a handler returns: readable text, plus structured data when the tool has an outputSchema. */
export interface ToolOutput {
  text: string;
  structured?: Record<string, unknown>;
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

type InputSchema = Tool["inputSchema"];

/**
 * `type: ["string", "null"]` → `anyOf` of single types: legal either way, but
 * single-type dialects (e.g. Gemini's function declarations) reject arrays.
 */
function singleTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(singleTypes);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = singleTypes(v);
  if (Array.isArray(out.type)) {
    const types = out.type as unknown[];
    delete out.type;
    const { description, ...rest } = out;
    const branches = types.map((t) => (t === "null" ? { type: "null" } : { type: t, ...rest }));
    return description === undefined ? { anyOf: branches } : { description, anyOf: branches };
  }
  return out;
}

/** JSON Schema for a tool's input or output, derived from zod (MCP tool schemas omit `$schema`). */
export function toolJsonSchema(schema: z.ZodType, io: "input" | "output"): InputSchema {
  const json = singleTypes(z.toJSONSchema(schema, { io, target: "draft-7", unrepresentable: "any" })) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json as InputSchema;
}

/** Turn any failure inside a tool into an isError result; unexpected ones are logged, not leaked. */
export function failure(err: unknown, toolName: string): CallToolResult {
  if (err instanceof ToolError) return errorResult(err.message);
  if (err instanceof StoreError) return errorResult(`${err.message} (${err.code}).`);
  process.stderr.write(
    `patchworkmcp: tool ${toolName} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return errorResult(`${toolName} failed with an internal error; the server log has the details.`);
}

export interface ToolSpec<S extends z.ZodType> {
  name: string;
  title: string;
  description: string;
  scope: KeyScope;
  input: S;
  /** zod schema of `structuredContent`; becomes the tool's outputSchema. */
  output?: z.ZodType;
  annotations: NonNullable<Tool["annotations"]>;
  run(input: z.output<S>, ctx: ToolContext): ToolOutput | Promise<ToolOutput>;
}

/** Build a ReportTool from zod schemas: validates arguments, names every bad field in the error text. */
export function defineTool<S extends z.ZodType>(spec: ToolSpec<S>): ReportTool {
  const definition: Tool = {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    inputSchema: toolJsonSchema(spec.input, "input"),
    ...(spec.output ? { outputSchema: toolJsonSchema(spec.output, "output") } : {}),
    annotations: { title: spec.title, ...spec.annotations },
  };
  return {
    scope: spec.scope,
    definition,
    async call(args, ctx) {
      const parsed = spec.input.safeParse(args ?? {});
      if (!parsed.success) {
        const details = toFieldIssues(parsed.error)
          .map((i) => `${i.field}: ${i.message}`)
          .join("; ");
        return errorResult(`Invalid arguments for ${spec.name}: ${details}.`);
      }
      try {
        const out = await spec.run(parsed.data, ctx);
        const result: CallToolResult = { content: [{ type: "text", text: out.text }] };
        if (out.structured) result.structuredContent = out.structured;
        return result;
      } catch (err) {
        return failure(err, spec.name);
      }
    },
  };
}
