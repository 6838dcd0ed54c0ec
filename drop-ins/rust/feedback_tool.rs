//! PatchworkMCP feedback tool: a drop-in for Rust MCP servers built on rmcp,
//! the official Rust SDK.
//!
//! Copy this ONE file into your crate (`mod feedback_tool;`), with rmcp (features
//! `server`, `macros`), reqwest (`json` + a TLS feature), serde, serde_json and tokio
//! (`time`, `rt`) and regex as dependencies. Then add the route to your tool router and the
//! instructions to your server config:
//!
//! ```ignore
//! use feedback_tool::{feedback_tool_route, FeedbackOptions, FEEDBACK_SERVER_INSTRUCTIONS};
//!
//! let tool_router = Self::tool_router().with_route(feedback_tool_route("billing-server", FeedbackOptions::default()));
//! // in ServerHandler::get_info (ServerConfig, ServerInfo before rmcp 3):
//! ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
//!     .with_server_info(Implementation::new("billing-server", "2.4.1"))
//!     .with_instructions(FEEDBACK_SERVER_INSTRUCTIONS)
//! ```
//!
//! The original PatchworkMCP API works unchanged: `TOOL_NAME`, `TOOL_DESCRIPTION`,
//! [`FeedbackPayload`], [`Options`], [`payload_from_args`], [`tool_input_schema`] and
//! `send_feedback(&payload, None).await` (the text for the agent); [`deliver_feedback`]
//! is the richer call.
//!
//! Configuration: `FEEDBACK_SIDECAR_URL` (default http://localhost:8099),
//! `FEEDBACK_API_KEY`, `FEEDBACK_OUTBOX` (default ~/.patchworkmcp/outbox.log) and
//! `FEEDBACK_PRIVACY` (what a kept report is scrubbed of: off, secrets, secrets+pii), or
//! [`FeedbackOptions`] in code. Delivery never panics into the host and never writes
//! to stdout (that would corrupt a stdio transport). A report that cannot be delivered
//! after 2 retries goes to the outbox the proxy uses (same format, same lock), is
//! re-sent by a tokio task with backoff, and can be re-sent by hand with
//! `patchworkmcp replay <outbox>`.
//!
//! The definition and texts below come from PatchworkMCP's contract
//! (drop-ins/spec); the tests fail if they drift.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use rmcp::handler::server::router::tool::ToolRoute;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::ServerHandler;
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

/// Delivery settings. `None` URL/key/outbox fall back to FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY / FEEDBACK_OUTBOX.
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
    /// Where undeliverable reports wait (the proxy's outbox by default).
    pub outbox_path: Option<PathBuf>,
    /// First delay before the outbox is re-sent; doubled while the sidecar stays away, up to 5 min.
    pub outbox_retry: Duration,
    /// What a kept report is scrubbed of (off, secrets, secrets+pii): default FEEDBACK_PRIVACY, then secrets+pii.
    pub privacy: Option<String>,
}

/// The original PatchworkMCP drop-in's name for [`FeedbackOptions`].
pub type Options = FeedbackOptions;

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
            outbox_path: None,
            outbox_retry: Duration::from_secs(2),
            privacy: None,
        }
    }
}

impl FeedbackOptions {
    /// The outbox file these options name.
    pub fn outbox(&self) -> PathBuf {
        if let Some(path) = &self.outbox_path {
            return path.clone();
        }
        if let Some(path) = std::env::var_os("FEEDBACK_OUTBOX").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        home.join(".patchworkmcp").join("outbox.log")
    }

    /// The privacy mode these options name.
    pub fn privacy_mode(&self) -> &'static str {
        let mode = self
            .privacy
            .clone()
            .or_else(|| std::env::var("FEEDBACK_PRIVACY").ok());
        PRIVACY_MODES
            .into_iter()
            .find(|m| Some(*m) == mode.as_deref())
            .unwrap_or(DEFAULT_PRIVACY_MODE)
    }
}

/// What the sidecar answers as `gap` when the report joined a gap the developers acted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownGap {
    pub id: i64,
    pub status: String,
    pub reports: i64,
    #[serde(default)]
    pub agent_note: Option<String>,
}

/// What happened to one report. `reply` is the text for the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackResult {
    pub delivered: bool,
    /// Kept for later delivery: in the outbox, or on stderr if even that failed.
    pub unsent: bool,
    pub report_id: Option<i64>,
    pub status: Option<u16>,
    pub reply: String,
    pub error: Option<String>,
    /// The sidecar refused the report's content (400/422): it would fail again, so it is
    /// not kept; the tool answers isError with the fields to fix, as the proxy does.
    pub invalid: bool,
    /// The known gap the report joined, when the sidecar said so.
    pub gap: Option<KnownGap>,
    /// The outbox file the report was kept in.
    pub outbox: Option<PathBuf>,
}

