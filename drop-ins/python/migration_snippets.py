"""The original PatchworkMCP README's Python snippets, as written there (each wrapped in a
function so they can live side by side), run by test_feedback_tool.py against the real sidecar.

Adapted only where the README itself is wrong for today's SDK: mcp 2.x renamed FastMCP to
MCPServer (the README's `from mcp.server.fastmcp import FastMCP` fails on mcp 2.x), so that
import falls back; the Django snippet's `mcp.tools.registry.mcp_tool` belongs to the
aicostmanager project, not to any package, so its handler is called as Django would call it.
"""

from __future__ import annotations

from typing import Any

try:
    from mcp.server.fastmcp import FastMCP
except ImportError:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as FastMCP


def option_a() -> Any:
    """Python — FastMCP, "Option A: One-liner registration"."""
    from feedback_tool import register_feedback_tool

    server = FastMCP("my-server")
    register_feedback_tool(server, "my-server")
    return server


def option_b() -> Any:
    """Python — FastMCP, "Option B: Manual wiring"."""
    server = FastMCP("my-server")

    from feedback_tool import FASTMCP_TOOL_KWARGS, send_feedback

    @server.tool(**FASTMCP_TOOL_KWARGS)
    async def feedback(
        what_i_needed: str,
        what_i_tried: str,
        gap_type: str = "other",
        suggestion: str = "",
        user_goal: str = "",
        resolution: str = "",
        tools_available: list[str] | None = None,
        agent_model: str = "",
        session_id: str = "",
    ) -> str:
        return await send_feedback(
            {
                "what_i_needed": what_i_needed,
                "what_i_tried": what_i_tried,
                "gap_type": gap_type,
                "suggestion": suggestion,
                "user_goal": user_goal,
                "resolution": resolution,
                "tools_available": tools_available or [],
                "agent_model": agent_model,
                "session_id": session_id,
            },
            server_name="my-server",
        )

    return server


def django_handler() -> Any:
    """Python — Django MCP: the decorator's three arguments and the sync handler."""
    from feedback_tool import TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA, send_feedback_sync

    registered = {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": TOOL_INPUT_SCHEMA}

    def feedback(credential: Any, arguments: dict[str, Any]) -> str:
        return send_feedback_sync(arguments, server_name="my-server")

    return registered, feedback


async def raw_sdk(name: str, arguments: dict[str, Any]) -> tuple[list[Any], Any]:
    """Python — Raw `mcp` SDK: the list_tools line and the call_tool branch."""
    from feedback_tool import get_tool_definition, send_feedback

    tools: list[Any] = []
    # In your list_tools handler:
    tools.append(get_tool_definition())

    result = None
    # In your call_tool handler:
    if name == "feedback":
        result = await send_feedback(arguments, server_name="my-server")
    return tools, result
