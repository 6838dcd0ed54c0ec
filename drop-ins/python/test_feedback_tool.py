"""Native test of feedback_tool.py with the real `mcp` SDK (2.x MCPServer / low-level Server,
or 1.x FastMCP when run from the mcp 1.x venv) and a real sidecar.

Run by drop-ins/python/dropin.test.ts in two phases:
  -k test_up    the sidecar is up:   FEEDBACK_SIDECAR_URL, PWM_FLAKY_URL, PWM_SPEC_DIR
  -k test_down  the sidecar is down: FEEDBACK_SIDECAR_URL (stopped), PWM_DOWN_URL
The TypeScript side reads the stored reports back and replays the stderr lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, AsyncIterator

import feedback_tool as ft

SPEC = Path(os.environ.get("PWM_SPEC_DIR", Path(__file__).resolve().parent.parent / "spec"))
SPEC_TOOL = json.loads((SPEC / "tool.json").read_text())
SPEC_INSTRUCTIONS = json.loads((SPEC / "instructions.json").read_text())["instructions"]
SPEC_REPLIES = json.loads((SPEC / "replies.json").read_text())
VECTORS = json.loads((SPEC / "vectors.json").read_text())
FULL = next(v for v in VECTORS["valid"] if v["name"] == "full")["input"]
SERVER = FULL["server_name"]
FAST = ft.FeedbackOptions(backoff=0.01, max_retry_after=0.05)
RECORDED = re.compile("^" + re.escape(SPEC_REPLIES["recorded"]).replace(re.escape("{id}"), r"(\d+)") + "$")


def _version() -> int:
    from importlib.metadata import version

    return int(version("mcp").split(".")[0])


MAJOR = _version()


def high_level_server() -> Any:
    """The SDK's high-level server class with the drop-in registered in one line."""
    if MAJOR >= 2:
        from mcp.server.mcpserver import MCPServer

        server = MCPServer(SERVER, instructions=ft.SERVER_INSTRUCTIONS)
    else:
        from mcp.server.fastmcp import FastMCP

        server = FastMCP(SERVER, instructions=ft.SERVER_INSTRUCTIONS)

    @server.tool()
    def list_invoices() -> str:
        """List invoices."""
        return "[]"

    ft.register_feedback_tool(server, SERVER, FAST)
    return server


def low_level_server() -> Any:
    """The raw low-level Server: tool definition + handler wired by hand."""
    from mcp import types
    from mcp.server import Server

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[ft.feedback_tool()])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        text = await ft.call_feedback_tool(params.arguments or {}, SERVER, FAST)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    if MAJOR >= 2:
        return Server(SERVER, instructions=ft.SERVER_INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)

    # mcp 1.x: the same two handlers, registered with decorators.
    server = Server(SERVER, instructions=ft.SERVER_INSTRUCTIONS)

    @server.list_tools()
    async def list_tools_v1() -> list[types.Tool]:
        return [ft.feedback_tool()]

    @server.call_tool()
    async def call_tool_v1(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        return [types.TextContent(type="text", text=await ft.call_feedback_tool(arguments, SERVER, FAST))]

    return server


class Session:
    """The same three calls over mcp 2.x `Client` or a 1.x `ClientSession`."""

    def __init__(self, instructions: str | None, list_tools: Any, call_tool: Any) -> None:
        self.instructions = instructions
        self.list_tools = list_tools
        self.call_tool = call_tool


@contextlib.asynccontextmanager
async def connect(server: Any) -> AsyncIterator[Session]:
    if MAJOR >= 2:
        from mcp import Client

        async with Client(server) as client:
            yield Session(client.instructions, client.list_tools, client.call_tool)
    else:
        from mcp.client.session import ClientSession
        from mcp.shared.memory import create_client_server_memory_streams

        lowlevel = getattr(server, "_mcp_server", server)
        async with create_client_server_memory_streams() as (client_streams, server_streams):
            import anyio

            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: lowlevel.run(
                        server_streams[0], server_streams[1], lowlevel.create_initialization_options(), raise_exceptions=True
                    )
                )
                async with ClientSession(client_streams[0], client_streams[1]) as session:
                    init = await session.initialize()
                    yield Session(init.instructions, session.list_tools, session.call_tool)
                tg.cancel_scope.cancel()


def dumped(tool: Any) -> dict[str, Any]:
    return tool.model_dump(by_alias=True, exclude_none=True, mode="json")


def text_of(result: Any) -> str:
    assert len(result.content) == 1
    return result.content[0].text


async def list_and_call(server: Any, arguments: dict[str, Any]) -> tuple[dict[str, Any], str | None, str]:
    async with connect(server) as session:
        listed = [dumped(t) for t in (await session.list_tools()).tools]
        mine = next(t for t in listed if t["name"] == ft.TOOL_NAME)
        reply = text_of(await session.call_tool(ft.TOOL_NAME, arguments))
        return mine, session.instructions, reply