impl FeedbackResult {
    fn new(reply: String) -> Self {
        Self {
            delivered: false,
            unsent: false,
            report_id: None,
            status: None,
            reply,
            error: None,
            invalid: false,
            gap: None,
            outbox: None,
        }
    }
}

// ---- the known-gap echo (wording from src/feedback/echo.ts, vectors in drop-ins/spec/echo.json) ----

fn known_gap_advice(status: &str) -> Option<&'static str> {
    match status {
        "planned" => Some("the developers plan to build it, so work around it for now"),
        "fixed" => Some("the developers marked it fixed, so a newer version of this server should do it; work around it for now"),
        "wontfix" => Some("the developers decided not to build it, so find another way"),
        _ => None,
    }
}

/// The one sentence that tells the agent the gap is known and what to do now.
pub fn known_gap_sentence(gap: &KnownGap) -> String {
    let count = if gap.reports == 1 {
        "1 report".to_owned()
    } else {
        format!("{} reports", gap.reports)
    };
    let advice = known_gap_advice(&gap.status)
        .map(|a| format!(": {a}"))
        .unwrap_or_default();
    let mut out = format!("This is a known gap ({}, {count}){advice}.", gap.status);
    if let Some(note) = gap
        .agent_note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        out.push_str(" Note from the developers: ");
        out.push_str(note);
    }
    out
}

fn recorded_reply(id: Option<i64>, gap: Option<&KnownGap>) -> String {
    let shown = id.map(|i| i.to_string()).unwrap_or_default();
    let recorded = FEEDBACK_REPLY_RECORDED.replace("{id}", &shown);
    match gap {
        Some(gap) => format!("{recorded} {}", known_gap_sentence(gap)),
        None => recorded,
    }
}

// ---- the tool, the original API and the route ----------------------------------------

/// The original drop-in's names.
pub const TOOL_NAME: &str = FEEDBACK_TOOL_NAME;
pub const TOOL_DESCRIPTION: &str = FEEDBACK_TOOL_DESCRIPTION;

/// The tool's input JSON Schema as a value (the original API).
pub fn tool_input_schema() -> Value {
    serde_json::from_str(FEEDBACK_INPUT_SCHEMA).unwrap_or_else(|_| json!({"type": "object"}))
}

/// The original API: a typed report from a call_tool's arguments, stamped with `server_name`.
/// Fields that do not read as their type are left empty for the sidecar to name.
pub fn payload_from_args(args: &Value, server_name: &str) -> FeedbackPayload {
    let mut args = args.as_object().cloned().unwrap_or_default();
    if !server_name.is_empty() {
        args.insert("server_name".into(), Value::String(server_name.to_owned()));
    }
    let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut payload: FeedbackPayload = serde_json::from_value(Value::Object(args.clone()))
        .unwrap_or_else(|_| FeedbackPayload {
            what_i_needed: text("what_i_needed").unwrap_or_default(),
            what_i_tried: text("what_i_tried").unwrap_or_default(),
            gap_type: text("gap_type").unwrap_or_default(),
            ..Default::default()
        });
    if !server_name.is_empty() {
        payload.server_name = Some(server_name.to_owned());
    }
    payload
}

/// The original API: deliver one report (or keep it in the outbox) and return the text for the agent.
pub async fn send_feedback(payload: &FeedbackPayload, opts: Option<&Options>) -> String {
    let defaults = FeedbackOptions::default();
    deliver_feedback(payload, opts.unwrap_or(&defaults))
        .await
        .reply
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

/// What the server knows better than the agent, filled in as the proxy does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackContext {
    /// The tools the server lists; used when the agent sent none.
    pub tools_available: Vec<String>,
    /// From the server's info; wins over the agent's guess.
    pub server_version: Option<String>,
    /// The client's info (`clientInfo`): "name/version"; used when the agent sent none.
    pub client_type: Option<String>,
    /// This process's id (rmcp does not expose a transport session to tools); used when the agent sent none.
    pub session_id: Option<String>,
}

/// One id per process: on stdio one process serves one client, so it groups that conversation's reports.
fn process_session_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("process-{}", idempotency_key()))
}

const CLIENT_INFO_META_KEY: &str = "io.modelcontextprotocol/clientInfo";

