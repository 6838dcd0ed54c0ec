/**
 * The original PatchworkMCP README's TypeScript snippets, as written there (each
 * wrapped in a function so the two can live side by side). Type-checked by
 * dropin.test.ts and run by dropin-check.ts against the real sidecar.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerFeedbackTool } from "./feedback-tool.js";
import { TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA, sendFeedback } from "./feedback-tool.js";

/** "Option A: One-liner" */
export function optionA(): McpServer {
  const server = new McpServer({ name: "my-server", version: "1.0.0" });
  registerFeedbackTool(server, "my-server");
  return server;
}

/** "Option B: Manual" */
export function optionB(): McpServer {
  const server = new McpServer({ name: "my-server", version: "1.0.0" });
  server.tool(TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA, async (args) => {
    const message = await sendFeedback(args, "my-server");
    return { content: [{ type: "text", text: message }] };
  });
  return server;
}

/** The original's options argument: `{ sidecarUrl?, apiKey? }`. */
export function withOptions(sidecarUrl: string, apiKey: string): McpServer {
  const server = new McpServer({ name: "my-server", version: "1.0.0" });
  registerFeedbackTool(server, "my-server", { sidecarUrl, apiKey });
  return server;
}
