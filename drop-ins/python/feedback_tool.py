"""PatchworkMCP feedback tool: a drop-in for Python MCP servers.

Copy this ONE file into your server. It needs the `mcp` SDK and `httpx`.

    from mcp.server.mcpserver import MCPServer          # mcp 2.x (1.x: mcp.server.fastmcp.FastMCP)
    from feedback_tool import SERVER_INSTRUCTIONS, register_feedback_tool

    server = MCPServer("billing-server", version="2.4.1", instructions=SERVER_INSTRUCTIONS)
    register_feedback_tool(server, "billing-server")

Low-level `mcp.server.Server`: list `feedback_tool()` in your tools/list handler and
answer calls named TOOL_NAME with `await call_feedback_tool_result(arguments, "billing-server")`
(a CallToolResult; an invalid report comes back with isError, the fields to fix named).
Django and other synchronous code: `send_feedback_sync(arguments, server_name="billing-server")`.

The original PatchworkMCP API works unchanged: TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA,
FASTMCP_TOOL_KWARGS, SIDECAR_URL, API_KEY, register_feedback_tool(server, server_name),
get_tool_definition(), `await send_feedback(arguments, server_name=…)` and
send_feedback_sync(…), both returning the text for the agent.

Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099), FEEDBACK_API_KEY,
FEEDBACK_OUTBOX (default ~/.patchworkmcp/outbox.log, the proxy's) and FEEDBACK_PRIVACY (what a
kept report is scrubbed of: off, secrets, secrets+pii), or a FeedbackOptions in code. A report
that cannot be delivered after 2 retries (or that the sidecar asks to send again only after more
than 30 s, e.g. a 429 past its daily cap) is scrubbed and goes to that outbox, in the proxy's
format and under its lock, is re-sent by a background thread with backoff, and can be re-sent
by hand with `patchworkmcp replay <outbox>`. Nothing is ever written to stdout (it would corrupt
a stdio transport) and nothing raises into the host server.

The tool definition and texts below are generated from PatchworkMCP's contract
(drop-ins/spec); the tests fail if they drift.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import ipaddress
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Optional, Union

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

# ---- the original PatchworkMCP API's constants ----------------------------------------

TOOL_INPUT_SCHEMA = INPUT_SCHEMA
#: `@server.tool(**FASTMCP_TOOL_KWARGS)` on FastMCP / MCPServer.
FASTMCP_TOOL_KWARGS: dict[str, Any] = {"name": TOOL_NAME, "title": TOOL_TITLE, "description": TOOL_DESCRIPTION}
#: Read when this module is imported; FeedbackOptions reads the environment at each send.
SIDECAR_URL = os.environ.get("FEEDBACK_SIDECAR_URL") or DEFAULT_SIDECAR_URL
API_KEY = os.environ.get("FEEDBACK_API_KEY", "")
DEFAULT_OUTBOX_PATH = os.path.join(os.path.expanduser("~"), ".patchworkmcp", "outbox.log")


@dataclass
class FeedbackOptions:
    """Delivery settings. Unset URL/key/outbox fall back to FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY / FEEDBACK_OUTBOX."""

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
    #: midnight") is not waited out: the report is kept for later at once.
    max_retry_after: float = 30.0
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: Where undeliverable reports wait (the proxy's outbox by default).
    outbox_path: Optional[str] = None
    #: First delay before the outbox is re-sent, in seconds; doubles while the sidecar stays away, up to 5 min.
    outbox_retry: float = 2.0
    #: What a kept report is scrubbed of (off, secrets, secrets+pii). Default: FEEDBACK_PRIVACY, then secrets+pii.
    privacy: Optional[str] = None

    def url(self) -> str:
        base = self.sidecar_url or os.environ.get("FEEDBACK_SIDECAR_URL") or DEFAULT_SIDECAR_URL
        return base.rstrip("/") + "/api/feedback"

    def headers(self, idempotency_key: str) -> dict[str, str]:
        key = self.api_key if self.api_key is not None else os.environ.get("FEEDBACK_API_KEY", "")
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key, **self.extra_headers}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def outbox(self) -> str:
        return self.outbox_path or os.environ.get("FEEDBACK_OUTBOX") or DEFAULT_OUTBOX_PATH

    def privacy_mode(self) -> str:
        mode = self.privacy if self.privacy is not None else os.environ.get("FEEDBACK_PRIVACY")
        return mode if mode in PRIVACY_MODES else DEFAULT_PRIVACY_MODE


@dataclass
class SendResult:
    """What happened to one report. `reply` is the text to give the agent."""

    delivered: bool
    reply: str
    report_id: Optional[int] = None
    status: Optional[int] = None
    #: True when the report was kept for later delivery (the outbox; stderr if even that failed).
    unsent: bool = False
    error: Optional[str] = None
    #: True when the sidecar refused the report's content (400/422). It would fail again,
    #: so it is not kept; the agent is told which fields to fix (isError: true).
    invalid: bool = False
    #: The known gap the report joined, when the sidecar said so: {id, status, reports, agent_note}.
    gap: Optional[dict[str, Any]] = None
    #: The outbox file the report was kept in.
    outbox: Optional[str] = None


# ---- the known-gap echo (wording from src/feedback/echo.ts, vectors in drop-ins/spec/echo.json) ----

_KNOWN_GAP_ADVICE = {
    "planned": "the developers plan to build it, so work around it for now",
    "fixed": "the developers marked it fixed, so a newer version of this server should do it; work around it for now",
    "wontfix": "the developers decided not to build it, so find another way",
}


def known_gap_sentence(gap: dict[str, Any]) -> str:
    """The one sentence that tells the agent the gap is known and what to do now."""
    reports = gap["reports"]
    count = f"{reports} report{'' if reports == 1 else 's'}"
    advice = f": {_KNOWN_GAP_ADVICE[gap['status']]}" if gap["status"] in _KNOWN_GAP_ADVICE else ""
    note = gap.get("agent_note")
    note = note.strip() if isinstance(note, str) else ""
    return f"This is a known gap ({gap['status']}, {count}){advice}." + (f" Note from the developers: {note}" if note else "")


def _gap_of(body: Any) -> Optional[dict[str, Any]]:
    gap = body.get("gap") if isinstance(body, dict) else None
    if not isinstance(gap, dict):
        return None
    ok = all(isinstance(gap.get(k), int) and not isinstance(gap.get(k), bool) for k in ("id", "reports"))
    if not ok or not isinstance(gap.get("status"), str):
        return None
    note = gap.get("agent_note")
    return {"id": gap["id"], "status": gap["status"], "reports": gap["reports"], "agent_note": note if isinstance(note, str) else None}


def _recorded_reply(report_id: Optional[int], gap: Optional[dict[str, Any]]) -> str:
    recorded = REPLY_RECORDED.format(id="" if report_id is None else report_id)
    return f"{recorded} {known_gap_sentence(gap)}" if gap else recorded


# ---- payload and context -----------------------------------------------------------

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


@dataclass
class FeedbackContext:
    """What the server knows better than the agent, filled in as the proxy does."""

    #: The tools the server registered; used when the agent sent none.
    tools_available: Optional[list[str]] = None
    #: From the server's info; wins over what the agent guessed.
    server_version: Optional[str] = None
    #: The client's info (clientInfo): "name/version"; used when the agent sent none.
    client_type: Optional[str] = None
    #: The transport's session, else this process's; used when the agent sent none.
    session_id: Optional[str] = None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def with_context(payload: dict[str, Any], context: FeedbackContext, options: Optional[FeedbackOptions] = None) -> dict[str, Any]:
    """Fill the payload's gaps from the context; a configured server_version still wins."""
    out = dict(payload)
    if _blank(out.get("tools_available")) and context.tools_available:
        out["tools_available"] = [n[:200] for n in context.tools_available[:500]]
    if not (options and options.server_version) and context.server_version:
        out["server_version"] = context.server_version[:100]
    if _blank(out.get("client_type")) and context.client_type:
        out["client_type"] = context.client_type[:200]
    if _blank(out.get("session_id")) and context.session_id:
        out["session_id"] = context.session_id[:200]
    return out


