/**
 * The example MCP server over stdio on SDK 2.x, wired as docs/drop-ins.md shows:
 * the server instructions plus one registerFeedbackTool line. `serveStdio` answers
 * 2025-era initialize and 2026-07-28 requests alike. drop-ins/stdio.test.ts runs it
 * from compat-v2/dropin/ (`node --import tsx example-server-v2.ts`).
 */
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { FEEDBACK_SERVER_INSTRUCTIONS, registerFeedbackTool } from "./feedback-tool.js";

const handle = serveStdio(() => {
  const server = new McpServer(
    { name: "billing-server", version: "2.4.1" },
    { instructions: FEEDBACK_SERVER_INSTRUCTIONS },
  );
  server.registerTool("list_invoices", { description: "List invoices." }, async () => ({
    content: [{ type: "text", text: "[]" }],
  }));
  registerFeedbackTool(server, "billing-server");
  return server;
});

// A client closing the pipe means stop.
process.stdin.once("end", () => void handle.close().then(() => process.exit(0)));
