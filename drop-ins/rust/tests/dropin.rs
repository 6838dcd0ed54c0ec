//! Native test of feedback_tool.rs with rmcp's real server and client over an
//! in-memory duplex pipe, against a real sidecar. Run by dropin.test.ts in three
//! phases: `up_` (sidecar up), `down_` (sidecar stopped) and `outbox_` (sidecar away
//! until the report is in the outbox); see drop-ins/harness.ts.

use std::path::PathBuf;
use std::time::Duration;

use patchworkmcp_feedback_dropin::billing::Billing;
use patchworkmcp_feedback_dropin::feedback_tool::*;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, JsonObject,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

fn spec(name: &str) -> Value {
    let dir = std::env::var("PWM_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../spec"));
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("spec file"))
        .expect("spec json")
}

fn full(session: Option<&str>) -> JsonObject {
    let vectors = spec("vectors.json");
    let vector = vectors["valid"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "full")
        .unwrap();
    let mut input = vector["input"].as_object().unwrap().clone();
    if let Some(session) = session {
        input.insert("session_id".into(), Value::String(session.into()));
    }
    input
}

fn reply(name: &str) -> String {
    spec("replies.json")[name].as_str().unwrap().to_owned()
}

fn fast(url: Option<String>) -> FeedbackOptions {
    FeedbackOptions {
        sidecar_url: url,
        backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(50),
        outbox_retry: Duration::from_millis(50),
        ..Default::default()
    }
}

/// The name every native test gives its MCP client (see drop-ins/harness.ts).
fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("pwm-dropin-client", "1.2.3"),
    )
}

fn is_recorded(text: &str) -> bool {
    let template = reply("recorded");
    let (head, tail) = template.split_once("{id}").unwrap();
    text.strip_prefix(head)
        .and_then(|rest| rest.strip_suffix(tail))
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
}

async fn connect(options: FeedbackOptions) -> RunningService<RoleClient, ClientConfig> {
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = Billing::new(options).serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    client_config()
        .serve(client_io)
        .await
        .expect("client initializes")
}

