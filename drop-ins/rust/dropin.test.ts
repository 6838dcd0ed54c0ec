/**
 * The Rust drop-in (feedback_tool.rs) with rmcp, the official Rust SDK (pinned in
 * Cargo.lock, pre-built by scripts/setup/32-rust.sh): `cargo test` in two phases.
 */
import { describeDropin, run } from "../harness.js";

const here = import.meta.dirname;

describeDropin("Rust (rmcp)", (phase, env) =>
  run(
    "cargo",
    ["test", "--locked", "--quiet", "--test", "dropin", `${phase}_`, "--", "--nocapture", "--test-threads=2"],
    { cwd: here, env },
  ),
);
