//! An example MCP server over stdio wired up exactly as docs/drop-ins.md shows:
//! the server instructions plus the feedback route. drop-ins/stdio.test.ts builds
//! it (`cargo build --example stdio_server`) and talks to it as a client would.
//! FEEDBACK_SIDECAR_URL / FEEDBACK_API_KEY come from the environment.

use patchworkmcp_feedback_dropin::feedback_tool::{
    feedback_tool_route, FeedbackOptions, FEEDBACK_SERVER_INSTRUCTIONS,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler, ServiceExt};

#[derive(Clone)]
struct Billing {
    tools: ToolRouter<Billing>,
}

#[tool_router]
impl Billing {
    fn new() -> Self {
        Self {
            tools: Self::tool_router().with_route(feedback_tool_route(
                "billing-server",
                FeedbackOptions::default(),
            )),
        }
    }

    #[tool(description = "List invoices.")]
    async fn list_invoices(&self) -> String {
        "[]".to_owned()
    }
}

#[tool_handler(router = self.tools)]
impl ServerHandler for Billing {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(FEEDBACK_SERVER_INSTRUCTIONS)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = Billing::new().serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
