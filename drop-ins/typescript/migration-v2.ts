/**
 * The original PatchworkMCP README's TypeScript one-liner on SDK 2.x: only the
 * McpServer import changes (2.x moved it to @modelcontextprotocol/server). Option B
 * (`server.tool(...)`) is 1.x API that 2.x removed, so it lives in migration-v1.ts only. Type-checked by
 * dropin.test.ts and run by dropin-check.ts against the real sidecar.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { registerFeedbackTool } from "./feedback-tool.js";

/** "Option A: One-liner" */
export function optionA(): McpServer {
  const server = new McpServer({ name: "my-server", version: "1.0.0" });
  registerFeedbackTool(server, "my-server");
  return server;
}

/** The original's options argument: `{ sidecarUrl?, apiKey? }`. */
export function withOptions(sidecarUrl: string, apiKey: string): McpServer {
  const server = new McpServer({ name: "my-server", version: "1.0.0" });
  registerFeedbackTool(server, "my-server", { sidecarUrl, apiKey });
  return server;
}
