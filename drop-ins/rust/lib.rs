#[path = "feedback_tool.rs"]
pub mod feedback_tool;
