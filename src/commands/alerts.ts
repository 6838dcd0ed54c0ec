/**
 * `patchworkmcp alerts destinations|rules|deliveries …`: the same alert configuration as
 * /api/alerts and the dashboard, on the database directly (whoever can open it is the admin).
 * Lists go to stdout as tab-separated lines; a webhook's signing secret is printed once.
 */
import { Option, type Command } from "commander";
import type { FeedbackStore } from "../store/index.js";
import { CliError, dbOption, parseList, requireDbFile } from "./options.js";
import { DEFAULT_SIDECAR_URL } from "../net/sidecar-address.js";

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function withService<T>(
  flags: { db: string; publicUrl?: string },
  fn: (s: import("../alerts/index.js").AlertService, store: FeedbackStore) => T | Promise<T>,
): Promise<T> {
  requireDbFile(flags.db, false, { offerCreate: false });
  const { FeedbackStore } = await import("../store/index.js");
  const { AlertService } = await import("../alerts/index.js");
  const store = FeedbackStore.open(flags.db);
  try {
    return await fn(new AlertService(store, { publicUrl: flags.publicUrl ?? DEFAULT_SIDECAR_URL }), store);
  } catch (err) {
    const { AlertConfigError, AlertSendError } = await import("../alerts/index.js");
    if (err instanceof AlertConfigError || err instanceof AlertSendError) throw new CliError(err.code, err.message);
    throw err;
  } finally {
    store.close();
  }
}

/** Zod's issues as one sentence for the command line. */
async function parse<T>(schema: import("zod").ZodType<T>, input: unknown): Promise<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const { toFieldIssues } = await import("../feedback/index.js");
  throw new CliError(
    "validation_failed",
    toFieldIssues(r.error)
      .map((i) => `${i.field}: ${i.message}`)
      .join("; "),
  );
}

const idArg = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new CliError("invalid_id", `"${v}" is not an id (a positive whole number).`);
  return Number(v);
};

const publicUrlOption = () =>
  new Option("--public-url <url>", "the dashboard's address, for links in a test alert").env("FEEDBACK_PUBLIC_URL");

