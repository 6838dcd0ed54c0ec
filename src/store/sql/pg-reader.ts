/**
 * PostgreSQL reads that do not block: a small pool of node-postgres connections on the calling
 * thread, for the hot read routes (a page of reports). While PostgreSQL answers one page the
 * event loop serves other requests, and several pages are read at once, where the store's
 * synchronous connection (pg-sync.ts) would hold the thread for each round trip in turn.
 *
 * Only single statements outside any transaction come here: they see what is committed, as the
 * synchronous connection does between its transactions. Transactions stay on that connection.
 */
import pg from "pg";
import { PgError } from "./pg-sync.js";

/** Connections in the pool: enough to overlap a few pages on a small machine, few enough to leave PostgreSQL's slots to the sidecars. */
export const PG_READ_CONNECTIONS = 4;

/** int8 and numeric as numbers, as the synchronous connection returns them (pg-worker.ts). */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PgReader {
  private readonly pool: pg.Pool;
  /** Each statement is prepared once per pooled connection, under one name. */
  private readonly names = new Map<string, string>();

  constructor(url: string, applicationName: string) {
    this.pool = new pg.Pool({
      connectionString: url,
      application_name: applicationName,
      max: PG_READ_CONNECTIONS,
      types,
      // An idle pool never keeps a command from exiting.
      allowExitOnIdle: true,
    });
    // Planned for their parameters, like the synchronous connection's statements (pg-worker.ts).
    this.pool.on("connect", (client) => {
      client.query("SET plan_cache_mode = force_custom_plan").catch(() => undefined);
    });
    // An idle connection that fails (a server restart) is dropped by the pool and replaced on
    // the next read; without a listener its error would end the process.
    this.pool.on("error", () => undefined);
  }

  /** The rows of one statement (as arrays of column values with `array`); failures are PgErrors. */
  async all(text: string, values: unknown[], array: boolean): Promise<unknown[]> {
    let name = this.names.get(text);
    if (name === undefined) this.names.set(text, (name = `r${this.names.size}`));
    try {
      const res = await this.pool.query({ name, text, values, ...(array ? { rowMode: "array" } : {}) });
      return res.rows as unknown[];
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown; detail?: unknown };
      throw new PgError(
        String(e.message ?? err),
        typeof e.code === "string" ? e.code : undefined,
        typeof e.detail === "string" ? e.detail : undefined,
      );
    }
  }

  close(): void {
    this.pool.end().catch(() => undefined);
  }
}
