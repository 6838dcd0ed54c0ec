/**
 * `feedback`: the one contract's tool (src/feedback), stored exactly like
 * `POST /api/feedback`. Any key may call it, so a key handed to agents files
 * reports and reads nothing.
 */
import type { Tool } from "@modelcontextprotocol/server";
import {
  describeRedactions,
  FEEDBACK_REPLIES,
  feedbackToolDefinition,
  parseFeedback,
  recordedReply,
} from "../../feedback/index.js";
import { errorResult, failure, type ReportTool } from "./types.js";

export const feedbackTool: ReportTool = {
  scope: "ingest",
  // The contract's definition, verbatim (its JSON Schema properties are objects; the SDK type just says so).
  definition: feedbackToolDefinition() as Tool,
  async call(args, ctx) {
    const parsed = parseFeedback(args ?? {}, ctx.defaultServerName ? { server_name: ctx.defaultServerName } : {});
    if (!parsed.ok) {
      return errorResult(FEEDBACK_REPLIES.invalid(parsed.issues.map((i) => `${i.field}: ${i.message}`).join("; ")));
    }
    try {
      const { id, gap, redactions } = await ctx.ingest(parsed.payload, parsed.idempotencyKey);
      // A gap the developers acted on is echoed: its status and their agent note, never another agent's words.
      const scrubbed =
        redactions.length > 0
          ? `\n\nBefore storing it, privacy replaced ${describeRedactions(redactions)} with placeholders.`
          : "";
      return {
        content: [{ type: "text", text: recordedReply(id, gap) + scrubbed }],
      };
    } catch (err) {
      return failure(err, "feedback");
    }
  },
};
