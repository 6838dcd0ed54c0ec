/**
 * `patchworkmcp keys create|list|revoke` (scoped API keys, stored as hashes
 * only) and `keys auth on|off|status` (the database's auth mode). Once a key
 * has been created, authentication stays on — revoking the last key does not
 * open the API — until `keys auth off` turns it off. Whoever can run this
 * command on the database file is the local admin, so this is also the way
 * back in when every key is lost.
 */
import { Argument, Option, type Command } from "commander";
import type { FeedbackStore, KeyScope } from "../store/index.js";
import { dbCreateOption, dbOption, requireDbFile } from "./options.js";

/**
 * Open an existing database (SQLite loads when a keys command runs, not
 * whenever the CLI starts). A missing file is a mistyped --db, refused like
 * `mcp` does: keys made in a fresh file would guard nothing `serve` reads.
 * `create` (only offered where setting up a new database makes sense) starts one.
 */
async function openStore(path: string, create?: boolean): Promise<FeedbackStore> {
  requireDbFile(path, create === true, { offerCreate: create !== undefined });
  const { FeedbackStore } = await import("../store/index.js");
  return FeedbackStore.open(path);
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("manage scoped API keys (ingest, read, admin) and the auth mode");

  keys
    .command("create")
    .description("create a key and print it once (only its hash is stored); turns authentication on")
    .addOption(
      new Option("--scope <scope>", "what the key may do").choices(["ingest", "read", "admin"]).makeOptionMandatory(),
    )
    .option("--name <name>", "a label to recognise the key by")
    .addOption(dbOption())
    .addOption(dbCreateOption())
    .action(async (flags: { scope: KeyScope; name?: string; db: string; create?: boolean }) => {
      const { createScopedKey } = await import("../auth/index.js");
      const store = await openStore(flags.db, flags.create ?? false);
      try {
        const { key, info } = createScopedKey(store, flags.scope, flags.name, log);
        log(
          `Created ${info.scope} key ${info.id}${info.name ? ` (${info.name})` : ""}. It is shown once; store it now.`,
        );
        process.stdout.write(`${key}\n`);
      } finally {
        store.close();
      }
    });

  keys
    .command("list")
    .description("list keys (ids, names, scopes; never the secrets)")
    .addOption(dbOption())
    .action(async (flags: { db: string }) => {
      const store = await openStore(flags.db);
      try {
        for (const k of store.listKeys()) {
          process.stdout.write(
            `${k.id}\t${k.scope}\t${k.name ?? "-"}\t${k.created_at}\t${k.revoked_at ? `revoked ${k.revoked_at}` : "active"}\n`,
          );
        }
      } finally {
        store.close();
      }
    });

  keys
    .command("revoke <id>")
    .description("revoke a key by its id (authentication stays on, even with no key left)")
    .addOption(dbOption())
    .action(async (id: string, flags: { db: string }) => {
      const { revokeScopedKey } = await import("../auth/index.js");
      const store = await openStore(flags.db);
      try {
        const { activeKeysLeft } = revokeScopedKey(store, id, log);
        log(`Revoked key ${id}.`);
        if (!activeKeysLeft) {
          log(
            "No active key is left and authentication stays on: only FEEDBACK_API_KEY can use the API now. " +
              "Create a key with `patchworkmcp keys create`, or turn authentication off with `patchworkmcp keys auth off`.",
          );
        }
      } finally {
        store.close();
      }
    });

  keys
    .command("auth")
    .description("show or switch the database's auth mode (off only when no active key exists)")
    .addArgument(new Argument("[mode]", "on, off or status").choices(["on", "off", "status"]).default("status"))
    .addOption(dbOption())
    .addOption(dbCreateOption())
    .action(async (mode: "on" | "off" | "status", flags: { db: string; create?: boolean }) => {
      const { authStatus, switchAuthMode } = await import("../auth/index.js");
      const store = await openStore(flags.db, flags.create ?? false);
      try {
        if (mode !== "status") {
          const { changed } = switchAuthMode(store, mode, log);
          if (!changed) log(`Authentication was already ${mode}.`);
        }
        const status = authStatus(store);
        process.stdout.write(`auth ${status.mode}${status.activeKeys ? " (active keys exist)" : ""}\n`);
        for (const change of status.history) process.stdout.write(`${change.at}\t${change.mode}\t${change.reason}\n`);
      } finally {
        store.close();
      }
    });
}