fn implementation_text(name: Option<&str>, version: Option<&str>) -> Option<String> {
    let name = name.filter(|n| !n.is_empty())?;
    Some(match version.filter(|v| !v.is_empty()) {
        Some(version) => format!("{name}/{version}"),
        None => name.to_owned(),
    })
}

async fn context_of<S: ServerHandler>(context: &ToolCallContext<'_, S>) -> FeedbackContext {
    let info = context.service.get_info();
    let mut out = FeedbackContext {
        server_version: Some(info.server_info.version.clone()).filter(|v| !v.is_empty()),
        session_id: Some(process_session_id().to_owned()),
        ..Default::default()
    };
    if let Ok(listed) = context
        .service
        .list_tools(None, context.request_context.clone())
        .await
    {
        out.tools_available = listed.tools.iter().map(|t| t.name.to_string()).collect();
    }
    // 2026-07-28 requests carry the client's identity in their own _meta; 2025-era ones had initialize.
    let meta = serde_json::to_value(&context.request_context.meta).unwrap_or(Value::Null);
    let envelope = &meta[CLIENT_INFO_META_KEY];
    out.client_type = implementation_text(envelope["name"].as_str(), envelope["version"].as_str())
        .or_else(|| {
            let peer = context.request_context.peer.peer_info()?;
            implementation_text(
                Some(peer.client_info.name.as_str()),
                Some(peer.client_info.version.as_str()),
            )
        });
    out
}

fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn clip(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// Fill the payload's gaps from the context; a configured server_version still wins.
pub fn with_context(payload: Value, context: &FeedbackContext, options: &FeedbackOptions) -> Value {
    let mut map = match payload {
        Value::Object(map) => map,
        other => return other,
    };
    if blank(map.get("tools_available")) && !context.tools_available.is_empty() {
        let tools = context
            .tools_available
            .iter()
            .take(500)
            .map(|n| Value::String(clip(n, 200)));
        map.insert("tools_available".into(), Value::Array(tools.collect()));
    }
    if options.server_version.is_none() {
        if let Some(version) = &context.server_version {
            map.insert("server_version".into(), Value::String(clip(version, 100)));
        }
    }
    for (field, value, limit) in [
        ("client_type", &context.client_type, 200),
        ("session_id", &context.session_id, 200),
    ] {
        if let (true, Some(value)) = (blank(map.get(field)), value) {
            map.insert(field.into(), Value::String(clip(value, limit)));
        }
    }
    Value::Object(map)
}

/// The feedback tool as a route for your rmcp `ToolRouter`:
/// `Self::tool_router().with_route(feedback_tool_route("my-server", FeedbackOptions::default()))`.
/// Every report gets the server's version, the tools it lists, the client's name and a session id.
pub fn feedback_tool_route<S: ServerHandler + Send + Sync + 'static>(
    server_name: impl Into<String>,
    options: FeedbackOptions,
) -> ToolRoute<S> {
    let mut options = options;
    let name = server_name.into();
    if !name.is_empty() {
        options.server_name = Some(name);
    }
    resume_outbox(&options);
    ToolRoute::new_dyn(feedback_tool(), move |context: ToolCallContext<'_, S>| {
        let arguments = context.arguments.clone().unwrap_or_default();
        let options = options.clone();
        Box::pin(async move {
            let found = context_of(&context).await;
            let payload = with_context(build_payload(&arguments, &options), &found, &options);
            let result = send_feedback_value(payload, &options).await;
            let content = vec![ContentBlock::text(result.reply)];
            // An invalid report is an error the agent can fix; a kept one is not (it will be delivered).
            Ok(if result.invalid {
                CallToolResult::error(content)
            } else {
                CallToolResult::success(content)
            }
            .into())
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

/// Deliver one typed report, or keep it in the outbox. Never panics, never writes to stdout.
pub async fn deliver_feedback(
    payload: &FeedbackPayload,
    options: &FeedbackOptions,
) -> FeedbackResult {
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

enum Outcome {
    Delivered(FeedbackResult),
    Invalid(FeedbackResult),
    Failed(Option<u16>, String),
}

/// Send one report with its key: retries on network errors, 429 and 5xx.
async fn post_report(
    payload: &Value,
    key: &str,
    options: &FeedbackOptions,
    retries: u32,
) -> Outcome {
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
        Err(err) => return Outcome::Failed(None, err.to_string()),
    };
    let mut status = None;
    let mut last_error = String::from("not attempted");
    for attempt in 0..=retries {
        let backoff = options.backoff.saturating_mul(1 << attempt.min(16));
        let jitter = Duration::from_nanos(random_u64() % (backoff.as_nanos() as u64 + 1));
        let mut wait = backoff + jitter;
        let mut request = client
            .post(&url)
            .header("Idempotency-Key", key)
            .json(payload);
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
                        let parsed = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null);
                        let id = parsed["id"].as_i64();
                        let gap = parsed
                            .get("gap")
                            .filter(|g| g["id"].is_i64() && g["reports"].is_i64())
                            .and_then(|g| serde_json::from_value::<KnownGap>(g.clone()).ok());
                        let mut result = FeedbackResult::new(recorded_reply(id, gap.as_ref()));
                        result.delivered = true;
                        result.report_id = id;
                        result.status = status;
                        result.gap = gap;
                        return Outcome::Delivered(result);
                    }
                    400 | 422 => {
                        let details = issues_text(&body, code);
                        let mut result = FeedbackResult::new(
                            FEEDBACK_REPLY_INVALID.replace("{details}", &details),
                        );
                        result.status = status;
                        result.error = Some(details);
                        result.invalid = true;
                        return Outcome::Invalid(result);
                    }
                    429 | 500..=599 => {
                        last_error = format!("the feedback service answered {code}");
                        if let Some(honoured) =
                            retry_after(header.as_ref(), options.max_retry_after)
                        {
                            wait = honoured;
                        }
                    }
                    // 401/403/404/413…: a setup problem, not the report's fault: keep it for later.
                    _ => return Outcome::Failed(status, issues_text(&body, code)),
                }
            }
        }
        if attempt < retries {
            tokio::time::sleep(wait).await;
        }
    }
    Outcome::Failed(status, last_error)
}

