/** `patchworkmcp mcp`: the report tools (and `feedback`) over stdio, for Claude Desktop, Claude Code, Cursor. */
import { Option, type Command } from "commander";
import { runStdioServer } from "../mcp/stdio.js";
import { dbOption } from "./options.js";

/** commander treats any defined env var as "on" for plain boolean flags; FEEDBACK_ONLY=0 must mean off. */
function parseYesNo(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["", "0", "false", "no", "off"].includes(v)) return false;
  throw new Error(`"${value}" is not yes or no (1/0, true/false also work)`);
}

interface McpFlags {
  db: string;
  serverName?: string;
  feedbackOnly?: boolean;
}

export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve the report tools (list_reports, get_report, get_stats, add_note, set_status) and feedback over stdio")
    .addOption(dbOption())
    .addOption(new Option("--server-name <name>", "server_name stored for feedback calls that do not name one").env("FEEDBACK_SERVER_NAME"))
    .addOption(
      new Option("--feedback-only [yes|no]", "expose only the feedback tool (an endpoint to hand to agents)")
        .env("FEEDBACK_ONLY")
        .preset("yes")
        .argParser(parseYesNo),
    )
    .action(async (flags: McpFlags) => {
      await runStdioServer({ dbPath: flags.db, defaultServerName: flags.serverName || undefined, feedbackOnly: flags.feedbackOnly === true });
      // Exit once stdout has flushed: open stdin/timers must not keep a finished server alive.
      process.stdout.write("", () => process.exit(0));
    });
}
