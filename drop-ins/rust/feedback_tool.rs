//! PatchworkMCP feedback tool: a drop-in for Rust MCP servers built on rmcp,
//! the official Rust SDK.
//!
//! Copy this ONE file into your crate (`mod feedback_tool;`), with rmcp (features
//! `server`, `macros`), reqwest (`json` + a TLS feature), serde, serde_json and tokio
//! (`time`) as dependencies. Then add the route to your tool router and the
//! instructions to your server config:
//!
//! ```ignore
//! use feedback_tool::{feedback_tool_route, FeedbackOptions, FEEDBACK_SERVER_INSTRUCTIONS};
//!
//! let tool_router = Self::tool_router().with_route(feedback_tool_route("billing-server", FeedbackOptions::default()));
//! // in ServerHandler::get_info (ServerConfig, ServerInfo before rmcp 3):
//! ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
//!     .with_instructions(FEEDBACK_SERVER_INSTRUCTIONS)
//! ```
//!
//! Configuration: `FEEDBACK_SIDECAR_URL` (default http://localhost:8099) and
//! `FEEDBACK_API_KEY`, or [`FeedbackOptions`] in code. Delivery never panics into
//! the host and never writes to stdout (that would corrupt a stdio transport);
//! a report that cannot be delivered after 2 retries is written to stderr as ONE
//! line `PATCHWORKMCP_UNSENT_FEEDBACK {json}` that `patchworkmcp replay` re-sends.
//!
//! The definition and texts below come from PatchworkMCP's contract
//! (drop-ins/spec); the tests fail if they drift.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRoute;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};

pub const FEEDBACK_TOOL_NAME: &str = "feedback";
pub const FEEDBACK_TOOL_TITLE: &str = "Report a gap in this server";

/// Tells the agent when and how to call the tool.
pub const FEEDBACK_TOOL_DESCRIPTION: &str = "\
Tell the developers of this MCP server what you needed and could not do. Call it whenever:\n\
- no tool here does what the task needs (missing_tool);\n\
- a tool answered but left out data you needed (incomplete_results);\n\
- a tool exists but lacks an argument or filter you needed (missing_parameter);\n\
- the data came back in a shape you had to convert, guess at or could not use (wrong_format);\n\
- you had to approximate, chain many calls or work around the server to get an answer;\n\
- you are about to tell the user that something cannot be done with these tools.\n\
Call it BEFORE you give your final answer to the user, then carry on with the task.\n\
Be specific: name the tools you called and the arguments you used, what came back,\n\
the exact capability that was missing, and the tool or parameter you would have wanted.\n\
Reports go to the server's developers and are used to build what is missing; they never\n\
change this conversation and you do not need the user's permission to send one.";

/// The tool's input JSON Schema, exactly as tools/list shows it.
pub const FEEDBACK_INPUT_SCHEMA: &str = r#"{
    "type": "object",
    "properties": {
        "what_i_needed": {
            "type": "string",
            "minLength": 1,
            "maxLength": 4000,
            "description": "The capability you needed and could not get, stated concretely: the data, action or parameter, e.g. 'filter invoices by date range' or 'get the total cost per project'."
        },
        "what_i_tried": {
            "type": "string",
            "minLength": 1,
            "maxLength": 4000,
            "description": "What you tried before giving up: the tools you called with which arguments, and what came back or why it fell short."
        },
        "gap_type": {
            "type": "string",
            "enum": [
                "missing_tool",
                "incomplete_results",
                "missing_parameter",
                "wrong_format",
                "other"
            ],
            "description": "missing_tool: no tool does it. incomplete_results: a tool answered but left data out. missing_parameter: the tool exists but lacks an argument you needed. wrong_format: the data came back in a shape you could not use. other: anything else."
        },
        "server_name": {
            "type": "string",
            "maxLength": 200,
            "description": "Name of the MCP server this feedback is about."
        },
        "server_version": {
            "type": "string",
            "maxLength": 100,
            "description": "Version of the MCP server, if known."
        },
        "tool_name": {
            "type": "string",
            "maxLength": 200,
            "description": "The tool that fell short, if the gap is about one existing tool."
        },
        "suggestion": {
            "type": "string",
            "maxLength": 4000,
            "description": "Your proposed fix: a new tool with its signature, a new parameter, or a changed behaviour or format."
        },
        "user_goal": {
            "type": "string",
            "maxLength": 2000,
            "description": "The user's underlying task that surfaced the gap, in one or two sentences."
        },
        "resolution": {
            "type": "string",
            "enum": [
                "blocked",
                "worked_around",
                "partial"
            ],
            "description": "blocked: you could not do the task at all. worked_around: you got there another way. partial: you could only do part of it."
        },
        "tools_available": {
            "maxItems": 500,
            "type": "array",
            "items": {
                "type": "string",
                "maxLength": 200
            },
            "description": "Names of the tools you could see on this server when you hit the gap."
        },
        "agent_model": {
            "type": "string",
            "maxLength": 200,
            "description": "Your model identifier, e.g. claude-sonnet-4-5."
        },
        "session_id": {
            "type": "string",
            "maxLength": 200,
            "description": "An identifier for this conversation, so reports from one session can be grouped."
        },
        "client_type": {
            "type": "string",
            "maxLength": 200,
            "description": "The client application you run in, e.g. claude-desktop, cursor, claude-code."
        }
    },
    "required": [
        "what_i_needed",
        "what_i_tried",
        "gap_type"
    ]
}"#;

