"""PatchworkMCP feedback tool: a drop-in for Python MCP servers.

Copy this ONE file into your server. It needs the `mcp` SDK and `httpx`.

    from mcp.server.mcpserver import MCPServer          # mcp 2.x (1.x: mcp.server.fastmcp.FastMCP)
    from feedback_tool import SERVER_INSTRUCTIONS, register_feedback_tool

    server = MCPServer("billing-server", instructions=SERVER_INSTRUCTIONS)
    register_feedback_tool(server, "billing-server")

Low-level `mcp.server.Server`: list `feedback_tool()` in your tools/list handler and
answer calls named TOOL_NAME with `await call_feedback_tool_result(arguments, "billing-server")`
(a CallToolResult; an invalid report comes back with isError, the fields to fix named).
Django and other synchronous code: `send_feedback_sync(payload)`.

Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099) and FEEDBACK_API_KEY,
or a FeedbackOptions in code. Reports that cannot be delivered after 2 retries (or that the
sidecar asks to send again only after more than 30 s, e.g. a 429 past its daily cap) are written
to stderr as ONE line `PATCHWORKMCP_UNSENT_FEEDBACK {json}` for `patchworkmcp replay`.
Nothing is ever written to stdout (it would corrupt a stdio transport) and nothing raises
into the host server.

The tool definition and texts below are generated from PatchworkMCP's contract
(drop-ins/spec); the tests fail if they drift.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Optional, Union

import httpx

TOOL_NAME = "feedback"
TOOL_TITLE = "Report a gap in this server"
TOOL_DESCRIPTION = (
    "Tell the developers of this MCP server what you needed and could not do. Call it whenever:\n"
    "- no tool here does what the task needs (missing_tool);\n"
    "- a tool answered but left out data you needed (incomplete_results);\n"
    "- a tool exists but lacks an argument or filter you needed (missing_parameter);\n"
    "- the data came back in a shape you had to convert, guess at or could not use (wrong_format);\n"
    "- you had to approximate, chain many calls or work around the server to get an answer;\n"
    "- you are about to tell the user that something cannot be done with these tools.\n"
    "Call it BEFORE you give your final answer to the user, then carry on with the task.\n"
    "Be specific: name the tools you called and the arguments you used, what came back,\n"
    "the exact capability that was missing, and the tool or parameter you would have wanted.\n"
    "Reports go to the server's developers and are used to build what is missing; they never\n"
    "change this conversation and you do not need the user's permission to send one."
)

#: Server instructions: pass them as your server's `instructions`. Without them agents rarely call the tool.
SERVER_INSTRUCTIONS = (
    "This server has a `feedback` tool that goes straight to its developers. Use it whenever this\n"
    "server falls short of what your task needs: a tool you needed does not exist, a result was incomplete,\n"
    "a parameter was missing, a format was wrong, you had to approximate or work around the server, or you\n"
    "are about to tell the user something cannot be done. Call `feedback` before your final answer, with\n"
    "specifics: what you needed, which tools and arguments you tried and what came back, and what tool or\n"
    "parameter would have worked. One call per distinct gap. It costs the user nothing and is how this server improves."
)


def _text(max_length: int, description: str, *, required: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if required:
        schema["minLength"] = 1
    schema["maxLength"] = max_length
    schema["description"] = description
    return schema


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


GAP_TYPES = ["missing_tool", "incomplete_results", "missing_parameter", "wrong_format", "other"]
RESOLUTIONS = ["blocked", "worked_around", "partial"]

#: The tool's input JSON Schema, exactly as tools/list shows it.
INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "what_i_needed": _text(
            4000,
            "The capability you needed and could not get, stated concretely: the data, action or parameter, "
            "e.g. 'filter invoices by date range' or 'get the total cost per project'.",
            required=True,
        ),
        "what_i_tried": _text(
            4000,
            "What you tried before giving up: the tools you called with which arguments, and what came back "
            "or why it fell short.",
            required=True,
        ),
        "gap_type": _enum(
            GAP_TYPES,
            "missing_tool: no tool does it. incomplete_results: a tool answered but left data out. "
            "missing_parameter: the tool exists but lacks an argument you needed. "
            "wrong_format: the data came back in a shape you could not use. other: anything else.",
        ),
        "server_name": _text(200, "Name of the MCP server this feedback is about."),
        "server_version": _text(100, "Version of the MCP server, if known."),
        "tool_name": _text(200, "The tool that fell short, if the gap is about one existing tool."),
        "suggestion": _text(
            4000,
            "Your proposed fix: a new tool with its signature, a new parameter, or a changed behaviour or format.",
        ),
        "user_goal": _text(2000, "The user's underlying task that surfaced the gap, in one or two sentences."),
        "resolution": _enum(
            RESOLUTIONS,
            "blocked: you could not do the task at all. worked_around: you got there another way. "
            "partial: you could only do part of it.",
        ),
        "tools_available": {
            "maxItems": 500,
            "type": "array",
            "items": {"type": "string", "maxLength": 200},
            "description": "Names of the tools you could see on this server when you hit the gap.",
        },
        "agent_model": _text(200, "Your model identifier, e.g. claude-sonnet-4-5."),
        "session_id": _text(200, "An identifier for this conversation, so reports from one session can be grouped."),
        "client_type": _text(200, "The client application you run in, e.g. claude-desktop, cursor, claude-code."),
    },
    "required": ["what_i_needed", "what_i_tried", "gap_type"],
}

TOOL_ANNOTATIONS: dict[str, Any] = {
    "title": TOOL_TITLE,
    "readOnlyHint": False,
    "destructiveHint": False,
    "idempotentHint": False,
    "openWorldHint": False,
}

REPLY_RECORDED = (
    "Thank you. Your feedback was recorded (report {id}) and the server's developers will see it. "
    "Carry on with the task."
)
REPLY_QUEUED = (
    "Thank you. The feedback service could not be reached, so your report was kept locally and will be "
    "delivered later. Carry on with the task."
)
REPLY_INVALID = "Feedback was not recorded: {details}. Fix these fields and call the tool again."

UNSENT_MARKER = "PATCHWORKMCP_UNSENT_FEEDBACK"
DEFAULT_SIDECAR_URL = "http://localhost:8099"
_FIELDS = list(INPUT_SCHEMA["properties"].keys())


def tool_definition() -> dict[str, Any]:
    """The tool exactly as it appears in a tools/list result (a fresh copy)."""
    return copy.deepcopy(
        {
            "name": TOOL_NAME,
            "title": TOOL_TITLE,
            "description": TOOL_DESCRIPTION,
            "inputSchema": INPUT_SCHEMA,
            "annotations": TOOL_ANNOTATIONS,
        }
    )


@dataclass
class FeedbackOptions:
    """Delivery settings. Unset URL/key fall back to FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY."""

    sidecar_url: Optional[str] = None
    api_key: Optional[str] = None
    #: Fills in server_name/server_version on every report from this server.
    server_name: Optional[str] = None
    server_version: Optional[str] = None
    connect_timeout: float = 3.0
    #: Upper bound for one attempt (connect + send + answer), in seconds.
    timeout: float = 10.0
    retries: int = 2
    #: First backoff delay in seconds; doubles per retry, plus jitter.
    backoff: float = 0.25
    #: Longest Retry-After waited for, in seconds. A longer one (a daily cap answers "until
    #: midnight") is not waited out: the report is kept for replay at once.
    max_retry_after: float = 30.0
    extra_headers: dict[str, str] = field(default_factory=dict)

    def url(self) -> str:
        base = self.sidecar_url or os.environ.get("FEEDBACK_SIDECAR_URL") or DEFAULT_SIDECAR_URL
        return base.rstrip("/") + "/api/feedback"

    def headers(self, idempotency_key: str) -> dict[str, str]:
        key = self.api_key if self.api_key is not None else os.environ.get("FEEDBACK_API_KEY", "")
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key, **self.extra_headers}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers


@dataclass
class SendResult:
    """What happened to one report. `reply` is the text to give the agent."""

    delivered: bool
    reply: str
    report_id: Optional[int] = None
    status: Optional[int] = None
    #: True when the report was written to stderr for `patchworkmcp replay`.
    unsent: bool = False
    error: Optional[str] = None
    #: True when the sidecar refused the report's content (400/422). It would fail again,
    #: so it is not kept for replay; the agent is told which fields to fix (isError: true).
    invalid: bool = False


def build_payload(arguments: Any, options: Optional[FeedbackOptions] = None) -> dict[str, Any]:
    """Keep the known fields of the tool arguments; the configured server name/version win."""
    options = options or FeedbackOptions()
    args = arguments if isinstance(arguments, dict) else {}
    payload = {k: args[k] for k in _FIELDS if args.get(k) is not None}
    if options.server_name:
        payload["server_name"] = options.server_name
    if options.server_version:
        payload["server_version"] = options.server_version
    return payload


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def _details(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        issues = error.get("details")
        if isinstance(issues, list) and issues:
            return "; ".join(f"{i.get('field')}: {i.get('message')}" for i in issues if isinstance(i, dict))
        return str(error.get("message") or f"the feedback service answered {response.status_code}")
    except (ValueError, AttributeError):
        return f"the feedback service answered {response.status_code}"


# One attempt's outcome: a final SendResult, or a retry after `delay` seconds.
def _judge(
    outcome: Union[httpx.Response, Exception], attempt: int, options: FeedbackOptions
) -> tuple[Optional[SendResult], float, str]:
    backoff = options.backoff * (2**attempt)
    delay = backoff + random.uniform(0, backoff)
    if isinstance(outcome, Exception):
        return None, delay, f"could not reach the feedback service: {type(outcome).__name__}: {outcome}"
    status = outcome.status_code
    if 200 <= status < 300:
        report_id = None
        try:
            body = outcome.json()
            report_id = body.get("id") if isinstance(body, dict) else None
        except ValueError:
            pass
        shown = "" if report_id is None else report_id
        return SendResult(True, REPLY_RECORDED.format(id=shown), report_id, status), 0.0, ""
    if status in (400, 422):
        details = _details(outcome)
        reply = REPLY_INVALID.format(details=details)
        return SendResult(False, reply, None, status, error=details, invalid=True), 0.0, ""
    if status == 429 or status >= 500:
        asked = _retry_after(outcome.headers.get("retry-after"))
        if asked is not None and asked > options.max_retry_after:
            # "Not before tomorrow" (a daily cap) is not worth holding the agent for: keep it for replay now.
            return SendResult(False, REPLY_QUEUED, None, status, error=_details(outcome)), -1.0, ""
        return None, delay if asked is None else asked, f"the feedback service answered {status}"
    # 401/403/404/413…: a setup problem, not the report's fault. Keep it for replay.
    return SendResult(False, REPLY_QUEUED, None, status, error=_details(outcome)), -1.0, ""


def _unsent(payload: dict[str, Any], key: str, status: Optional[int], error: str) -> SendResult:
    try:
        line = json.dumps({**payload, "idempotency_key": key}, separators=(",", ":"))
        sys.stderr.write(f"{UNSENT_MARKER} {line}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - stderr itself failing must not reach the host
        pass
    return SendResult(False, REPLY_QUEUED, None, status, unsent=True, error=error)


async def send_feedback(arguments: Any, options: Optional[FeedbackOptions] = None) -> SendResult:
    """Deliver one report (async). Never raises; never writes to stdout."""
    options = options or FeedbackOptions()
    payload = build_payload(arguments, options)
    key = str(uuid.uuid4())
    error, status = "not attempted", None
    try:
        timeout = httpx.Timeout(options.timeout, connect=options.connect_timeout)
        async with httpx.AsyncClient(timeout=timeout) as client:
            for attempt in range(options.retries + 1):
                try:
                    outcome: Union[httpx.Response, Exception] = await asyncio.wait_for(
                        client.post(options.url(), json=payload, headers=options.headers(key)), options.timeout
                    )
                    status = outcome.status_code
                except (httpx.HTTPError, asyncio.TimeoutError, OSError) as exc:
                    outcome = exc
                result, delay, error = _judge(outcome, attempt, options)
                if result is not None:
                    return _unsent(payload, key, status, result.error or "") if delay < 0 else result
                if attempt < options.retries:
                    await asyncio.sleep(delay)
    except Exception as exc:  # noqa: BLE001 - never raise into the host server
        error = f"{type(exc).__name__}: {exc}"
    return _unsent(payload, key, status, error)


def send_feedback_sync(arguments: Any, options: Optional[FeedbackOptions] = None) -> SendResult:
    """Deliver one report from synchronous code (Django, Flask, scripts). Never raises."""
    options = options or FeedbackOptions()
    payload = build_payload(arguments, options)
    key = str(uuid.uuid4())
    error, status = "not attempted", None
    try:
        timeout = httpx.Timeout(options.timeout, connect=options.connect_timeout)
        with httpx.Client(timeout=timeout) as client:
            for attempt in range(options.retries + 1):
                try:
                    outcome: Union[httpx.Response, Exception] = client.post(
                        options.url(), json=payload, headers=options.headers(key)
                    )
                    status = outcome.status_code
                except (httpx.HTTPError, OSError) as exc:
                    outcome = exc
                result, delay, error = _judge(outcome, attempt, options)
                if result is not None:
                    return _unsent(payload, key, status, result.error or "") if delay < 0 else result
                if attempt < options.retries:
                    time.sleep(delay)
    except Exception as exc:  # noqa: BLE001 - never raise into the host server
        error = f"{type(exc).__name__}: {exc}"
    return _unsent(payload, key, status, error)


def _options_for(server_name: Optional[str], options: Optional[FeedbackOptions]) -> FeedbackOptions:
    options = copy.copy(options) if options else FeedbackOptions()
    if server_name:
        options.server_name = server_name
    return options


async def call_feedback_tool(
    arguments: Any, server_name: Optional[str] = None, options: Optional[FeedbackOptions] = None
) -> str:
    """Low-level servers: answer a tools/call for TOOL_NAME. Returns the text for the agent.

    Prefer call_feedback_tool_result, which also marks an invalid report with isError."""
    return (await send_feedback(arguments, _options_for(server_name, options))).reply


def tool_result(result: SendResult) -> Any:
    """The `mcp.types.CallToolResult` for one report: isError when its content was refused,
    as the proxy answers (a report kept for replay is not an error: it will be delivered)."""
    from mcp import types

    return types.CallToolResult(content=[types.TextContent(type="text", text=result.reply)], isError=result.invalid)


async def call_feedback_tool_result(
    arguments: Any, server_name: Optional[str] = None, options: Optional[FeedbackOptions] = None
) -> Any:
    """Low-level servers: answer a tools/call for TOOL_NAME with a ready `CallToolResult`."""
    return tool_result(await send_feedback(arguments, _options_for(server_name, options)))


def feedback_tool() -> Any:
    """Low-level servers: the tool as an `mcp.types.Tool`, to add to your tools/list result."""
    from mcp import types

    return types.Tool.model_validate(tool_definition())


def register_feedback_tool(server: Any, server_name: Optional[str] = None, options: Optional[FeedbackOptions] = None) -> None:
    """Add the feedback tool to an `MCPServer` (mcp 2.x) or `FastMCP` (mcp 1.x) in one line.

    Pass SERVER_INSTRUCTIONS as the server's `instructions` too: without them agents rarely
    call the tool.
    """
    from mcp import types

    configured = _options_for(server_name, options)

    async def feedback(
        what_i_needed: str,
        what_i_tried: str,
        gap_type: str,
        server_name: Optional[str] = None,
        server_version: Optional[str] = None,
        tool_name: Optional[str] = None,
        suggestion: Optional[str] = None,
        user_goal: Optional[str] = None,
        resolution: Optional[str] = None,
        tools_available: Optional[Union[list[str], str]] = None,
        agent_model: Optional[str] = None,
        session_id: Optional[str] = None,
        client_type: Optional[str] = None,
    ) -> Any:
        # A CallToolResult passes through the SDK as it is, so an invalid report gets isError.
        return tool_result(await send_feedback(dict(locals()), configured))

    server.add_tool(
        feedback,
        name=TOOL_NAME,
        title=TOOL_TITLE,
        description=TOOL_DESCRIPTION,
        annotations=types.ToolAnnotations.model_validate(TOOL_ANNOTATIONS),
        structured_output=False,
    )
    # The SDK derives a schema from the signature (titles, anyOf-null, no descriptions);
    # agents must see the contract's schema instead, so replace it on the registered tool.
    manager = getattr(server, "_tool_manager", None)
    tool = manager.get_tool(TOOL_NAME) if manager is not None else None
    if tool is not None:
        tool.parameters = copy.deepcopy(INPUT_SCHEMA)
