/**
 * dropin-check's seam to SDK 1.x (`@modelcontextprotocol/sdk`): the billing server
 * (McpServer + list_invoices + what `register` adds) behind a real Client over the
 * SDK's in-memory transport. sdk-v2.ts is the same for 2.x.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const major = 1;

export interface Connected {
  instructions: string | undefined;
  protocolVersion: string | undefined;
  listTools(): Promise<{ tools: Array<Record<string, unknown> & { name: string }> }>;
  callTool(
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ content: Array<{ type: string; text?: string }>; isError?: boolean }>;
  close(): Promise<void>;
}

export function billingServer(instructions: string): McpServer {
  const server = new McpServer({ name: "billing-server", version: "2.4.1" }, { instructions });
  server.tool("list_invoices", "List invoices.", async () => ({ content: [{ type: "text", text: "[]" }] }));
  return server;
}

export async function connect(server: McpServer, clientInfo: { name: string; version: string }): Promise<Connected> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(clientInfo);
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    instructions: client.getInstructions(),
    protocolVersion: undefined,
    listTools: async () => (await client.listTools()) as never,
    callTool: async (name, args) => (await client.callTool({ name, arguments: args })) as never,
    close: () => client.close(),
  };
}

/** SDK 1.x serves one era (2025-era initialize); there is no 2026-07-28 to check. */
export const connectModern = undefined;
