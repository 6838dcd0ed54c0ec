/**
 * `patchworkmcp privacy show|set|clear|default`: privacy modes from the command line, on the database
 * `serve` uses (the same setting as `GET/PUT /api/privacy` and `/api/servers/:name/privacy`).
 * The saved default and the overrides are stored data, so they are arguments; --db and --json
 * have their env vars. `serve --privacy` / FEEDBACK_PRIVACY, when set, wins over the saved
 * default in that process (this command cannot see it).
 */
import { Argument, Option, type Command } from "commander";
import { PRIVACY_MODES, type PrivacyMode } from "../privacy/modes.js";
import type { FeedbackStore } from "../store/index.js";
import { dbOption, parseYesNo, requireDbFile } from "./options.js";

async function openStore(path: string): Promise<FeedbackStore> {
  requireDbFile(path, false, { offerCreate: false });
  const { FeedbackStore } = await import("../store/index.js");
  return FeedbackStore.open(path);
}

const jsonOption = () =>
  new Option("--json [yes|no]", "print JSON instead of text")
    .env("FEEDBACK_PRIVACY_JSON")
    .preset("yes")
    .argParser(parseYesNo);

async function withStore(db: string, run: (store: FeedbackStore) => Promise<void>): Promise<void> {
  const store = await openStore(db);
  try {
    await run(store);
  } finally {
    store.close();
  }
}

async function printServer(store: FeedbackStore, server: string, json: boolean | undefined): Promise<void> {
  const { serverPrivacy } = await import("../settings/index.js");
  const view = serverPrivacy(store, server);
  if (json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
  else
    process.stdout.write(
      `${server}: ${view.mode}${view.source === "server" ? "" : ` (the default, ${view.source})`}\n`,
    );
}

async function printAll(store: FeedbackStore, json: boolean | undefined): Promise<void> {
  const { privacyView } = await import("../settings/index.js");
  const view = privacyView(store);
  if (json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  const lines = [`default: ${view.default} (${view.default_source})`];
  for (const s of view.servers) lines.push(`${s.server_name}: ${s.mode}`);
  if (view.servers.length === 0) lines.push("no server has a mode of its own");
  process.stdout.write(`${lines.join("\n")}\n`);
}

export function registerPrivacy(program: Command): void {
  const privacy = program
    .command("privacy")
    .description(
      "privacy modes (off, secrets, secrets+pii): what is scrubbed from reports before they are stored, per server",
    );

  privacy
    .command("show")
    .description("the default mode and every server's own, or one server's mode")
    .argument("[server]", "the server name")
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((server: string | undefined, flags: { db: string; json?: boolean }) =>
      withStore(flags.db, (store) => (server ? printServer(store, server, flags.json) : printAll(store, flags.json))),
    );

  privacy
    .command("set")
    .description("set a server's own mode")
    .argument("<server>", "the server name")
    .addArgument(new Argument("<mode>", "the mode").choices(PRIVACY_MODES))
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (server: string, mode: PrivacyMode, flags: { db: string; json?: boolean }) =>
      withStore(flags.db, async (store) => {
        const { setServerPrivacy } = await import("../settings/index.js");
        setServerPrivacy(store, server, mode);
        await printServer(store, server, flags.json);
      }),
    );

  privacy
    .command("clear")
    .description("remove a server's own mode: the default applies to it again")
    .argument("<server>", "the server name")
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (server: string, flags: { db: string; json?: boolean }) =>
      withStore(flags.db, async (store) => {
        const { setServerPrivacy } = await import("../settings/index.js");
        setServerPrivacy(store, server, null);
        await printServer(store, server, flags.json);
      }),
    );

  privacy
    .command("default")
    .description("save the mode of every server without one of its own (none: back to the built-in secrets+pii)")
    .addArgument(new Argument("<mode>", "the mode, or none").choices([...PRIVACY_MODES, "none"]))
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (mode: PrivacyMode | "none", flags: { db: string; json?: boolean }) =>
      withStore(flags.db, async (store) => {
        const { setPrivacyDefault } = await import("../settings/index.js");
        setPrivacyDefault(store, mode === "none" ? null : mode);
        await printAll(store, flags.json);
      }),
    );
}
