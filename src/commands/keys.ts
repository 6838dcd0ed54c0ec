/** `patchworkmcp keys create|list|revoke`: scoped API keys, stored as hashes only. */
import { Option, type Command } from "commander";
import type { FeedbackStore, KeyScope } from "../store/index.js";
import { dbOption } from "./options.js";

/** SQLite loads when a keys command runs, not whenever the CLI starts. */
async function openStore(path: string): Promise<FeedbackStore> {
  const { FeedbackStore } = await import("../store/index.js");
  return FeedbackStore.open(path);
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("manage scoped API keys (ingest, read, admin)");

  keys
    .command("create")
    .description("create a key and print it once (only its hash is stored)")
    .addOption(
      new Option("--scope <scope>", "what the key may do").choices(["ingest", "read", "admin"]).makeOptionMandatory(),
    )
    .option("--name <name>", "a label to recognise the key by")
    .addOption(dbOption())
    .action(async (flags: { scope: KeyScope; name?: string; db: string }) => {
      const store = await openStore(flags.db);
      try {
        const { key, info } = store.createKey(flags.scope, flags.name);
        process.stderr.write(
          `Created ${info.scope} key ${info.id}${info.name ? ` (${info.name})` : ""}. It is shown once; store it now.\n`,
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
    .description("revoke a key by its id")
    .addOption(dbOption())
    .action(async (id: string, flags: { db: string }) => {
      const store = await openStore(flags.db);
      try {
        if (!store.revokeKey(id)) throw new Error(`no active key with id ${id}`);
        process.stderr.write(`Revoked key ${id}.\n`);
      } finally {
        store.close();
      }
    });
}
