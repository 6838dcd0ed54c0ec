/** `patchworkmcp mcp`: the report tools (and `feedback`) over stdio, for Claude Desktop, Claude Code, Cursor. */
import { Option, type Command } from "commander";
import { dbCreateOption, dbOption, privacyOption, requireDbFile, switchOption } from "./options.js";
import type { PrivacyMode } from "../privacy/modes.js";

interface McpFlags {
  db: string;
  serverName?: string;
  feedbackOnly?: boolean;
  create?: boolean;
  privacy?: PrivacyMode;
}

export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description(
      "serve the report tools (list_reports, get_report, get_stats, add_note, set_status, draft_pr), the gap tools " +
        "(list_gaps, get_gap, update_gap, merge_gaps, split_gap, analyze_gap, create_issue), get_tool_stats and feedback " +
        "over stdio",
    )
    .addOption(dbOption())
    .addOption(dbCreateOption())
    .addOption(
      new Option("--server-name <name>", "server_name stored for feedback calls that do not name one").env(
        "FEEDBACK_SERVER_NAME",
      ),
    )
    .addOption(
      switchOption("--feedback-only", "expose only the feedback tool (an endpoint to hand to agents)", "FEEDBACK_ONLY"),
    )
    .addOption(privacyOption())
    .action(async (flags: McpFlags) => {
      requireDbFile(flags.db, flags.create === true);
      // Loaded on use, like every verb's implementation: `patchworkmcp proxy` should not pay for it.
      const { runStdioServer } = await import("../mcp/stdio.js");
      await runStdioServer({
        dbPath: flags.db,
        defaultServerName: flags.serverName || undefined,
        feedbackOnly: flags.feedbackOnly === true,
        privacy: flags.privacy,
      });
      // Exit once stdout has flushed: open stdin/timers must not keep a finished server alive.
      process.stdout.write("", () => process.exit(0));
    });
}