/// Put these in your `ServerConfig` instructions: without them agents rarely call the tool.
pub const FEEDBACK_SERVER_INSTRUCTIONS: &str = "\
This server has a `feedback` tool that goes straight to its developers. Use it whenever this\n\
server falls short of what your task needs: a tool you needed does not exist, a result was incomplete,\n\
a parameter was missing, a format was wrong, you had to approximate or work around the server, or you\n\
are about to tell the user something cannot be done. Call `feedback` before your final answer, with\n\
specifics: what you needed, which tools and arguments you tried and what came back, and what tool or\n\
parameter would have worked. One call per distinct gap. It costs the user nothing and is how this server improves.";

pub const FEEDBACK_REPLY_RECORDED: &str = "Thank you. Your feedback was recorded (report {id}) and the server's developers will see it. Carry on with the task.";
pub const FEEDBACK_REPLY_QUEUED: &str = "Thank you. The feedback service could not be reached, so your report was kept locally and will be delivered later. Carry on with the task.";
pub const FEEDBACK_REPLY_INVALID: &str =
    "Feedback was not recorded: {details}. Fix these fields and call the tool again.";

/// Starts the stderr line of a report that could not be delivered.
pub const UNSENT_FEEDBACK_MARKER: &str = "PATCHWORKMCP_UNSENT_FEEDBACK";

const DEFAULT_SIDECAR_URL: &str = "http://localhost:8099";
const FIELDS: [&str; 13] = [
    "what_i_needed",
    "what_i_tried",
    "gap_type",
    "server_name",
    "server_version",
    "tool_name",
    "suggestion",
    "user_goal",
    "resolution",
    "tools_available",
    "agent_model",
    "session_id",
    "client_type",
];

/// One report, as Rust code sends it with [`send_feedback`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedbackPayload {
    pub what_i_needed: String,
    pub what_i_tried: String,
    /// missing_tool | incomplete_results | missing_parameter | wrong_format | other
    pub gap_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_goal: Option<String>,
    /// blocked | worked_around | partial
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Always sent as a JSON array. Reads a list, a JSON-array string, a comma list or null.
    #[serde(default, deserialize_with = "tool_list")]
    pub tools_available: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
}

fn tool_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    match normalise_tool_list(value) {
        Value::Array(items) => items
            .into_iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    serde::de::Error::custom("tools_available entries must be strings")
                })
            })
            .collect(),
        _ => Err(serde::de::Error::custom(
            "tools_available must be a list of tool names",
        )),
    }
}

/// null → [], "[\"a\"]" → ["a"], "a, b" → ["a","b"]; anything else passes through
/// for the sidecar to reject with a clear message.
fn normalise_tool_list(value: Value) -> Value {
    match value {
        Value::Null => json!([]),
        Value::String(text) => {
            let trimmed = text.trim();
            if trimmed.starts_with('[') {
                if let Ok(list @ Value::Array(_)) = serde_json::from_str::<Value>(trimmed) {
                    return list;
                }
            }
            Value::Array(
                trimmed
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )
        }
        other => other,
    }
}