#: One id per process: on stdio one process serves one client, so it groups that conversation's reports.
PROCESS_SESSION_ID = f"process-{uuid.uuid4()}"
_CLIENT_INFO_META_KEY = "io.modelcontextprotocol/clientInfo"


def _context_of(server: Any, ctx: Any) -> FeedbackContext:
    """The context MCPServer (mcp 2.x) or FastMCP (1.x) exposes. Every read is guarded: a
    future SDK without one of these only means less context, never an error."""
    context = FeedbackContext(session_id=PROCESS_SESSION_ID)
    try:
        manager = getattr(server, "_tool_manager", None)
        if manager is not None:
            context.tools_available = [t.name for t in manager.list_tools()]
        version = getattr(server, "version", None) or getattr(getattr(server, "_mcp_server", None), "version", None)
        if isinstance(version, str) and version:
            context.server_version = version
        rc = getattr(ctx, "request_context", None)
        # 2026-07-28 requests carry the client's identity in their own _meta; 2025-era ones had initialize.
        meta = getattr(rc, "meta", None)
        info: Any = meta.get(_CLIENT_INFO_META_KEY) if isinstance(meta, dict) else None
        if info is None:
            params = getattr(getattr(rc, "session", None), "client_params", None)
            info = getattr(params, "client_info", None) or getattr(params, "clientInfo", None)  # mcp 2.x / 1.x
        name = info.get("name") if isinstance(info, dict) else getattr(info, "name", None)
        ver = info.get("version") if isinstance(info, dict) else getattr(info, "version", None)
        if isinstance(name, str) and name:
            context.client_type = f"{name}/{ver}" if isinstance(ver, str) and ver else name
        request = getattr(rc, "request", None)
        sid = getattr(request, "headers", {}).get("mcp-session-id") if request is not None else None
        if isinstance(sid, str) and sid:
            context.session_id = sid
    except Exception:  # noqa: BLE001 - context is a courtesy: never fail a report over it
        pass
    return context