/// Deliver one report given as JSON (what the tool handler sends), or keep it in the
/// outbox. Never panics into the caller, never writes to stdout.
pub async fn send_feedback_value(payload: Value, options: &FeedbackOptions) -> FeedbackResult {
    let key = idempotency_key();
    match post_report(&payload, &key, options, options.retries).await {
        Outcome::Delivered(result) => {
            // A report delivered now is a sign the sidecar is back: send what waits, too.
            if let Some(flusher) = existing_flusher(&options.outbox()) {
                flusher.soon();
            }
            result
        }
        Outcome::Invalid(result) => result,
        Outcome::Failed(status, reason) => keep(&payload, &key, status, reason, options),
    }
}

fn keep(
    payload: &Value,
    key: &str,
    status: Option<u16>,
    reason: String,
    options: &FeedbackOptions,
) -> FeedbackResult {
    let line = |mode: &str| {
        let (kept, replaced) = scrub_for_keeping(payload, mode);
        let mut line = kept.as_object().cloned().unwrap_or_default();
        line.insert("idempotency_key".to_owned(), Value::String(key.to_owned()));
        (
            serde_json::to_string(&Value::Object(line)).unwrap_or_default(),
            replaced,
        )
    };
    let mode = options.privacy_mode();
    let (encoded, replaced) = line(mode);
    let path = options.outbox();
    let mut result = FeedbackResult::new(FEEDBACK_REPLY_QUEUED.to_owned());
    result.unsent = true;
    result.status = status;
    // One write of one line each; a failing stderr is ignored rather than panicking like eprintln!.
    let mut stderr = std::io::stderr();
    match outbox_append(&path, &encoded) {
        Ok(()) => {
            let _ = stderr.write_all(
                format!(
                    "patchworkmcp: feedback not delivered ({reason}); kept in the outbox {}{}\n",
                    path.display(),
                    if replaced.is_empty() {
                        String::new()
                    } else {
                        format!(" (privacy {mode} replaced {})", replaced.join("; "))
                    }
                )
                .as_bytes(),
            );
            result.outbox = Some(path);
            flusher_for(options).later();
        }
        Err(err) => {
            // Even the outbox failed: stderr is the last place `patchworkmcp replay` can read it from.
            let (last_resort, _) = line("secrets+pii");
            let _ = stderr.write_all(
                format!(
                    "patchworkmcp: the outbox {} could not be written ({err})\n{UNSENT_FEEDBACK_MARKER} {last_resort}\n",
                    path.display()
                )
                .as_bytes(),
            );
        }
    }
    result.error = Some(reason);
    result
}

// ---- privacy: what is scrubbed before a report is kept (drop-ins/spec/privacy.json) ---------
//
// The sidecar scrubs every report with its full rule set (secretlint's preset among them) before
// it stores it; a report this process keeps (the outbox, the stderr line) never reaches it first,
// so it is scrubbed here with a portable subset of those rules, to the same placeholders.
// FEEDBACK_PRIVACY (or `FeedbackOptions::privacy`): off, secrets, secrets+pii (the default; an
// unknown value counts as the default, never as off). The stderr line of last resort is always
// scrubbed with secrets+pii.

