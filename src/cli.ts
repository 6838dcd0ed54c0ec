#!/usr/bin/env node
/**
 * The `patchworkmcp` command. Each verb lives in src/commands/ (or proxy/) and
 * registers itself here. In stdio modes (`mcp`, `proxy`) stdout carries only
 * protocol; everything else a command says goes to stderr.
 */
import { Command } from "commander";
import { registerAlerts } from "./commands/alerts.js";
import { registerAutonomy } from "./commands/autonomy.js";
import { registerDraft } from "./commands/draft.js";
import { registerGaps } from "./commands/gaps.js";
import { registerKeys } from "./commands/keys.js";
import { registerMcp } from "./commands/mcp.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerPrivacy } from "./commands/privacy.js";
import { registerProxy } from "../proxy/command.js";
import { registerReplay } from "./commands/replay.js";
import { registerServe } from "./commands/serve.js";
import { registerSync } from "./commands/sync.js";
import { VERSION } from "./version.js";

const program = new Command("patchworkmcp")
  .description("Feedback tools for MCP servers: collect what agents could not do, review it, draft the fix.")
  .version(VERSION)
  .showHelpAfterError();

registerServe(program);
registerKeys(program);
registerMcp(program);
registerReplay(program);
registerDraft(program);
registerGaps(program);
registerSync(program);
registerAutonomy(program);
registerMigrate(program);
registerPrivacy(program);
registerProxy(program);
registerAlerts(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // A store error carries its code separately (CliError's message already starts with its own).
  const code = err instanceof Error && err.name === "StoreError" ? `${(err as { code?: unknown }).code}: ` : "";
  process.stderr.write(`patchworkmcp: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