# ---- delivery ------------------------------------------------------------------------

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


# One attempt's outcome: a final SendResult (delay < 0: keep it for later), or a retry after `delay` seconds.
def _judge(
    outcome: Union[httpx.Response, Exception], attempt: int, options: FeedbackOptions
) -> tuple[Optional[SendResult], float, str]:
    backoff = options.backoff * (2**attempt)
    delay = backoff + random.uniform(0, backoff)
    if isinstance(outcome, Exception):
        return None, delay, f"could not reach the feedback service: {type(outcome).__name__}: {outcome}"
    status = outcome.status_code
    if 200 <= status < 300:
        report_id, gap = None, None
        try:
            body = outcome.json()
            report_id = body.get("id") if isinstance(body, dict) else None
            gap = _gap_of(body)
        except ValueError:
            pass
        return SendResult(True, _recorded_reply(report_id, gap), report_id, status, gap=gap), 0.0, ""
    if status in (400, 422):
        details = _details(outcome)
        reply = REPLY_INVALID.format(details=details)
        return SendResult(False, reply, None, status, error=details, invalid=True), 0.0, ""
    if status == 429 or status >= 500:
        asked = _retry_after(outcome.headers.get("retry-after"))
        if asked is not None and asked > options.max_retry_after:
            # "Not before tomorrow" (a daily cap) is not worth holding the agent for: keep it for later now.
            return SendResult(False, REPLY_QUEUED, None, status, error=_details(outcome)), -1.0, ""
        return None, delay if asked is None else asked, f"the feedback service answered {status}"
    # 401/403/404/413…: a setup problem, not the report's fault. Keep it for later.
    return SendResult(False, REPLY_QUEUED, None, status, error=_details(outcome)), -1.0, ""


def _post_sync(payload: dict[str, Any], key: str, options: FeedbackOptions, retries: int) -> tuple[Optional[SendResult], Optional[int], str]:
    """Send one report with its key (blocking). (result, status, error): result None = not delivered, keep it."""
    error, status = "not attempted", None
    timeout = httpx.Timeout(options.timeout, connect=options.connect_timeout)
    with httpx.Client(timeout=timeout) as client:
        for attempt in range(retries + 1):
            try:
                outcome: Union[httpx.Response, Exception] = client.post(options.url(), json=payload, headers=options.headers(key))
                status = outcome.status_code
            except (httpx.HTTPError, OSError) as exc:
                outcome = exc
            result, delay, error = _judge(outcome, attempt, options)
            if result is not None:
                return (None, status, result.error or "") if delay < 0 else (result, status, "")
            if attempt < retries:
                time.sleep(delay)
    return None, status, error


def _keep(payload: dict[str, Any], key: str, status: Optional[int], error: str, options: FeedbackOptions) -> SendResult:
    path = options.outbox()
    result = SendResult(False, REPLY_QUEUED, None, status, unsent=True, error=error)
    mode = options.privacy_mode()
    try:
        kept, replaced = scrub_for_keeping(payload, mode)
        _outbox_append(path, kept, key)
        result.outbox = path
        scrubbed = f" (privacy {mode} replaced {'; '.join(replaced)})" if replaced else ""
        _log(f"feedback not delivered ({error}); kept in the outbox {path}{scrubbed}")
        _flusher(options).later()
    except Exception as exc:  # noqa: BLE001 - even the outbox failed: stderr is the last place replay reads
        last_resort, _ = scrub_for_keeping(payload, "secrets+pii")
        line = json.dumps({**last_resort, "idempotency_key": key}, separators=(",", ":"))
        _log(f"the outbox {path} could not be written ({type(exc).__name__}: {exc})\n{UNSENT_MARKER} {line}")
    return result


