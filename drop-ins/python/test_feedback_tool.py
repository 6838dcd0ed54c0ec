"""Native test of feedback_tool.py with the real `mcp` SDK (2.x MCPServer / low-level Server,
or 1.x FastMCP when run from the mcp 1.x venv) and a real sidecar.

Run by drop-ins/python/dropin.test.ts in three phases (see drop-ins/harness.ts):
  -k test_up      the sidecar is up:   FEEDBACK_SIDECAR_URL, PWM_FLAKY_URL, PWM_ECHO_URL, PWM_SPEC_DIR
  -k test_down    the sidecar is down: FEEDBACK_SIDECAR_URL (stopped), PWM_DOWN_URL, FEEDBACK_OUTBOX
  -k test_outbox  the sidecar is away until the report is in FEEDBACK_OUTBOX, then back
The TypeScript side reads the stored reports back and replays the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
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
SPEC_ECHO = json.loads((SPEC / "echo.json").read_text())
PRIVACY = json.loads((SPEC / "privacy.json").read_text())
FAST = ft.FeedbackOptions(backoff=0.01, max_retry_after=0.05, outbox_retry=0.05)
CLIENT_INFO = {"name": "pwm-dropin-client", "version": "1.2.3"}
REQUIRED = {k: FULL[k] for k in ("what_i_needed", "what_i_tried", "gap_type")}
RECORDED = re.compile("^" + re.escape(SPEC_REPLIES["recorded"]).replace(re.escape("{id}"), r"(\d+)") + "$")


def _version() -> int:
    from importlib.metadata import version

    return int(version("mcp").split(".")[0])


MAJOR = _version()


def high_level_server() -> Any:
    """The SDK's high-level server class with the drop-in registered in one line."""
    if MAJOR >= 2:
        from mcp.server.mcpserver import MCPServer

        server = MCPServer(SERVER, version="2.4.1", instructions=ft.SERVER_INSTRUCTIONS)
    else:
        from mcp.server.fastmcp import FastMCP

        server = FastMCP(SERVER, instructions=ft.SERVER_INSTRUCTIONS)
        server._mcp_server.version = "2.4.1"  # FastMCP has no version argument; its low-level server does

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
        return await ft.call_feedback_tool_result(params.arguments or {}, SERVER, FAST)

    if MAJOR >= 2:
        return Server(SERVER, instructions=ft.SERVER_INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)

    # mcp 1.x: the same two handlers, registered with decorators.
    server = Server(SERVER, instructions=ft.SERVER_INSTRUCTIONS)

    @server.list_tools()
    async def list_tools_v1() -> list[types.Tool]:
        return [ft.feedback_tool()]

    @server.call_tool()
    async def call_tool_v1(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await ft.call_feedback_tool_result(arguments, SERVER, FAST)

    return server


class Session:
    """The same three calls over mcp 2.x `Client` or a 1.x `ClientSession`."""

    def __init__(self, instructions: str | None, list_tools: Any, call_tool: Any, protocol: str | None = None) -> None:
        self.instructions = instructions
        self.protocol = protocol
        self.list_tools = list_tools
        self.call_tool = call_tool


@contextlib.asynccontextmanager
async def connect(server: Any, mode: str = "auto") -> AsyncIterator[Session]:
    if MAJOR >= 2:
        from mcp import Client, types

        # mode "auto" negotiates 2026-07-28 with an mcp 2.x server; "legacy" is the 2025-era initialize.
        async with Client(server, client_info=types.Implementation(**CLIENT_INFO), mode=mode) as client:
            yield Session(client.instructions, client.list_tools, client.call_tool, getattr(client, "protocol_version", None))
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
                from mcp import types

                info = types.Implementation(**CLIENT_INFO)
                async with ClientSession(client_streams[0], client_streams[1], client_info=info) as session:
                    init = await session.initialize()
                    yield Session(init.instructions, session.list_tools, session.call_tool)
                tg.cancel_scope.cancel()


def dumped(tool: Any) -> dict[str, Any]:
    return tool.model_dump(by_alias=True, exclude_none=True, mode="json")


def text_of(result: Any) -> str:
    assert len(result.content) == 1
    return result.content[0].text


def is_error(result: Any) -> bool:
    return bool(getattr(result, "isError", None) or getattr(result, "is_error", None))


async def list_and_call_result(
    server: Any, arguments: dict[str, Any], mode: str = "auto"
) -> tuple[dict[str, Any], str | None, Any]:
    async with connect(server, mode) as session:
        listed = [dumped(t) for t in (await session.list_tools()).tools]
        mine = next(t for t in listed if t["name"] == ft.TOOL_NAME)
        return mine, session.instructions, await session.call_tool(ft.TOOL_NAME, arguments)


async def list_and_call(server: Any, arguments: dict[str, Any], mode: str = "auto") -> tuple[dict[str, Any], str | None, str]:
    mine, instructions, result = await list_and_call_result(server, arguments, mode)
    assert not is_error(result), text_of(result)
    return mine, instructions, text_of(result)


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


def test_up_fills_in_the_context_the_server_knows() -> None:
    # Only the required fields: the harness reads the stored report back (tools, version, client, session).
    _, _, reply = asyncio.run(list_and_call(high_level_server(), {**REQUIRED, "user_goal": "context-check"}))
    assert RECORDED.match(reply), reply


def test_up_serves_2026_07_28_and_the_2025_era() -> None:
    if MAJOR < 2:
        return  # mcp 1.x speaks only the 2025-era protocol
    async def protocols() -> list[str | None]:
        seen = []
        for mode in ("auto", "legacy"):
            async with connect(high_level_server(), mode) as session:
                seen.append(session.protocol)
                listed = [dumped(t) for t in (await session.list_tools()).tools]
                assert_spec_tool(next(t for t in listed if t["name"] == ft.TOOL_NAME))
                arguments = {**REQUIRED, "user_goal": f"context-check-{mode}", "session_id": f"migration:{mode}"}
                assert RECORDED.match(text_of(await session.call_tool(ft.TOOL_NAME, arguments)))
        return seen

    seen = asyncio.run(protocols())
    assert seen[0] == "2026-07-28" and seen[1] != "2026-07-28", seen


def test_up_echoes_a_known_gap_in_the_spec_words() -> None:
    options = ft.FeedbackOptions(sidecar_url=os.environ["PWM_ECHO_URL"], backoff=0.01)
    for vector in SPEC_ECHO["vectors"]:
        assert ft.known_gap_sentence(vector["gap"]) == vector["sentence"], vector["name"]
        result = ft.deliver_feedback_sync({**FULL, "session_id": "echo:" + vector["name"]}, options)
        assert result.reply == vector["reply"], vector["name"]
        assert result.gap == {**vector["gap"], "agent_note": vector["gap"].get("agent_note")}


def test_up_the_original_api_works_unchanged() -> None:
    import migration_snippets as m

    assert ft.TOOL_INPUT_SCHEMA == SPEC_TOOL["inputSchema"]
    assert ft.FASTMCP_TOOL_KWARGS["name"] == ft.TOOL_NAME and ft.FASTMCP_TOOL_KWARGS["description"] == ft.TOOL_DESCRIPTION
    assert ft.SIDECAR_URL == os.environ["FEEDBACK_SIDECAR_URL"] and ft.API_KEY == os.environ["FEEDBACK_API_KEY"]
    for name, make in (("option_a", m.option_a), ("option_b", m.option_b)):
        _, _, reply = asyncio.run(list_and_call(make(), {**FULL, "session_id": f"migration:{name}"}))
        assert RECORDED.match(reply), (name, reply)
    registered, handler = m.django_handler()
    assert registered == {"name": SPEC_TOOL["name"], "description": SPEC_TOOL["description"], "input_schema": SPEC_TOOL["inputSchema"]}
    reply = handler(None, {**FULL, "session_id": "migration:django"})
    assert isinstance(reply, str) and RECORDED.match(reply), reply
    tools, reply = asyncio.run(m.raw_sdk("feedback", {**FULL, "session_id": "migration:raw_sdk"}))
    assert dumped(tools[0]) == SPEC_TOOL
    assert isinstance(reply, str) and RECORDED.match(reply), reply
    # The original keyword arguments, and the default server name.
    reply = ft.send_feedback_sync(
        {**FULL, "session_id": "migration:keywords"}, "my-server", os.environ["FEEDBACK_SIDECAR_URL"], os.environ["FEEDBACK_API_KEY"]
    )
    assert RECORDED.match(reply), reply
    assert RECORDED.match(asyncio.run(ft.send_feedback({**FULL, "session_id": "migration:default"})))
    server = m.FastMCP("my-server")
    ft.register_feedback_tool(server, "my-server", sidecar_url=os.environ["FEEDBACK_SIDECAR_URL"], api_key=os.environ["FEEDBACK_API_KEY"])
    _, _, reply = asyncio.run(list_and_call(server, {**FULL, "session_id": "migration:register-keywords"}))
    assert RECORDED.match(reply), reply


def test_up_low_level_server_lists_the_spec_tool() -> None:
    # A report with an invalid gap_type proves the handler path without storing anything.
    bad = {**FULL, "gap_type": "feature_request"}
    listed, instructions, result = asyncio.run(list_and_call_result(low_level_server(), bad))
    reply = text_of(result)
    assert_spec_tool(listed)
    assert instructions == SPEC_INSTRUCTIONS
    # Refused, as the proxy answers: isError with the fields to fix.
    assert is_error(result), reply
    if MAJOR < 2:
        # mcp 1.x validates arguments against the listed inputSchema itself: its refusal
        # names the enum, which proves the full schema reached the SDK.
        assert reply.startswith("Input validation error: 'feature_request' is not one of ['missing_tool'"), reply
        return
    issue = next(v for v in VECTORS["invalid"] if v["name"] == "bad_gap_type")["issues"][0]
    assert reply == SPEC_REPLIES["invalid"].replace("{details}", f"{issue['field']}: {issue['message']}")


def test_up_high_level_server_marks_an_invalid_report_as_an_error() -> None:
    # The SDK accepts any string for gap_type (the signature says str); the sidecar refuses it with a 422.
    bad = {**FULL, "gap_type": "feature_request", "session_id": "invalid-through-the-sdk"}
    _, _, result = asyncio.run(list_and_call_result(high_level_server(), bad))
    issue = next(v for v in VECTORS["invalid"] if v["name"] == "bad_gap_type")["issues"][0]
    assert is_error(result), text_of(result)
    if MAJOR >= 2:
        assert text_of(result) == SPEC_REPLIES["invalid"].replace("{details}", f"{issue['field']}: {issue['message']}")
    else:
        assert text_of(result).startswith("Input validation error") or issue["message"] in text_of(result)


class _Always429:
    """A loopback endpoint that answers every POST 429 with a long Retry-After, as a daily cap does."""

    def __init__(self, retry_after: str) -> None:
        import http.server
        import threading

        self.attempts = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                outer.attempts += 1
                self.rfile.read(int(self.headers.get("content-length") or 0))
                body = b'{"error":{"code":"daily_byte_limit","message":"over today\'s cap"}}'
                self.send_response(429)
                self.send_header("retry-after", retry_after)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_up_keeps_a_429d_report_for_replay_without_waiting_out_a_long_retry_after(tmp_path: Path) -> None:
    endpoint = _Always429("3600")
    outbox = str(tmp_path / "outbox.log")  # its own outbox: this report is not the harness's to replay
    try:
        options = ft.FeedbackOptions(sidecar_url=endpoint.url, backoff=0.01, max_retry_after=5, outbox_path=outbox, outbox_retry=3600)
        result = ft.deliver_feedback_sync({**FULL, "session_id": "rate-limited"}, options)
    finally:
        endpoint.close()
    assert result.unsent and not result.delivered and not result.invalid, result
    assert result.status == 429
    assert result.reply == SPEC_REPLIES["queued"]
    assert endpoint.attempts == 1  # an hour is not waited for; the report is kept at once
    [(kept, _key)] = ft.read_outbox(outbox)
    assert kept["session_id"] == "rate-limited" and kept["what_i_needed"] == FULL["what_i_needed"]


def test_up_retries_a_lost_ack_with_one_idempotency_key() -> None:
    options = ft.FeedbackOptions(sidecar_url=os.environ["PWM_FLAKY_URL"], backoff=0.01, max_retry_after=0.05)
    result = ft.deliver_feedback_sync({**FULL, "session_id": "retry-after-lost-ack"}, options)
    assert result.delivered, result
    assert RECORDED.match(result.reply)
    assert result.status == 200  # the retry found the report the lost ack had stored


def test_up_valid_vectors_are_delivered() -> None:
    for vector in VECTORS["valid"]:
        if vector["name"] != "full":
            result = ft.deliver_feedback_sync({**vector["input"], "session_id": "vector:" + vector["name"]})
            assert result.delivered and RECORDED.match(result.reply), (vector["name"], result)


def test_up_invalid_vectors_get_the_spec_reply_and_are_not_kept() -> None:
    for vector in VECTORS["invalid"]:
        if not isinstance(vector["input"], dict):
            continue  # the drop-in only ever sends an object
        result = ft.deliver_feedback_sync(vector["input"], FAST)
        details = "; ".join(f"{i['field']}: {i['message']}" for i in vector["issues"])
        assert result.reply == SPEC_REPLIES["invalid"].replace("{details}", details), vector["name"]
        assert not result.delivered and not result.unsent and result.invalid


def assert_kept_in_the_outbox(capfd: Any, session: str) -> None:
    """Nothing on stdout, no fallback line on stderr: the report is in the outbox (the harness replays it)."""
    out, err = capfd.readouterr()
    assert out == ""
    assert ft.UNSENT_MARKER + " {" not in err, err
    assert session in [p["session_id"] for p, _ in ft.read_outbox(os.environ["FEEDBACK_OUTBOX"])]


def test_down_tool_call_keeps_the_report_for_replay(capfd: Any) -> None:
    _, _, reply = asyncio.run(list_and_call(high_level_server(), {**FULL, "session_id": "sidecar-down"}))
    assert reply == SPEC_REPLIES["queued"]
    assert_kept_in_the_outbox(capfd, "sidecar-down")


def test_down_stops_after_two_retries_on_503(capfd: Any) -> None:
    options = ft.FeedbackOptions(sidecar_url=os.environ["PWM_DOWN_URL"], backoff=0.01, max_retry_after=0.05, outbox_retry=3600)
    result = asyncio.run(ft.send_feedback({**FULL, "session_id": "always-503"}, options))
    assert result.unsent and not result.delivered
    assert result.status == 503
    assert result.reply == SPEC_REPLIES["queued"]
    assert result.outbox == os.environ["FEEDBACK_OUTBOX"]
    assert_kept_in_the_outbox(capfd, "always-503")


def test_down_scrubs_what_it_keeps(capfd: Any, tmp_path: Path) -> None:
    """Every privacy.json text; each report as its outbox line holds it (nothing listens on port 9,
    so every report is kept); the stderr line of last resort, with secrets+pii whatever the mode,
    when the outbox cannot be written (a file stands where its folder would be)."""
    assert list(ft.SCRUBBED_FIELDS) == PRIVACY["scrubbed_fields"]
    for t in PRIVACY["texts"]:
        assert ft.scrub_text(t["input"], t["mode"])[0] == t["output"], t["name"]

    def keep(report: dict[str, Any], outbox: Path, mode: str) -> ft.SendResult:
        options = ft.FeedbackOptions(sidecar_url="http://127.0.0.1:9", retries=0, outbox_path=str(outbox), outbox_retry=3600, privacy=mode)
        return ft.deliver_feedback_sync(report, options)

    for r in PRIVACY["reports"]:
        outbox = tmp_path / f"{r['name']}.log"
        assert keep(r["input"], outbox, r["mode"]).unsent, r["name"]
        [(payload, _)] = ft.read_outbox(str(outbox))
        assert {f: payload.get(f) for f in PRIVACY["scrubbed_fields"]} == r["kept"], r["name"]
    (tmp_path / "not-a-folder").write_text("")
    report = PRIVACY["reports"][0]
    capfd.readouterr()
    keep(report["input"], tmp_path / "not-a-folder" / "outbox.log", "off")
    _, err = capfd.readouterr()
    [line] = [line for line in err.splitlines() if line.startswith(ft.UNSENT_MARKER + " ")]
    kept = json.loads(line[len(ft.UNSENT_MARKER) + 1 :])
    assert report["mode"] == PRIVACY["last_resort"]
    assert {f: kept.get(f) for f in PRIVACY["scrubbed_fields"]} == report["kept"]


def test_outbox_is_re_sent_in_the_background() -> None:
    _, _, reply = asyncio.run(list_and_call(high_level_server(), {**FULL, "session_id": "outbox-resend"}))
    assert reply == SPEC_REPLIES["queued"]
    deadline = time.monotonic() + 60
    while ft.read_outbox(os.environ["FEEDBACK_OUTBOX"]):
        assert time.monotonic() < deadline, "the outbox was not re-sent within 60 s"
        time.sleep(0.02)
