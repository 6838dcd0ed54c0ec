/**
 * dropin-check's seam to SDK 2.x (`@modelcontextprotocol/server` + `client`): the
 * billing server behind a real Client, over the in-memory transport (2025-era
 * initialize) and, for 2026-07-28, through `createMcpHandler` (the SDK's serving
 * entry for that revision: a fresh server per request, client identity in each
 * request's envelope) with the client pinned to 2026-07-28.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createMcpHandler, InMemoryTransport, McpServer } from "@modelcontextprotocol/server";

export const major = 2;

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
  server.registerTool("list_invoices", { description: "List invoices." }, async () => ({
    content: [{ type: "text", text: "[]" }],
  }));
  return server;
}

function wrap(client: Client): Connected {
  return {
    instructions: client.getInstructions(),
    protocolVersion: client.getNegotiatedProtocolVersion(),
    listTools: async () => (await client.listTools()) as never,
    callTool: async (name, args) => (await client.callTool({ name, arguments: args })) as never,
    close: () => client.close(),
  };
}

export async function connect(server: McpServer, clientInfo: { name: string; version: string }): Promise<Connected> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(clientInfo);
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return wrap(client);
}

/** 2026-07-28: the handler builds a server per request with `factory`; the client is pinned to that revision. */
export async function connectModern(
  factory: () => McpServer,
  clientInfo: { name: string; version: string },
): Promise<Connected> {
  const handler = createMcpHandler(() => factory());
  const transport = new StreamableHTTPClientTransport(new URL("http://127.0.0.1/mcp"), {
    fetch: (url, init) => handler.fetch(new Request(url, init)),
  });
  const client = new Client(clientInfo, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await client.connect(transport);
  const connected = wrap(client);
  return {
    ...connected,
    close: async () => {
      await client.close();
      await handler.close();
    },
  };
}
