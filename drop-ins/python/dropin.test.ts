/**
 * The Python drop-in (feedback_tool.py) with the real `mcp` SDK from PyPI:
 * mcp 2.x (MCPServer + low-level Server) in .venv and mcp 1.x (FastMCP) in
 * .venv-mcp1, both installed by scripts/setup/30-python.sh.
 */
import { join } from "node:path";
import { describeDropin, run } from "../harness.js";

const here = import.meta.dirname;

for (const venv of [".venv", ".venv-mcp1"]) {
  describeDropin(`Python (${venv === ".venv" ? "mcp 2.x" : "mcp 1.x"})`, (phase, env) =>
    run(
      join(here, venv, "bin", "python"),
      ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-k", `test_${phase}`, "test_feedback_tool.py"],
      {
        cwd: here,
        env: { ...env, PYTHONDONTWRITEBYTECODE: "1" },
      },
    ),
  );
}