async fn call_feedback(
    client: &RunningService<RoleClient, ClientConfig>,
    args: JsonObject,
) -> String {
    let result = client
        .call_tool(CallToolRequestParams::new(FEEDBACK_TOOL_NAME).with_arguments(args))
        .await
        .expect("call");
    let content = serde_json::to_value(&result.content).unwrap();
    assert_eq!(content.as_array().unwrap().len(), 1);
    content[0]["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn up_tools_list_and_instructions_are_the_spec() {
    let client = connect(fast(None)).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.instructions.as_deref(),
        Some(spec("instructions.json")["instructions"].as_str().unwrap())
    );
    let tools = client.list_all_tools().await.expect("tools/list");
    let listed = tools
        .iter()
        .find(|t| t.name == FEEDBACK_TOOL_NAME)
        .expect("feedback listed");
    assert_eq!(serde_json::to_value(listed).unwrap(), spec("tool.json"));
    assert_eq!(
        serde_json::from_str::<Value>(FEEDBACK_INPUT_SCHEMA).unwrap(),
        spec("tool.json")["inputSchema"]
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn up_delivers_through_the_client() {
    let client = connect(fast(None)).await;
    let text = call_feedback(&client, full(None)).await;
    assert!(is_recorded(&text), "{text}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn up_retries_a_lost_ack_with_one_key() {
    let payload: FeedbackPayload =
        serde_json::from_value(Value::Object(full(Some("retry-after-lost-ack")))).unwrap();
    let result = deliver_feedback(&payload, &fast(std::env::var("PWM_FLAKY_URL").ok())).await;
    assert!(
        result.delivered && result.status == Some(200) && is_recorded(&result.reply),
        "{result:?}"
    );
}

#[tokio::test]
async fn up_valid_vectors_are_delivered() {
    let vectors = spec("vectors.json");
    for vector in vectors["valid"].as_array().unwrap() {
        if vector["name"] == "full" {
            continue;
        }
        let mut input = vector["input"].as_object().unwrap().clone();
        input.insert(
            "session_id".into(),
            Value::String(format!("vector:{}", vector["name"].as_str().unwrap())),
        );
        let options = FeedbackOptions::default();
        let result = send_feedback_value(build_payload(&input, &options), &options).await;
        assert!(
            result.delivered && is_recorded(&result.reply),
            "{}: {result:?}",
            vector["name"]
        );
    }
}

#[tokio::test]
async fn up_invalid_vectors_get_the_spec_reply() {
    let vectors = spec("vectors.json");
    let mut checked = 0;
    for vector in vectors["invalid"].as_array().unwrap() {
        let Some(input) = vector["input"].as_object() else {
            continue;
        };
        let details: Vec<String> = vector["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i["field"].as_str().unwrap(),
                    i["message"].as_str().unwrap()
                )
            })
            .collect();
        let want = reply("invalid").replace("{details}", &details.join("; "));
        let result = send_feedback_value(build_payload(input, &fast(None)), &fast(None)).await;
        assert_eq!(result.reply, want, "{}", vector["name"]);
        assert!(!result.delivered && !result.unsent && result.invalid);
        checked += 1;
    }
    assert!(checked >= 8);
}

#[test]
fn up_payload_types_read_liberal_tool_lists() {
    for (input, want) in [
        (serde_json::json!(null), vec![]),
        (serde_json::json!("a, b"), vec!["a", "b"]),
        (serde_json::json!("[\"a\",\"b\"]"), vec!["a", "b"]),
        (serde_json::json!(["a", "b"]), vec!["a", "b"]),
    ] {
        let payload: FeedbackPayload = serde_json::from_value(serde_json::json!({
            "what_i_needed": "x", "what_i_tried": "y", "gap_type": "other", "tools_available": input
        }))
        .unwrap();
        assert_eq!(payload.tools_available, want);
        assert!(serde_json::to_value(&payload).unwrap()["tools_available"].is_array());
    }
}

fn kept_in_the_outbox(session: &str) {
    let outbox = PathBuf::from(std::env::var("FEEDBACK_OUTBOX").expect("FEEDBACK_OUTBOX"));
    let entries = read_outbox(&outbox).expect("outbox readable");
    assert!(
        entries.iter().any(|(p, _)| p["session_id"] == session),
        "no outbox entry for {session}: {entries:?}"
    );
}

#[tokio::test]
async fn up_fills_in_the_context_the_server_knows() {
    let client = connect(fast(None)).await;
    let full = full(None);
    let mut args = JsonObject::new();
    for field in ["what_i_needed", "what_i_tried", "gap_type"] {
        args.insert(field.into(), full[field].clone());
    }
    args.insert("user_goal".into(), Value::String("context-check".into()));
    let text = call_feedback(&client, args).await;
    assert!(is_recorded(&text), "{text}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn up_echoes_a_known_gap_in_the_spec_words() {
    let client = connect(fast(std::env::var("PWM_ECHO_URL").ok())).await;
    for vector in spec("echo.json")["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let gap: KnownGap = serde_json::from_value(vector["gap"].clone()).unwrap();
        assert_eq!(
            known_gap_sentence(&gap),
            vector["sentence"].as_str().unwrap(),
            "{name}"
        );
        let text = call_feedback(&client, full(Some(&format!("echo:{name}")))).await;
        assert_eq!(text, vector["reply"].as_str().unwrap(), "{name}");
    }
    client.cancel().await.ok();
}

/// The original README's Rust snippet and the original drop-in's names. The README calls
/// `send_feedback(&payload)`, but the original's own signature (and its Rust README) take
/// `opts: Option<&Options>` as well, so the snippet passes `None`.
#[tokio::test]
async fn up_the_original_api_works_unchanged() {
    assert_eq!(TOOL_NAME, spec("tool.json")["name"]);
    assert_eq!(TOOL_DESCRIPTION, spec("tool.json")["description"]);
    assert_eq!(tool_input_schema(), spec("tool.json")["inputSchema"]);

    // In your tool handler:
    let args = Value::Object(full(Some("migration:readme")));
    let payload = payload_from_args(&args, "my-server");
    let message = send_feedback(&payload, None).await;
    assert!(is_recorded(&message), "{message}");
    assert_eq!(payload.server_name.as_deref(), Some("my-server"));

    let opts = Options {
        sidecar_url: std::env::var("FEEDBACK_SIDECAR_URL").ok(),
        api_key: std::env::var("FEEDBACK_API_KEY").ok(),
        ..Default::default()
    };
    let payload = payload_from_args(
        &Value::Object(full(Some("migration:with-options"))),
        "my-server",
    );
    let message: String = send_feedback(&payload, Some(&opts)).await;
    assert!(is_recorded(&message), "{message}");
}

#[tokio::test]
async fn down_tool_call_keeps_the_report_for_replay() {
    let client = connect(fast(None)).await;
    let text = call_feedback(&client, full(Some("sidecar-down"))).await;
    assert_eq!(text, reply("queued"));
    client.cancel().await.ok();
    kept_in_the_outbox("sidecar-down");
}

#[tokio::test]
async fn down_stops_after_two_retries_on_503() {
    let mut options = fast(std::env::var("PWM_DOWN_URL").ok());
    options.outbox_retry = Duration::from_secs(3600);
    let result = send_feedback_value(Value::Object(full(Some("always-503"))), &options).await;
    assert!(
        result.unsent && !result.delivered && result.status == Some(503),
        "{result:?}"
    );
    assert_eq!(result.reply, reply("queued"));
    assert_eq!(
        result.outbox,
        std::env::var("FEEDBACK_OUTBOX").ok().map(PathBuf::from)
    );
    kept_in_the_outbox("always-503");
}

#[tokio::test]
async fn outbox_is_re_sent_in_the_background() {
    let client = connect(fast(None)).await;
    let text = call_feedback(&client, full(Some("outbox-resend"))).await;
    assert_eq!(text, reply("queued"));
    let outbox = PathBuf::from(std::env::var("FEEDBACK_OUTBOX").unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !read_outbox(&outbox).unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox was not re-sent within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.cancel().await.ok();
}

/// Keeps one report (the first privacy.json report, mode `off`) with an outbox that cannot be
/// written, so its line goes to stderr: the child process of `down_scrubs_what_it_keeps`.
/// Run by anything else (no PWM_LAST_RESORT_OUTBOX), it does nothing.
#[tokio::test]
async fn as_a_child_keep_one_report_without_an_outbox() {
    let Ok(outbox) = std::env::var("PWM_LAST_RESORT_OUTBOX") else {
        return;
    };
    let report = spec("privacy.json")["reports"][0]["input"].clone();
    let options = FeedbackOptions {
        sidecar_url: Some("http://127.0.0.1:9".into()),
        retries: 0,
        outbox_path: Some(PathBuf::from(outbox)),
        outbox_retry: Duration::from_secs(3600),
        privacy: Some("off".into()),
        ..Default::default()
    };
    assert!(send_feedback_value(report, &options).await.unsent);
}

/// Every privacy.json text; each report as its outbox line holds it (nothing listens on port 9,
/// so every report is kept); the stderr line of last resort, with secrets+pii whatever the mode,
/// when the outbox cannot be written (a file stands where its folder would be), read from a
/// child process.
#[tokio::test]
async fn down_scrubs_what_it_keeps() {
    let privacy = spec("privacy.json");
    let fields: Vec<&str> = privacy["scrubbed_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(fields, SCRUBBED_FIELDS);
    for t in privacy["texts"].as_array().unwrap() {
        let (out, _) = scrub_text(t["input"].as_str().unwrap(), t["mode"].as_str().unwrap());
        assert_eq!(out, t["output"].as_str().unwrap(), "{}", t["name"]);
    }
    let pick = |payload: &Value| -> Value {
        fields
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    payload.get(*f).cloned().unwrap_or(Value::Null),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let dir = std::env::temp_dir().join(format!("pwm-privacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for r in privacy["reports"].as_array().unwrap() {
        let outbox = dir.join(format!("{}.log", r["name"].as_str().unwrap()));
        let options = FeedbackOptions {
            sidecar_url: Some("http://127.0.0.1:9".into()),
            retries: 0,
            outbox_path: Some(outbox.clone()),
            outbox_retry: Duration::from_secs(3600),
            privacy: r["mode"].as_str().map(str::to_owned),
            ..Default::default()
        };
        assert!(
            send_feedback_value(r["input"].clone(), &options)
                .await
                .unsent
        );
        let entries = read_outbox(&outbox).unwrap();
        assert_eq!(entries.len(), 1, "{}", r["name"]);
        assert_eq!(pick(&entries[0].0), r["kept"], "{}", r["name"]);
    }
    std::fs::write(dir.join("not-a-folder"), "").unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "as_a_child_keep_one_report_without_an_outbox",
            "--nocapture",
        ])
        .env(
            "PWM_LAST_RESORT_OUTBOX",
            dir.join("not-a-folder").join("outbox.log"),
        )
        .output()
        .unwrap();
    assert!(child.status.success(), "{child:?}");
    let stderr = String::from_utf8(child.stderr).unwrap();
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{UNSENT_FEEDBACK_MARKER} ")))
        .unwrap_or_else(|| panic!("no unsent line on stderr: {stderr}"));
    let report = &privacy["reports"][0];
    assert_eq!(report["mode"], privacy["last_resort"]);
    assert_eq!(pick(&serde_json::from_str(line).unwrap()), report["kept"]);
    std::fs::remove_dir_all(&dir).ok();
}