/// Delivery settings. `None` URL/key fall back to FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY.
#[derive(Debug, Clone)]
pub struct FeedbackOptions {
    pub sidecar_url: Option<String>,
    pub api_key: Option<String>,
    /// Fills in server_name/server_version on every report from this server.
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub connect_timeout: Duration,
    /// Upper bound for one attempt, connect to last byte.
    pub timeout: Duration,
    pub retries: u32,
    /// First backoff delay; doubled per retry, plus jitter.
    pub backoff: Duration,
    /// Longest Retry-After honoured.
    pub max_retry_after: Duration,
}

impl Default for FeedbackOptions {
    fn default() -> Self {
        Self {
            sidecar_url: None,
            api_key: None,
            server_name: None,
            server_version: None,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// What happened to one report. `reply` is the text for the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackResult {
    pub delivered: bool,
    /// Written to stderr for `patchworkmcp replay`.
    pub unsent: bool,
    pub report_id: Option<i64>,
    pub status: Option<u16>,
    pub reply: String,
    pub error: Option<String>,
}

/// The tool exactly as it appears in a tools/list result.
pub fn feedback_tool() -> Tool {
    let schema: JsonObject = serde_json::from_str(FEEDBACK_INPUT_SCHEMA).unwrap_or_default();
    let definition = json!({
        "name": FEEDBACK_TOOL_NAME,
        "title": FEEDBACK_TOOL_TITLE,
        "description": FEEDBACK_TOOL_DESCRIPTION,
        "inputSchema": schema,
        "annotations": {
            "title": FEEDBACK_TOOL_TITLE,
            "readOnlyHint": false,
            "destructiveHint": false,
            "idempotentHint": false,
            "openWorldHint": false
        }
    });
    serde_json::from_value(definition).unwrap_or_else(|_| {
        Tool::new(
            FEEDBACK_TOOL_NAME,
            FEEDBACK_TOOL_DESCRIPTION,
            JsonObject::new(),
        )
    })
}

/// The feedback tool as a route for your rmcp `ToolRouter`:
/// `Self::tool_router().with_route(feedback_tool_route("my-server", FeedbackOptions::default()))`.
pub fn feedback_tool_route<S: Send + Sync + 'static>(
    server_name: impl Into<String>,
    options: FeedbackOptions,
) -> ToolRoute<S> {
    let mut options = options;
    let name = server_name.into();
    if !name.is_empty() {
        options.server_name = Some(name);
    }
    ToolRoute::new_dyn(feedback_tool(), move |context: ToolCallContext<'_, S>| {
        let arguments = context.arguments.clone().unwrap_or_default();
        let options = options.clone();
        Box::pin(async move {
            let result = send_feedback_value(build_payload(&arguments, &options), &options).await;
            Ok(CallToolResult::success(vec![ContentBlock::text(result.reply)]).into())
        })
    })
}

/// Keep the known fields of the tool arguments; tools_available becomes an array;
/// the configured server name/version win.
pub fn build_payload(arguments: &JsonObject, options: &FeedbackOptions) -> Value {
    let mut payload = Map::new();
    for field in FIELDS {
        if let Some(value) = arguments.get(field) {
            if !value.is_null() {
                payload.insert(field.to_owned(), value.clone());
            }
        }
    }
    let tools = payload.remove("tools_available").unwrap_or(Value::Null);
    payload.insert("tools_available".to_owned(), normalise_tool_list(tools));
    if let Some(name) = &options.server_name {
        payload.insert("server_name".to_owned(), Value::String(name.clone()));
    }
    if let Some(version) = &options.server_version {
        payload.insert("server_version".to_owned(), Value::String(version.clone()));
    }
    Value::Object(payload)
}

/// Deliver one typed report. Never panics, never writes to stdout.
pub async fn send_feedback(payload: &FeedbackPayload, options: &FeedbackOptions) -> FeedbackResult {
    let mut value = serde_json::to_value(payload).unwrap_or_else(|_| json!({}));
    if let (Some(map), Some(name)) = (value.as_object_mut(), &options.server_name) {
        map.insert("server_name".to_owned(), Value::String(name.clone()));
    }
    if let (Some(map), Some(version)) = (value.as_object_mut(), &options.server_version) {
        map.insert("server_version".to_owned(), Value::String(version.clone()));
    }
    send_feedback_value(value, options).await
}

fn random_u64() -> u64 {
    // std's RandomState is randomly keyed per process: enough for jitter and a v4 UUID
    // without pulling in a rand crate.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish()
}