/// The modes a kept report is scrubbed with.
pub const PRIVACY_MODES: [&str; 3] = ["off", "secrets", "secrets+pii"];
pub const DEFAULT_PRIVACY_MODE: &str = "secrets+pii";
/// The free-text fields scrubbed (the sidecar's SCRUBBED_FIELDS).
pub const SCRUBBED_FIELDS: [&str; 4] = ["what_i_needed", "what_i_tried", "suggestion", "user_goal"];

/// ASCII characters that must not touch a match: letters, digits, and the bytes in `extra`.
#[derive(Clone, Copy)]
struct Chars {
    alpha: bool,
    digit: bool,
    extra: &'static [u8],
}

impl Chars {
    fn has(self, b: u8) -> bool {
        (self.alpha && b.is_ascii_alphabetic())
            || (self.digit && b.is_ascii_digit())
            || self.extra.contains(&b)
    }
}

const fn chars(alpha: bool, digit: bool, extra: &'static [u8]) -> Option<Chars> {
    Some(Chars {
        alpha,
        digit,
        extra,
    })
}

const WORD: Option<Chars> = chars(true, true, b"_");

/// Group 1 of `pattern` is a prefix left in place, group 2 the value replaced (what follows it
/// in the match stays too). `not_before` / `not_after` are characters that must not touch the
/// match (the sidecar's lookarounds), `dot_digit_after` refuses a match followed by ".<digit>",
/// and `accept` checks the value.
struct ScrubRule {
    name: &'static str,
    pii: bool,
    pattern: regex::Regex,
    not_before: Option<Chars>,
    not_after: Option<Chars>,
    dot_digit_after: bool,
    accept: Option<fn(&str) -> bool>,
}

const SECRET_KEY_WORDS: &str = "api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|private[_-]?key|access[_-]?token|auth[_-]?token|\
refresh[_-]?token|id[_-]?token|session[_-]?token|token|secret|password|passwd|pwd|passphrase|credentials?";
const HARMLESS_IPS: [&str; 6] = [
    "127.0.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "0:0:0:0:0:0:0:1",
    "0:0:0:0:0:0:0:0",
];

fn count_digits(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match i % 2 {
                1 if d * 2 > 9 => d * 2 - 9,
                1 => d * 2,
                _ => d,
            }
        })
        .sum();
    sum % 10 == 0
}

fn card(value: &str) -> bool {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (13..=19).contains(&digits.len()) && luhn(&digits)
}

fn phone(value: &str) -> bool {
    let n = count_digits(value);
    if value.starts_with('+') {
        (8..=15).contains(&n)
    } else if value.starts_with('0') {
        (9..=12).contains(&n)
    } else {
        n == 10
    }
}

/// Standard base64 without padding, or None.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Base64 (padding optional) that decodes to `user:password`.
fn basic_credentials(value: &str) -> bool {
    let bare = value.trim_end_matches('=');
    if bare.len() % 4 == 1 {
        return false;
    }
    let Some(decoded) = base64_decode(bare).and_then(|d| String::from_utf8(d).ok()) else {
        return false;
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return false;
    };
    let user_ok =
        (1..=200).contains(&user.chars().count()) && !user.chars().any(char::is_whitespace);
    user_ok && password.chars().next().is_some_and(|c| !c.is_whitespace())
}

fn ipv4(value: &str) -> bool {
    let octets_ok = value.split('.').all(|o| {
        !o.is_empty()
            && o.len() <= 3
            && (o == "0" || !o.starts_with('0'))
            && o.parse::<u16>().is_ok_and(|n| n <= 255)
    });
    octets_ok && !HARMLESS_IPS.contains(&value)
}

fn ipv6(value: &str) -> bool {
    value.matches(':').count() >= 2
        && value.parse::<std::net::Ipv6Addr>().is_ok()
        && !HARMLESS_IPS.contains(&value.to_ascii_lowercase().as_str())
}