def assert_spec_tool(listed: dict[str, Any]) -> None:
    """tools/list shows exactly the spec's definition: full schema, enums, required, descriptions."""
    assert {k: v for k, v in listed.items() if k not in ("execution", "_meta")} == SPEC_TOOL


def test_up_exports_match_the_spec() -> None:
    assert ft.tool_definition() == SPEC_TOOL
    assert ft.TOOL_NAME == SPEC_TOOL["name"]
    assert ft.TOOL_DESCRIPTION == SPEC_TOOL["description"]
    assert ft.INPUT_SCHEMA == SPEC_TOOL["inputSchema"]
    assert ft.SERVER_INSTRUCTIONS == SPEC_INSTRUCTIONS
    assert ft.REPLY_RECORDED == SPEC_REPLIES["recorded"]
    assert ft.REPLY_QUEUED == SPEC_REPLIES["queued"]
    assert ft.REPLY_INVALID == SPEC_REPLIES["invalid"]


def test_up_high_level_server_lists_the_spec_tool_and_delivers() -> None:
    listed, instructions, reply = asyncio.run(list_and_call(high_level_server(), FULL))
    assert_spec_tool(listed)
    assert instructions == SPEC_INSTRUCTIONS
    assert RECORDED.match(reply), reply


def test_up_low_level_server_lists_the_spec_tool() -> None:
    # A report with an invalid gap_type proves the handler path without storing anything.
    bad = {**FULL, "gap_type": "feature_request"}
    listed, instructions, reply = asyncio.run(list_and_call(low_level_server(), bad))
    assert_spec_tool(listed)
    assert instructions == SPEC_INSTRUCTIONS
    if MAJOR < 2:
        # mcp 1.x validates arguments against the listed inputSchema itself: its refusal
        # names the enum, which proves the full schema reached the SDK.
        assert reply.startswith("Input validation error: 'feature_request' is not one of ['missing_tool'"), reply
        return
    issue = next(v for v in VECTORS["invalid"] if v["name"] == "bad_gap_type")["issues"][0]
    assert reply == SPEC_REPLIES["invalid"].replace("{details}", f"{issue['field']}: {issue['message']}")


def test_up_retries_a_lost_ack_with_one_idempotency_key() -> None:
    options = ft.FeedbackOptions(sidecar_url=os.environ["PWM_FLAKY_URL"], backoff=0.01, max_retry_after=0.05)
    result = ft.send_feedback_sync({**FULL, "session_id": "retry-after-lost-ack"}, options)
    assert result.delivered, result
    assert RECORDED.match(result.reply)
    assert result.status == 200  # the retry found the report the lost ack had stored


def test_up_valid_vectors_are_delivered() -> None:
    for vector in VECTORS["valid"]:
        if vector["name"] != "full":
            result = ft.send_feedback_sync({**vector["input"], "session_id": "vector:" + vector["name"]})
            assert result.delivered and RECORDED.match(result.reply), (vector["name"], result)


def test_up_invalid_vectors_get_the_spec_reply_and_are_not_kept() -> None:
    for vector in VECTORS["invalid"]:
        if not isinstance(vector["input"], dict):
            continue  # the drop-in only ever sends an object
        result = ft.send_feedback_sync(vector["input"], FAST)
        details = "; ".join(f"{i['field']}: {i['message']}" for i in vector["issues"])
        assert result.reply == SPEC_REPLIES["invalid"].replace("{details}", details), vector["name"]
        assert not result.delivered and not result.unsent


def forward_unsent_line(capfd: Any) -> None:
    """The drop-in wrote nothing to stdout and exactly one line to stderr; pass that line
    on to the real stderr, where the harness collects it for `patchworkmcp replay`."""
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ft.UNSENT_MARKER + " "), err
    sys.__stderr__.write(err)


def test_down_tool_call_keeps_the_report_for_replay(capfd: Any) -> None:
    _, _, reply = asyncio.run(list_and_call(high_level_server(), {**FULL, "session_id": "sidecar-down"}))
    assert reply == SPEC_REPLIES["queued"]
    forward_unsent_line(capfd)


def test_down_stops_after_two_retries_on_503(capfd: Any) -> None:
    options = ft.FeedbackOptions(sidecar_url=os.environ["PWM_DOWN_URL"], backoff=0.01, max_retry_after=0.05)
    result = asyncio.run(ft.send_feedback({**FULL, "session_id": "always-503"}, options))
    assert result.unsent and not result.delivered
    assert result.status == 503
    assert result.reply == SPEC_REPLIES["queued"]
    forward_unsent_line(capfd)
