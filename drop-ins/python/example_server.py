"""An example MCP server over stdio wired up exactly as docs/drop-ins.md shows: the
server instructions plus one register_feedback_tool line. drop-ins/stdio.test.ts runs
it under mcp 2.x (MCPServer) and mcp 1.x (FastMCP) and talks to it as a client would.

    python example_server.py        # FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY from the env
"""
from __future__ import annotations

from importlib.metadata import version

from feedback_tool import SERVER_INSTRUCTIONS, register_feedback_tool

if int(version("mcp").split(".")[0]) >= 2:
    from mcp.server.mcpserver import MCPServer as Server
else:
    from mcp.server.fastmcp import FastMCP as Server

server = Server("billing-server", instructions=SERVER_INSTRUCTIONS)


@server.tool()
def list_invoices() -> str:
    """List invoices."""
    return "[]"


register_feedback_tool(server, "billing-server")

if __name__ == "__main__":
    server.run()