fn idempotency_key() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn retry_after(header: Option<&reqwest::header::HeaderValue>, cap: Duration) -> Option<Duration> {
    // Seconds only: an HTTP-date Retry-After falls back to the exponential backoff.
    let seconds: f64 = header?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs_f64(seconds.max(0.0)).min(cap))
}

fn issues_text(body: &str, status: u16) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    if let Some(details) = error["details"].as_array().filter(|d| !d.is_empty()) {
        return details
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d["field"].as_str().unwrap_or("?"),
                    d["message"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    error["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the feedback service answered {status}"))
}

/// Deliver one report given as JSON (what the tool handler sends). Never panics into
/// the caller, never writes to stdout.
pub async fn send_feedback_value(payload: Value, options: &FeedbackOptions) -> FeedbackResult {
    let key = idempotency_key();
    let base = options
        .sidecar_url
        .clone()
        .or_else(|| {
            std::env::var("FEEDBACK_SIDECAR_URL")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_SIDECAR_URL.to_owned());
    let url = format!("{}/api/feedback", base.trim_end_matches('/'));
    let api_key = options
        .api_key
        .clone()
        .or_else(|| std::env::var("FEEDBACK_API_KEY").ok())
        .filter(|k| !k.is_empty());
    let client = match reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .build()
    {
        Ok(client) => client,
        Err(err) => return write_unsent(&payload, &key, None, err.to_string()),
    };
    let mut status = None;
    let mut last_error = String::from("not attempted");
    for attempt in 0..=options.retries {
        let backoff = options.backoff.saturating_mul(1 << attempt.min(16));
        let jitter = Duration::from_nanos(random_u64() % (backoff.as_nanos() as u64 + 1));
        let mut wait = backoff + jitter;
        let mut request = client
            .post(&url)
            .header("Idempotency-Key", &key)
            .json(&payload);
        if let Some(api_key) = &api_key {
            request = request.bearer_auth(api_key);
        }
        match request.send().await {
            Err(err) => last_error = format!("could not reach the feedback service: {err}"),
            Ok(response) => {
                let code = response.status().as_u16();
                status = Some(code);
                let header = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .cloned();
                let body = response.text().await.unwrap_or_default();
                match code {
                    200..=299 => {
                        let id = serde_json::from_str::<Value>(&body)
                            .ok()
                            .and_then(|v| v["id"].as_i64());
                        let shown = id.map(|i| i.to_string()).unwrap_or_default();
                        return FeedbackResult {
                            delivered: true,
                            unsent: false,
                            report_id: id,
                            status,
                            reply: FEEDBACK_REPLY_RECORDED.replace("{id}", &shown),
                            error: None,
                        };
                    }
                    400 | 422 => {
                        let details = issues_text(&body, code);
                        return FeedbackResult {
                            delivered: false,
                            unsent: false,
                            report_id: None,
                            status,
                            reply: FEEDBACK_REPLY_INVALID.replace("{details}", &details),
                            error: Some(details),
                        };
                    }
                    429 | 500..=599 => {
                        last_error = format!("the feedback service answered {code}");
                        if let Some(honoured) =
                            retry_after(header.as_ref(), options.max_retry_after)
                        {
                            wait = honoured;
                        }
                    }
                    // 401/403/404/413…: a setup problem, not the report's fault: keep it for replay.
                    _ => return write_unsent(&payload, &key, status, issues_text(&body, code)),
                }
            }
        }
        if attempt < options.retries {
            tokio::time::sleep(wait).await;
        }
    }
    write_unsent(&payload, &key, status, last_error)
}

fn write_unsent(payload: &Value, key: &str, status: Option<u16>, reason: String) -> FeedbackResult {
    let mut line = payload.as_object().cloned().unwrap_or_default();
    line.insert("idempotency_key".to_owned(), Value::String(key.to_owned()));
    if let Ok(encoded) = serde_json::to_string(&Value::Object(line)) {
        use std::io::Write;
        // One write of one line; a failing stderr is ignored rather than panicking like eprintln!.
        let _ =
            std::io::stderr().write_all(format!("{UNSENT_FEEDBACK_MARKER} {encoded}\n").as_bytes());
    }
    FeedbackResult {
        delivered: false,
        unsent: true,
        report_id: None,
        status,
        reply: FEEDBACK_REPLY_QUEUED.to_owned(),
        error: Some(reason),
    }
}
