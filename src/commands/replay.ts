/**
 * `patchworkmcp replay <file>`: re-send every PATCHWORKMCP_UNSENT_FEEDBACK line
 * of a log (or a proxy outbox) to a sidecar. Each line carries or derives an
 * idempotency key, so replaying twice never stores a report twice.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { sendToSidecar } from "../delivery/sidecar-client.js";
import { parseUnsentLines } from "../delivery/unsent.js";
import { apiKeyOption, sidecarUrlOption } from "./options.js";

export function registerReplay(program: Command): void {
  program
    .command("replay <file>")
    .description('re-send the PATCHWORKMCP_UNSENT_FEEDBACK lines of a log file ("-" reads stdin) to a sidecar')
    .addOption(sidecarUrlOption())
    .addOption(apiKeyOption())
    .action(async (file: string, flags: { sidecarUrl: string; apiKey?: string }) => {
      const text = readFileSync(file === "-" ? 0 : file, "utf8");
      const { entries, errors } = parseUnsentLines(text);
      for (const e of errors) process.stderr.write(`line ${e.line}: skipped, ${e.message}\n`);
      let sent = 0;
      let failed = 0;
      for (const entry of entries) {
        const result = await sendToSidecar({
          baseUrl: flags.sidecarUrl,
          apiKey: flags.apiKey,
          payload: entry.payload,
          idempotencyKey: entry.idempotencyKey,
        });
        if (result.ok) {
          sent++;
          process.stderr.write(
            `line ${entry.line}: delivered as report ${result.id}${result.status === 200 ? " (already recorded)" : ""}\n`,
          );
        } else {
          failed++;
          process.stderr.write(`line ${entry.line}: NOT delivered, ${result.message}\n`);
        }
      }
      process.stderr.write(
        `replay: ${sent} delivered, ${failed} failed, ${errors.length} unreadable, of ${entries.length + errors.length} lines found\n`,
      );
      if (failed > 0 || errors.length > 0) process.exitCode = 1;
    });
}
