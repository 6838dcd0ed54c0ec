/**
 * An example MCP server over stdio wired up exactly as docs/drop-ins.md shows: the
 * server instructions plus one registerFeedbackTool line. drop-ins/stdio.test.ts
 * runs it (`node --import tsx example-server.ts`) and talks to it as a client would.
 * FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY come from the environment.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { FEEDBACK_SERVER_INSTRUCTIONS, registerFeedbackTool } from "./feedback-tool.js";

const server = new McpServer(
  { name: "billing-server", version: "2.4.1" },
  { instructions: FEEDBACK_SERVER_INSTRUCTIONS },
);
server.registerTool("list_invoices", { description: "List invoices." }, async () => ({
  content: [{ type: "text", text: "[]" }],
}));
registerFeedbackTool(server, "billing-server");

// The SDK's stdio transport does not end on stdin EOF; a client closing the pipe means stop.
process.stdin.once("end", () => void server.close().then(() => process.exit(0)));
await server.connect(new StdioServerTransport());