def _log(text: str) -> None:
    try:
        sys.stderr.write(f"patchworkmcp: {text}\n" if not text.startswith(UNSENT_MARKER) else f"{text}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - stderr itself failing must not reach the host
        pass


def _delivered(result: SendResult, options: FeedbackOptions) -> SendResult:
    # A report delivered now is a sign the sidecar is back: send what waits, too.
    flusher = _FLUSHERS.get(options.outbox())
    if flusher is not None:
        flusher.soon()
    return result


async def deliver_feedback(arguments: Any, options: Optional[FeedbackOptions] = None) -> SendResult:
    """Deliver one report (async), or keep it in the outbox. Never raises; never writes to stdout."""
    options = options or FeedbackOptions()
    return await _deliver_payload(build_payload(arguments, options), options)


async def _deliver_payload(payload: dict[str, Any], options: FeedbackOptions) -> SendResult:
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
                    if delay < 0:
                        return _keep(payload, key, status, result.error or "", options)
                    return _delivered(result, options) if result.delivered else result
                if attempt < options.retries:
                    await asyncio.sleep(delay)
    except Exception as exc:  # noqa: BLE001 - never raise into the host server
        error = f"{type(exc).__name__}: {exc}"
    return _keep(payload, key, status, error, options)


def deliver_feedback_sync(arguments: Any, options: Optional[FeedbackOptions] = None) -> SendResult:
    """Deliver one report from synchronous code (Django, Flask, scripts), or keep it. Never raises."""
    options = options or FeedbackOptions()
    payload = build_payload(arguments, options)
    key = str(uuid.uuid4())
    try:
        result, status, error = _post_sync(payload, key, options, options.retries)
        if result is not None:
            return _delivered(result, options) if result.delivered else result
    except Exception as exc:  # noqa: BLE001 - never raise into the host server
        status, error = None, f"{type(exc).__name__}: {exc}"
    return _keep(payload, key, status, error, options)


def _original_options(server_name: Any, sidecar_url: Optional[str], api_key: Optional[str]) -> FeedbackOptions:
    return FeedbackOptions(sidecar_url=sidecar_url, api_key=api_key, server_name=server_name or "unknown")


async def send_feedback(
    arguments: Any, server_name: Any = "unknown", sidecar_url: Optional[str] = None, api_key: Optional[str] = None
) -> Any:
    """The original API: deliver one report, return the text for the agent. Never raises.

    `send_feedback(arguments, FeedbackOptions(...))` (the earlier form) returns the SendResult;
    prefer deliver_feedback for that."""
    if isinstance(server_name, FeedbackOptions):
        return await deliver_feedback(arguments, server_name)
    return (await deliver_feedback(arguments, _original_options(server_name, sidecar_url, api_key))).reply


def send_feedback_sync(
    arguments: Any, server_name: Any = "unknown", sidecar_url: Optional[str] = None, api_key: Optional[str] = None
) -> Any:
    """The original API for synchronous code: the text for the agent. Never raises.

    `send_feedback_sync(arguments, FeedbackOptions(...))` returns the SendResult (see deliver_feedback_sync)."""
    if isinstance(server_name, FeedbackOptions):
        return deliver_feedback_sync(arguments, server_name)
    return deliver_feedback_sync(arguments, _original_options(server_name, sidecar_url, api_key)).reply


# ---- privacy: what is scrubbed before a report is kept (drop-ins/spec/privacy.json) ---------
#
# The sidecar scrubs every report with its full rule set (secretlint's preset among them) before
# it stores it; a report this process keeps (the outbox, the stderr line) never reaches it first,
# so it is scrubbed here with a portable subset of those rules, to the same placeholders.
# FEEDBACK_PRIVACY (or FeedbackOptions.privacy): off, secrets, secrets+pii (the default; an
# unknown value counts as the default, never as off). The stderr line of last resort is always
# scrubbed with secrets+pii.

PRIVACY_MODES = ("off", "secrets", "secrets+pii")
DEFAULT_PRIVACY_MODE = "secrets+pii"
#: The free-text fields scrubbed (the sidecar's SCRUBBED_FIELDS).
SCRUBBED_FIELDS = ("what_i_needed", "what_i_tried", "suggestion", "user_goal")


@dataclass(frozen=True)
class _ScrubRule:
    """Group 1 of `pattern` is a prefix left in place, group 2 the value replaced (what follows
    it in the match stays too). `not_before` / `not_after` are characters that must not touch the
    match (the sidecar's lookarounds), `dot_digit_after` refuses a match followed by ".<digit>",
    and `accept` checks the value."""

    name: str
    pii: bool
    pattern: "re.Pattern[str]"
    not_before: str = ""
    not_after: str = ""
    dot_digit_after: bool = False
    accept: Optional[Callable[[str], bool]] = None


_WORD = "[A-Za-z0-9_]"
_SECRET_KEY_WORDS = (
    "api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|private[_-]?key|access[_-]?token|auth[_-]?token|"
    "refresh[_-]?token|id[_-]?token|session[_-]?token|token|secret|password|passwd|pwd|passphrase|credentials?"
)
_SECRET_KEY = rf"""["']?[A-Za-z0-9_.-]*(?:{_SECRET_KEY_WORDS})["']?\s*(?:=>|=|:)\s*"""
_HARMLESS_IPS = {"127.0.0.1", "0.0.0.0", "::1", "::", "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:0"}
_PII_PLACEHOLDERS = {"email": "[email]", "phone": "[phone]", "card": "[card]", "ip": "[ip]"}


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _card(value: str) -> bool:
    digits = value.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _phone(value: str) -> bool:
    n = sum(c.isdigit() for c in value)
    if value.startswith("+"):
        return 8 <= n <= 15
    return 9 <= n <= 12 if value.startswith("0") else n == 10


def _basic_credentials(value: str) -> bool:
    """Base64 (padding optional) that decodes to `user:password`."""
    bare = value.rstrip("=")
    try:
        decoded = base64.b64decode(bare + "=" * (-len(bare) % 4), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return re.match(r"[^\s:]{1,200}:\S", decoded) is not None


def _ipv4(value: str) -> bool:
    return value not in _HARMLESS_IPS and all(
        re.fullmatch(r"0|[1-9][0-9]{0,2}", o) is not None and int(o) <= 255 for o in value.split(".")
    )


def _ipv6(value: str) -> bool:
    if value.count(":") < 2 or value.lower() in _HARMLESS_IPS:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _rule(name: str, pattern: str, pii: bool = False, flags: int = 0, **checks: Any) -> _ScrubRule:
    return _ScrubRule(name, pii, re.compile(pattern, flags | re.ASCII), **checks)


_SCRUB_RULES = (
    _rule(
        "github",
        r"()((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}|github_pat_[A-Za-z0-9_]{82})",
        not_before="[A-Za-z]",
        not_after=_WORD,
    ),
    _rule(
        "slack",
        r"()((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:[0-9]-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40})",
        not_before=_WORD,
        not_after=_WORD,
    ),
    _rule(
        "aws",
        r"()((?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16})",
        not_before=_WORD,
        not_after=_WORD,
        accept=lambda v: v != "AKIAIOSFODNN7EXAMPLE",
    ),
    _rule("npm", r"()(npm_[A-Za-z0-9_]{36})", not_before="[A-Za-z]", not_after=_WORD),
    _rule(
        "openai",
        r"()(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})"
        r"|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})",
        not_after=_WORD,
    ),
    _rule("anthropic", r"()(sk-ant-api0[0-9]-[A-Za-z0-9_-]{90,128}AA)", not_after="[A-Za-z0-9_-]"),
    # A truncated key (no END line) is replaced to the end of its field.
    _rule(
        "private_key",
        r"()(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*))",
    ),
    # "bearer authentication" is prose; a token has a digit or is long.
    _rule(
        "bearer",
        r"(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)",
        flags=re.IGNORECASE,
        not_before=_WORD,
        accept=lambda v: any(c.isdigit() for c in v) or len(v) >= 20,
    ),
    _rule(
        "basic_auth",
        r"(basic\s+)([A-Za-z0-9+/]{6,}={0,2})",
        flags=re.IGNORECASE,
        not_before=_WORD,
        accept=_basic_credentials,
    ),
    _rule(
        "authorization",
        r"""((?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^\s"',;]{8,})""",
        flags=re.IGNORECASE,
        not_before=_WORD,
    ),
    _rule("jwt", r"()(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", not_before=_WORD),
    # key=value secrets: a quoted value is replaced inside its quotes.
    *(
        _rule("key_value", source, flags=re.IGNORECASE, not_before=r"[A-Za-z0-9\[]")
        for source in (
            rf'({_SECRET_KEY}")((?:[^"\\\n]|\\.){{1,500}})"',
            rf"({_SECRET_KEY}')([^'\n]{{1,500}})'",
            rf"""({_SECRET_KEY})([^\s"',;&<>()\[\]{{}}]{{1,500}})""",
        )
    ),
    _rule(
        "email",
        r"()([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})",
        pii=True,
        not_after="[A-Za-z0-9-]",
    ),
    _rule(
        "card",
        r"()([2-6](?:[ -]?[0-9]){12,18})",
        pii=True,
        not_before="[0-9.-]",
        not_after="[0-9-]",
        dot_digit_after=True,
        accept=_card,
    ),
    _rule(
        "phone",
        r"()(\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,6}|(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}"
        r"|0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4})",
        pii=True,
        not_before="[A-Za-z0-9_+.]",
        not_after="[A-Za-z0-9_-]",
        dot_digit_after=True,
        accept=_phone,
    ),
    _rule(
        "ip",
        r"()((?:[0-9]{1,3}\.){3}[0-9]{1,3})",
        pii=True,
        not_before="[A-Za-z0-9_.]",
        not_after=_WORD,
        dot_digit_after=True,
        accept=_ipv4,
    ),
    _rule(
        "ip",
        r"()([0-9A-Fa-f:]{2,39})",
        pii=True,
        not_before="[A-Za-z0-9_:.]",
        not_after="[A-Za-z0-9_:]",
        dot_digit_after=True,
        accept=_ipv6,
    ),
)


def _touches(text: str, at: int, chars: str) -> bool:
    return bool(chars) and 0 <= at < len(text) and re.fullmatch(chars, text[at]) is not None


def scrub_text(text: str, mode: str) -> tuple[str, list[tuple[str, int]]]:
    """`text` scrubbed for `mode`, and how many matches of each rule it replaced (in order of first match)."""
    if mode == "off" or not text:
        return text, []
    hits: list[tuple[int, int, _ScrubRule]] = []
    for rule in _SCRUB_RULES:
        if rule.pii and mode != "secrets+pii":
            continue
        for m in rule.pattern.finditer(text):
            value, after = m.group(2), m.end()
            if not value or _touches(text, m.start() - 1, rule.not_before) or _touches(text, after, rule.not_after):
                continue
            if rule.dot_digit_after and text[after : after + 1] == "." and text[after + 1 : after + 2].isdigit():
                continue
            if rule.accept is not None and not rule.accept(value):
                continue
            hits.append((m.start(2), m.end(2), rule))
    # Overlaps: the earliest match wins, the longest of those, the first rule of equals.
    hits.sort(key=lambda h: (h[0], -h[1]))
    out: list[str] = []
    at = 0
    counts: dict[str, int] = {}
    for start, end, rule in hits:
        if start < at:
            continue
        out.append(text[at:start])
        out.append(_PII_PLACEHOLDERS[rule.name] if rule.pii else f"[secret:{rule.name}]")
        at = end
        counts[rule.name] = counts.get(rule.name, 0) + 1
    out.append(text[at:])
    return "".join(out), list(counts.items())


def scrub_for_keeping(payload: dict[str, Any], mode: str) -> tuple[dict[str, Any], list[str]]:
    """The report as it may be kept: its free-text fields scrubbed and cut back to their limits (a
    placeholder can be longer than what it replaced), and which rules fired where
    (`github ×1 in what_i_tried`), never what they replaced."""
    out = dict(payload)
    replaced: list[str] = []
    for name in SCRUBBED_FIELDS:
        value = out.get(name)
        if not isinstance(value, str):
            continue
        text, counts = scrub_text(value, mode)
        if not counts:
            continue
        out[name] = text[: INPUT_SCHEMA["properties"][name]["maxLength"]]
        replaced.extend(f"{rule} ×{n} in {name}" for rule, n in counts)
    return out, replaced


# ---- the outbox (the proxy's format and lock: proxy/outbox.ts) --------------------------

_LOCK_STALE = 30.0
_LOCK_WAIT = 5.0


def read_outbox(path: str) -> list[tuple[dict[str, Any], str]]:
    """(payload, idempotency key) of each entry waiting; a line without its own key is left to `replay`."""
    entries: list[tuple[dict[str, Any], str]] = []
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return entries
    for line in text.splitlines():
        at = line.find(UNSENT_MARKER)
        if at < 0:
            continue
        try:
            value = json.loads(line[at + len(UNSENT_MARKER):])
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("idempotency_key"), str) and value["idempotency_key"]:
            key = value.pop("idempotency_key")
            entries.append((value, key))
    return entries


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_lock_if(lock: str, is_the_one: Any) -> None:
    """Rename the lock aside (only one process gets it), check it is the one meant, else link it back."""
    try:
        if not is_the_one(os.stat(lock)):
            return
    except OSError:
        return
    aside = f"{lock}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        os.rename(lock, aside)
    except OSError:
        return
    try:
        if not is_the_one(os.stat(aside)):
            os.link(aside, lock)
    except OSError:
        pass  # a newer lock was taken meanwhile; it stands
    finally:
        try:
            os.unlink(aside)
        except OSError:
            pass


class _Locked:
    """`<outbox>.lock`, created exclusively; a lock older than 30 s was left by a dead process and is taken over."""

    def __init__(self, path: str) -> None:
        self.lock = path + ".lock"
        self.mine: Optional[os.stat_result] = None

    def __enter__(self) -> "_Locked":
        deadline = time.monotonic() + _LOCK_WAIT
        while True:
            try:
                os.close(os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                self.mine = os.stat(self.lock)
                return self
            except FileExistsError:
                _remove_lock_if(self.lock, lambda held: time.time() - held.st_mtime > _LOCK_STALE)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the outbox stayed locked (remove {self.lock} if no process runs)") from None
                time.sleep(0.02 + random.random() * 0.03)

    def __exit__(self, *exc: Any) -> None:
        mine = self.mine
        _remove_lock_if(self.lock, lambda held: mine is not None and (held.st_ino, held.st_dev) == (mine.st_ino, mine.st_dev))


def _outbox_append(path: str, payload: dict[str, Any], key: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    line = f"{UNSENT_MARKER} {json.dumps({**payload, 'idempotency_key': key}, separators=(',', ':'), ensure_ascii=False)}\n"
    with _Locked(path):
        created = not os.path.exists(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(directory)


def _outbox_remove(path: str, keys: set[str]) -> None:
    """Drop the lines of these keys: rewrite to a temp file, rename it over (atomic)."""
    if not keys:
        return
    directory = os.path.dirname(os.path.abspath(path))
    with _Locked(path):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return
        kept = []
        for line in lines:
            if not line.strip():
                continue
            at = line.find(UNSENT_MARKER)
            if at >= 0:
                try:
                    value = json.loads(line[at + len(UNSENT_MARKER):])
                    if isinstance(value, dict) and value.get("idempotency_key") in keys:
                        continue
                except ValueError:
                    pass
            kept.append(line)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, ("\n".join(kept) + "\n" if kept else "").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(directory)


class _OutboxFlusher:
    """A daemon thread that re-sends one outbox, backing off while the sidecar stays away."""

    def __init__(self, options: FeedbackOptions) -> None:
        self.options = options
        self.path = options.outbox()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._first_wait = options.outbox_retry
        #: Keys the sidecar refused (their content): left for a human and `replay`.
        self.refused: set[str] = set()

    def soon(self) -> None:
        self._start(0.0)
        self._wake.set()

    def later(self) -> None:
        self._start(self.options.outbox_retry)

    def _start(self, first_wait: float) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._first_wait = first_wait
                self._thread = threading.Thread(target=self._run, name="patchworkmcp-outbox", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        base = self.options.outbox_retry
        delay = self._first_wait
        while True:
            if self._wake.wait(delay):
                delay = base
            self._wake.clear()
            if self._flush_once():
                delay = base
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return
            else:
                delay = min(max(delay, base) * 2, 300.0)

    def _flush_once(self) -> bool:
        """Send every entry once; False while the sidecar cannot be reached."""
        delivered: set[str] = set()
        reachable = True
        try:
            for payload, key in read_outbox(self.path):
                if key in self.refused:
                    continue
                result, _status, _error = _post_sync(payload, key, self.options, 0)
                if result is not None and result.delivered:
                    delivered.add(key)
                elif result is not None and result.invalid:
                    self.refused.add(key)
                else:
                    reachable = False
                    break
            _outbox_remove(self.path, delivered)
            if delivered:
                _log(f"delivered {len(delivered)} report(s) from the outbox {self.path}")
        except Exception as exc:  # noqa: BLE001 - the thread must live on
            _log(f"the outbox {self.path} could not be re-sent yet ({type(exc).__name__}: {exc})")
            return False
        return reachable


_FLUSHERS: dict[str, _OutboxFlusher] = {}
_FLUSHERS_LOCK = threading.Lock()


def _flusher(options: FeedbackOptions) -> _OutboxFlusher:
    with _FLUSHERS_LOCK:
        path = options.outbox()
        if path not in _FLUSHERS:
            _FLUSHERS[path] = _OutboxFlusher(options)
        return _FLUSHERS[path]


def resume_outbox(options: Optional[FeedbackOptions] = None) -> None:
    """Start re-sending what an earlier run left in the outbox (register_feedback_tool does this)."""
    options = options or FeedbackOptions()
    try:
        if read_outbox(options.outbox()):
            _flusher(options).soon()
    except Exception:  # noqa: BLE001 - unreadable now: the next kept report schedules a retry
        pass


# ---- registration ----------------------------------------------------------------------

def _options_for(server_name: Optional[str], options: Optional[FeedbackOptions]) -> FeedbackOptions:
    options = copy.copy(options) if options else FeedbackOptions()
    if server_name:
        options.server_name = server_name
    return options


def tool_result(result: SendResult) -> Any:
    """The `mcp.types.CallToolResult` for one report: isError when its content was refused,
    as the proxy answers (a report kept for later is not an error: it will be delivered)."""
    from mcp import types

    return types.CallToolResult(content=[types.TextContent(type="text", text=result.reply)], isError=result.invalid)


async def call_feedback_tool(
    arguments: Any, server_name: Optional[str] = None, options: Optional[FeedbackOptions] = None
) -> str:
    """Low-level servers: answer a tools/call for TOOL_NAME. Returns the text for the agent.

    Prefer call_feedback_tool_result, which also marks an invalid report with isError."""
    return (await deliver_feedback(arguments, _options_for(server_name, options))).reply


async def call_feedback_tool_result(
    arguments: Any,
    server_name: Optional[str] = None,
    options: Optional[FeedbackOptions] = None,
    context: Optional[FeedbackContext] = None,
) -> Any:
    """Low-level servers: answer a tools/call for TOOL_NAME with a ready `CallToolResult`.
    Pass a FeedbackContext to fill in what the server knows (tools, version, client, session)."""
    configured = _options_for(server_name, options)
    payload = build_payload(arguments, configured)
    if context is not None:
        payload = with_context(payload, context, configured)
    return tool_result(await _deliver_payload(payload, configured))


def feedback_tool() -> Any:
    """Low-level servers: the tool as an `mcp.types.Tool`, to add to your tools/list result."""
    from mcp import types

    return types.Tool.model_validate(tool_definition())


def get_tool_definition() -> Any:
    """The original API: the tool for a low-level server's list_tools handler (an `mcp.types.Tool`)."""
    return feedback_tool()


def _context_class() -> Any:
    try:
        from mcp.server.mcpserver import Context  # mcp 2.x
    except ImportError:
        from mcp.server.fastmcp import Context  # mcp 1.x
    return Context


def register_feedback_tool(
    server: Any,
    server_name: Optional[str] = "unknown",
    sidecar_url: Any = None,
    api_key: Optional[str] = None,
) -> None:
    """Add the feedback tool to an `MCPServer` (mcp 2.x) or `FastMCP` (mcp 1.x) in one line.

    `register_feedback_tool(server, "my-server", sidecar_url=…, api_key=…)` as in the original,
    or `register_feedback_tool(server, "my-server", FeedbackOptions(...))`. Every report gets the
    server's name and version, the client's name, the tools registered and a session id.
    Pass SERVER_INSTRUCTIONS as the server's `instructions` too: without them agents rarely
    call the tool.
    """
    from mcp import types

    if isinstance(sidecar_url, FeedbackOptions):
        options = copy.copy(sidecar_url)
    else:
        options = FeedbackOptions(sidecar_url=sidecar_url, api_key=api_key)
    configured = _options_for(server_name or "unknown", options)

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
        ctx: Any = None,
    ) -> Any:
        arguments = {k: v for k, v in locals().items() if k in _FIELDS}
        payload = with_context(build_payload(arguments, configured), _context_of(server, ctx), configured)
        # A CallToolResult passes through the SDK as it is, so an invalid report gets isError.
        return tool_result(await _deliver_payload(payload, configured))

    # The SDK hands the request context to the parameter annotated with its Context class.
    feedback.__annotations__["ctx"] = _context_class()
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
    resume_outbox(configured)