fn scrub_rules() -> &'static [ScrubRule] {
    static RULES: OnceLock<Vec<ScrubRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |name, pii, pattern: &str, not_before, not_after, dot_digit_after, accept| ScrubRule {
            name,
            pii,
            pattern: regex::Regex::new(pattern).expect("a scrub rule compiles"),
            not_before,
            not_after,
            dot_digit_after,
            accept,
        };
        let secret_key = format!(r#"["']?[A-Za-z0-9_.-]*(?:{SECRET_KEY_WORDS})["']?\s*(?:=>|=|:)\s*"#);
        let key_start = chars(true, true, b"[");
        vec![
            rule("github", false, r"()((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}|github_pat_[A-Za-z0-9_]{82})", chars(true, false, b""), WORD, false, None),
            rule("slack", false, r"()((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:[0-9]-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40})", WORD, WORD, false, None),
            rule("aws", false, r"()((?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16})", WORD, WORD, false, Some(|v| v != "AKIAIOSFODNN7EXAMPLE")),
            rule("npm", false, r"()(npm_[A-Za-z0-9_]{36})", chars(true, false, b""), WORD, false, None),
            rule(
                "openai",
                false,
                r"()(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})",
                None,
                WORD,
                false,
                None,
            ),
            rule("anthropic", false, r"()(sk-ant-api0[0-9]-[A-Za-z0-9_-]{90,128}AA)", None, chars(true, true, b"_-"), false, None),
            // A truncated key (no END line) is replaced to the end of its field.
            rule(
                "private_key",
                false,
                r"()(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*))",
                None,
                None,
                false,
                None,
            ),
            // "bearer authentication" is prose; a token has a digit or is long.
            rule("bearer", false, r"(?i)(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)", WORD, None, false, Some(|v| count_digits(v) > 0 || v.len() >= 20)),
            rule("basic_auth", false, r"(?i)(basic\s+)([A-Za-z0-9+/]{6,}={0,2})", WORD, None, false, Some(basic_credentials)),
            rule("authorization", false, r#"(?i)((?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^\s"',;]{8,})"#, WORD, None, false, None),
            rule("jwt", false, r"()(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", WORD, None, false, None),
            // key=value secrets: a quoted value is replaced inside its quotes.
            rule("key_value", false, &format!(r#"(?i)({secret_key}")((?:[^"\\\n]|\\.){{1,500}})""#), key_start, None, false, None),
            rule("key_value", false, &format!(r#"(?i)({secret_key}')([^'\n]{{1,500}})'"#), key_start, None, false, None),
            rule("key_value", false, &format!(r#"(?i)({secret_key})([^\s"',;&<>()\[\]{{}}]{{1,500}})"#), key_start, None, false, None),
            rule(
                "email",
                true,
                r"()([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})",
                None,
                chars(true, true, b"-"),
                false,
                None,
            ),
            rule("card", true, r"()([2-6](?:[ -]?[0-9]){12,18})", chars(false, true, b".-"), chars(false, true, b"-"), true, Some(card)),
            rule(
                "phone",
                true,
                r"()(\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,6}|(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}|0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4})",
                chars(true, true, b"_+."),
                chars(true, true, b"_-"),
                true,
                Some(phone),
            ),
            rule("ip", true, r"()((?:[0-9]{1,3}\.){3}[0-9]{1,3})", chars(true, true, b"_."), WORD, true, Some(ipv4)),
            rule("ip", true, r"()([0-9A-Fa-f:]{2,39})", chars(true, true, b"_:."), chars(true, true, b"_:"), true, Some(ipv6)),
        ]
    })
}

fn touches(text: &str, at: Option<usize>, chars: Option<Chars>) -> bool {
    match (at.and_then(|i| text.as_bytes().get(i)), chars) {
        (Some(&b), Some(chars)) => chars.has(b),
        _ => false,
    }
}

/// `text` scrubbed for `mode`, and how many matches of each rule it replaced (in order of first match).
pub fn scrub_text(text: &str, mode: &str) -> (String, Vec<(&'static str, usize)>) {
    if mode == "off" || text.is_empty() {
        return (text.to_owned(), Vec::new());
    }
    let mut hits: Vec<(usize, usize, &ScrubRule)> = Vec::new();
    for rule in scrub_rules() {
        if rule.pii && mode != "secrets+pii" {
            continue;
        }
        for m in rule.pattern.captures_iter(text) {
            let (whole, value) = (m.get(0).expect("match"), m.get(2).expect("group 2"));
            let after = whole.end();
            if value.is_empty()
                || touches(text, whole.start().checked_sub(1), rule.not_before)
                || touches(text, Some(after), rule.not_after)
            {
                continue;
            }
            let bytes = text.as_bytes();
            if rule.dot_digit_after
                && bytes.get(after) == Some(&b'.')
                && bytes.get(after + 1).is_some_and(u8::is_ascii_digit)
            {
                continue;
            }
            if rule.accept.is_some_and(|accept| !accept(value.as_str())) {
                continue;
            }
            hits.push((value.start(), value.end(), rule));
        }
    }
    // Overlaps: the earliest match wins, the longest of those, the first rule of equals.
    hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = String::with_capacity(text.len());
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut at = 0;
    for (start, end, rule) in hits {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        match rule.name {
            name if rule.pii => out.push_str(&format!("[{name}]")),
            name => out.push_str(&format!("[secret:{name}]")),
        }
        at = end;
        match counts.iter_mut().find(|(name, _)| *name == rule.name) {
            Some((_, n)) => *n += 1,
            None => counts.push((rule.name, 1)),
        }
    }
    out.push_str(&text[at..]);
    (out, counts)
}

/// The report as it may be kept: its free-text fields scrubbed and cut back to their limits (a
/// placeholder can be longer than what it replaced), and which rules fired where
/// (`github ×1 in what_i_tried`), never what they replaced.
pub fn scrub_for_keeping(payload: &Value, mode: &str) -> (Value, Vec<String>) {
    let mut out = payload.clone();
    let mut replaced = Vec::new();
    let schema = tool_input_schema();
    if let Some(fields) = out.as_object_mut() {
        for field in SCRUBBED_FIELDS {
            let Some(Value::String(value)) = fields.get(field) else {
                continue;
            };
            let (text, counts) = scrub_text(value, mode);
            if counts.is_empty() {
                continue;
            }
            let max = schema["properties"][field]["maxLength"]
                .as_u64()
                .unwrap_or(u64::MAX);
            fields.insert(
                field.to_owned(),
                Value::String(clip(&text, usize::try_from(max).unwrap_or(usize::MAX))),
            );
            replaced.extend(
                counts
                    .iter()
                    .map(|(rule, n)| format!("{rule} ×{n} in {field}")),
            );
        }
    }
    (out, replaced)
}

// ---- the outbox (the proxy's format and lock: proxy/outbox.ts) ------------------------------

const LOCK_STALE: Duration = Duration::from_secs(30);
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// (payload, idempotency key) of each entry waiting; a line without its own key is left to `replay`.
pub fn read_outbox(path: &Path) -> std::io::Result<Vec<(Value, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut entries = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(UNSENT_FEEDBACK_MARKER) else {
            continue;
        };
        let Ok(Value::Object(mut map)) =
            serde_json::from_str::<Value>(line[at + UNSENT_FEEDBACK_MARKER.len()..].trim())
        else {
            continue;
        };
        if let Some(Value::String(key)) = map
            .remove("idempotency_key")
            .filter(|k| k.as_str().is_some_and(|s| !s.is_empty()))
        {
            entries.push((Value::Object(map), key));
        }
    }
    Ok(entries)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.ino() == b.ino() && a.dev() == b.dev()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.modified().ok() == b.modified().ok() && a.len() == b.len()
}

/// Rename the lock aside (only one process gets it), check it is the one meant, else link it back.
fn remove_lock_if(lock: &Path, is_the_one: &dyn Fn(&std::fs::Metadata) -> bool) {
    match std::fs::metadata(lock) {
        Ok(held) if is_the_one(&held) => {}
        _ => return,
    }
    let aside = PathBuf::from(format!(
        "{}.{}.{:08x}",
        lock.display(),
        std::process::id(),
        random_u64() as u32
    ));
    if std::fs::rename(lock, &aside).is_err() {
        return;
    }
    if let Ok(moved) = std::fs::metadata(&aside) {
        if !is_the_one(&moved) {
            let _ = std::fs::hard_link(&aside, lock); // a newer lock taken meanwhile stands
        }
    }
    let _ = std::fs::remove_file(&aside);
}

/// Run `work` under `<outbox>.lock` (exclusive create); a lock older than 30 s is taken over.
fn with_lock<T>(path: &Path, work: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let mine = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break std::fs::metadata(&lock)?,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                remove_lock_if(&lock, &|held| {
                    held.modified()
                        .ok()
                        .and_then(|m| SystemTime::now().duration_since(m).ok())
                        .is_some_and(|age| age > LOCK_STALE)
                });
                if std::time::Instant::now() > deadline {
                    return Err(std::io::Error::other(format!(
                        "the outbox {} stayed locked (remove {} if no process runs)",
                        path.display(),
                        lock.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20 + random_u64() % 30));
            }
            Err(err) => return Err(err),
        }
    };
    let result = work();
    remove_lock_if(&lock, &|held| same_file(held, &mine));
    result
}

fn fsync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(file) = std::fs::File::open(dir) {
            let _ = file.sync_all();
        }
    }
}

fn outbox_append(path: &Path, encoded: &str) -> std::io::Result<()> {
    with_lock(path, || {
        let created = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        file.write_all(format!("{UNSENT_FEEDBACK_MARKER} {encoded}\n").as_bytes())?;
        file.sync_all()?;
        if created {
            fsync_dir(path);
        }
        Ok(())
    })
}

/// Drop the lines of these keys: rewrite to a temp file, rename it over (atomic).
fn outbox_remove(path: &Path, keys: &HashSet<String>) -> std::io::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    with_lock(path, || {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err),
        };
        let kept: Vec<&str> = text
            .split('\n')
            .filter(|line| !line.trim().is_empty())
            .filter(|line| {
                let Some(at) = line.find(UNSENT_FEEDBACK_MARKER) else {
                    return true;
                };
                let value =
                    serde_json::from_str::<Value>(line[at + UNSENT_FEEDBACK_MARKER.len()..].trim())
                        .unwrap_or(Value::Null);
                !value["idempotency_key"]
                    .as_str()
                    .is_some_and(|k| keys.contains(k))
            })
            .collect();
        let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
        {
            let mut file = std::fs::File::create(&tmp)?;
            if !kept.is_empty() {
                file.write_all(format!("{}\n", kept.join("\n")).as_bytes())?;
            }
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        fsync_dir(path);
        Ok(())
    })
}