export function registerAlerts(program: Command): void {
  const alerts = program.command("alerts").description("alert destinations, rules and the delivery queue");

  const dest = alerts.command("destinations").description("where alerts go (webhook, slack, email)");
  dest
    .command("list")
    .description("list destinations (secrets masked)")
    .addOption(dbOption())
    .action((flags: { db: string }) =>
      withService(flags, (s) => {
        for (const d of s.listDestinations()) out(`${d.id}\t${d.kind}\t${d.name ?? "-"}\t${d.target}\t${d.created_at}`);
      }),
    );
  dest
    .command("add")
    .description("add a destination; a webhook's signing secret is printed once")
    .addOption(
      new Option("--kind <kind>", "destination kind").choices(["webhook", "slack", "email"]).makeOptionMandatory(),
    )
    .requiredOption("--url <url>", "https://… (webhook, slack) or smtp://host:587 / smtps://host:465 (email)")
    .option("--name <name>", "a label")
    .option("--from <address>", "email: the sender")
    .option("--to <list>", "email: recipients, comma-separated", parseList)
    .option("--username <user>", "email: SMTP user")
    .addOption(
      new Option("--password <password>", "email: SMTP password (kept in .env)").env("PATCHWORKMCP_SMTP_PASSWORD"),
    )
    .addOption(dbOption())
    .action(
      (flags: {
        db: string;
        kind: string;
        url: string;
        name?: string;
        from?: string;
        to?: string[];
        username?: string;
        password?: string;
      }) =>
        withService(flags, async (s) => {
          const { destinationInputSchema } = await import("../alerts/index.js");
          const { db: _db, ...rest } = flags;
          const input = await parse(
            destinationInputSchema,
            Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
          );
          const { destination, secret } = s.addDestination(input);
          log(`Added ${destination.kind} destination ${destination.id} (${destination.target}).`);
          if (secret) {
            log("Its signing secret is shown once; give it to the receiver now:");
            out(secret);
          } else out(String(destination.id));
        }),
    );
  dest
    .command("delete <id>")
    .description("delete a destination, its rules and its secrets (pending deliveries become dead letters)")
    .addOption(dbOption())
    .action((id: string, flags: { db: string }) =>
      withService(flags, (s) => {
        s.deleteDestination(idArg(id));
        log(`Deleted destination ${id}.`);
      }),
    );
  dest
    .command("test <id>")
    .description("send a test alert now and say how the destination answered")
    .addOption(dbOption())
    .addOption(publicUrlOption())
    .action((id: string, flags: { db: string; publicUrl?: string }) =>
      withService(flags, async (s) => {
        const r = await s.test(idArg(id));
        log(
          `Delivered (${r.status === null ? "accepted by the SMTP server" : `HTTP ${r.status}`}), webhook-id ${r.id}.`,
        );
      }),
    );
  dest
    .command("rotate <id>")
    .description("a new webhook signing secret (printed once); the previous one also signs for 24 hours")
    .addOption(dbOption())
    .action((id: string, flags: { db: string }) =>
      withService(flags, (s) => {
        const r = s.rotateSecret(idArg(id));
        log(`Rotated. The previous secret stays valid until ${r.previous_valid_until}. The new one, shown once:`);
        out(r.secret);
      }),
    );

  const rules = alerts.command("rules").description("when to alert");
  rules
    .command("list")
    .addOption(dbOption())
    .action((flags: { db: string }) =>
      withService(flags, (s) => {
        for (const r of s.listRules())
          out(
            `${r.id}\t${r.kind}\tdestination ${r.destination_id}\t${r.server_name ?? "*"}\tthreshold ${r.threshold ?? "-"}\twindow ${r.window ?? "-"}\tcooldown ${r.cooldown}`,
          );
      }),
    );
  rules
    .command("add")
    .description("add a rule (new_gap, sessions, regression, blocked_share, digest)")
    .addOption(
      new Option("--kind <kind>", "rule kind")
        .choices(["new_gap", "sessions", "regression", "blocked_share", "digest"])
        .makeOptionMandatory(),
    )
    .requiredOption("--destination <id>", "destination id", idArg)
    .option("--server <name>", "only this server_name (default: every server)")
    .option("--threshold <n>", "sessions: distinct sessions; blocked_share: percent; digest: how many gaps", Number)
    .option("--window <duration>", "sessions: e.g. 24h; digest: daily or weekly")
    .option("--cooldown <duration>", "quiet time per gap after an alert (default 1h)")
    .option("--min-reports <n>", "blocked_share: reports a gap needs first (default 5)", Number)
    .addOption(dbOption())
    .action(
      (flags: {
        db: string;
        kind: string;
        destination: number;
        server?: string;
        threshold?: number;
        window?: string;
        cooldown?: string;
        minReports?: number;
      }) =>
        withService(flags, async (s) => {
          const { ruleInputSchema } = await import("../alerts/index.js");
          const input = await parse(ruleInputSchema, {
            kind: flags.kind,
            destination_id: flags.destination,
            server_name: flags.server,
            threshold: flags.threshold,
            window: flags.window,
            cooldown: flags.cooldown,
            min_reports: flags.minReports,
          });
          const r = s.addRule(input);
          log(`Added ${r.kind} rule ${r.id}.`);
          out(String(r.id));
        }),
    );
  rules
    .command("delete <id>")
    .addOption(dbOption())
    .action((id: string, flags: { db: string }) =>
      withService(flags, (s) => {
        s.deleteRule(idArg(id));
        log(`Deleted rule ${id}.`);
      }),
    );

  const deliveries = alerts.command("deliveries").description("the delivery queue, dead letters included");
  deliveries
    .command("list")
    .addOption(new Option("--state <state>", "only this state").choices(["pending", "delivered", "dead"]))
    .option("--limit <n>", "how many (newest first)", Number, 50)
    .addOption(dbOption())
    .action((flags: { db: string; state?: "pending" | "delivered" | "dead"; limit: number }) =>
      withService(flags, (s) => {
        for (const d of s.deliveries({ state: flags.state, limit: flags.limit }))
          out(
            `${d.id}\t${d.state}\t${d.kind}\tdestination ${d.destination_id}\tattempts ${d.attempts}\t${d.event_id}\t${d.last_error ?? "-"}`,
          );
      }),
    );
  deliveries
    .command("retry <id>")
    .description("send a dead letter again (a fresh count of attempts; the same webhook-id)")
    .addOption(dbOption())
    .action((id: string, flags: { db: string }) =>
      withService(flags, (s) => {
        s.retry(idArg(id));
        log(`Delivery ${id} is queued again; a running serve sends it.`);
      }),
    );
}
