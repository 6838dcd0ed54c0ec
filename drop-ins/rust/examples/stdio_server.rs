//! An example MCP server over stdio: billing.rs (wired exactly as docs/drop-ins.md
//! shows) served on rmcp's stdio transport. drop-ins/stdio.test.ts builds it
//! (`cargo build --example stdio_server`) and talks to it as a client would.
//! FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY come from the environment.

use patchworkmcp_feedback_dropin::billing::Billing;
use patchworkmcp_feedback_dropin::feedback_tool::FeedbackOptions;
use rmcp::ServiceExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = Billing::new(FeedbackOptions::default())
        .serve(rmcp::transport::stdio())
        .await?;
    service.waiting().await?;
    Ok(())
}