/// Re-sends one outbox from a tokio task, backing off while the sidecar stays away.
struct OutboxFlusher {
    options: FeedbackOptions,
    path: PathBuf,
    running: Mutex<bool>,
    wake: tokio::sync::Notify,
}

fn flushers() -> &'static Mutex<HashMap<PathBuf, &'static OutboxFlusher>> {
    static FLUSHERS: OnceLock<Mutex<HashMap<PathBuf, &'static OutboxFlusher>>> = OnceLock::new();
    FLUSHERS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn existing_flusher(path: &Path) -> Option<&'static OutboxFlusher> {
    flushers().lock().ok()?.get(path).copied()
}

fn flusher_for(options: &FeedbackOptions) -> &'static OutboxFlusher {
    let path = options.outbox();
    let mut all = flushers().lock().unwrap_or_else(|e| e.into_inner());
    all.entry(path.clone()).or_insert_with(|| {
        // One per outbox file for the life of the process.
        Box::leak(Box::new(OutboxFlusher {
            options: options.clone(),
            path,
            running: Mutex::new(false),
            wake: tokio::sync::Notify::new(),
        }))
    })
}

/// Start re-sending what an earlier run left in the outbox (feedback_tool_route does this).
pub fn resume_outbox(options: &FeedbackOptions) {
    if read_outbox(&options.outbox()).is_ok_and(|e| !e.is_empty()) {
        flusher_for(options).soon();
    }
}

