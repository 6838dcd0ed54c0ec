//! The example server, wired exactly as docs/drop-ins.md shows: its own tool plus
//! the feedback route and the server instructions. The native test serves it
//! in-process; examples/stdio_server.rs serves it over stdio.

use crate::feedback_tool::{feedback_tool_route, FeedbackOptions, FEEDBACK_SERVER_INSTRUCTIONS};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler};

#[derive(Clone)]
pub struct Billing {
    tools: ToolRouter<Billing>,
}

#[tool_router]
impl Billing {
    pub fn new(options: FeedbackOptions) -> Self {
        Self {
            tools: Self::tool_router().with_route(feedback_tool_route("billing-server", options)),
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
            .with_server_info(Implementation::new("billing-server", "2.4.1"))
            .with_instructions(FEEDBACK_SERVER_INSTRUCTIONS)
    }
}
