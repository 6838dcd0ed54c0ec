#[path = "feedback_tool.rs"]
pub mod feedback_tool;

#[path = "billing.rs"]
pub mod billing;