impl OutboxFlusher {
    fn soon(&'static self) {
        self.start(Duration::ZERO);
        self.wake.notify_one();
    }

    fn later(&'static self) {
        self.start(self.options.outbox_retry);
    }

    fn start(&'static self, first: Duration) {
        // Outside a tokio runtime there is nobody to re-send: the outbox waits for the next run or `replay`.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if !*running {
            *running = true;
            runtime.spawn(self.run(first));
        }
    }

    async fn run(&'static self, first: Duration) {
        let base = self.options.outbox_retry;
        let mut delay = first;
        loop {
            tokio::select! {
                _ = self.wake.notified() => delay = base,
                _ = tokio::time::sleep(delay) => {}
            }
            if self.flush_once().await {
                *self.running.lock().unwrap_or_else(|e| e.into_inner()) = false;
                return;
            }
            delay = (delay.max(base) * 2).min(Duration::from_secs(300));
        }
    }

    /// Send every waiting entry once; false while the sidecar cannot be reached.
    async fn flush_once(&self) -> bool {
        let Ok(entries) = read_outbox(&self.path) else {
            return false;
        };
        let mut delivered = HashSet::new();
        let mut reachable = true;
        for (payload, key) in entries {
            match post_report(&payload, &key, &self.options, 0).await {
                Outcome::Delivered(_) => {
                    delivered.insert(key);
                }
                Outcome::Invalid(_) => {} // refused for its content: left for a human and `replay`
                Outcome::Failed(..) => {
                    reachable = false;
                    break;
                }
            }
        }
        let count = delivered.len();
        if outbox_remove(&self.path, &delivered).is_err() {
            return false;
        }
        if count > 0 {
            let _ = std::io::stderr().write_all(
                format!(
                    "patchworkmcp: delivered {count} report(s) from the outbox {}\n",
                    self.path.display()
                )
                .as_bytes(),
            );
        }
        reachable
    }
}
