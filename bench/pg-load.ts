/**
 * Copy a filled SQLite database into a PostgreSQL one quickly, for benchmarks only (the
 * store would group every report again through its synchronous bridge: hours at 1M reports).
 *
 * Generic over the tables and columns both schemas share: the PostgreSQL schema is created by
 * opening a store on the URL (migrations-pg.ts), every shared table is emptied and filled with
 * COPY … FROM STDIN (text format) from the SQLite rows, the secondary indexes are dropped before
 * and rebuilt after, identity sequences are moved past the copied ids, then VACUUM ANALYZE.
 * Foreign keys and the append-only triggers are bypassed with session_replication_role =
 * replica (the role must be a superuser, as the private server's is). gap_bands.band joins
 * server and band with NUL on SQLite and U+001F on PostgreSQL (BAND_SEPARATOR).
 */
import Database from "better-sqlite3";
import { once } from "node:events";
import pg from "pg";
import { FeedbackStore } from "../src/store/index.js";
import { BAND_SEPARATOR } from "../src/store/gaps.js";
import { displayLocation } from "../src/store/sql/db.js";
import { startPostgres } from "../test/helpers/postgres.js";

/** What pg's client hands a custom submittable: the slice of its Connection used here. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/** `COPY … FROM STDIN` fed from a generator of text-format chunks (pg has no COPY API of its own). */
class CopyIn {
  private failed = false;
  private rows = 0;
  readonly done: Promise<number>;
  private resolve!: (n: number) => void;
  private reject!: (e: Error) => void;

  constructor(
    private readonly text: string,
    private readonly chunks: () => Iterable<string>,
  ) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    void this.pump(connection);
  }
  private async pump(connection: PgConnection): Promise<void> {
    try {
      for (const chunk of this.chunks()) {
        if (this.failed) return;
        connection.sendCopyFromChunk(Buffer.from(chunk, "utf8"));
        if (connection.stream.writableNeedDrain) await once(connection.stream, "drain");
      }
      connection.endCopyFrom();
    } catch (err) {
      connection.sendCopyFail(err instanceof Error ? err.message : String(err));
    }
  }
  handleCommandComplete(msg: { text?: string; rowCount?: number | null }): void {
    this.rows = msg.rowCount ?? Number(/\d+$/.exec(msg.text ?? "")?.[0] ?? 0);
  }
  handleReadyForQuery(): void {
    this.resolve(this.rows);
  }
  handleError(err: Error): void {
    this.failed = true;
    this.reject(err);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One value in COPY's text format. */
function field(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString("hex")}`;
  const s = String(v);
  if (s.includes("\0")) throw new Error(`a text value holds NUL, which PostgreSQL cannot store: ${JSON.stringify(s)}`);
  return s.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!);
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface LoadReport {
  tables: { name: string; rows: number; seconds: number }[];
  skipped: string[];
  indexSeconds: number;
  vacuumSeconds: number;
  totalSeconds: number;
}

/** Replace the contents of the PostgreSQL database at `url` with the rows of the SQLite file at `sqlitePath`. */
export async function loadSqliteIntoPg(
  sqlitePath: string,
  url: string,
  log: (line: string) => void = () => {},
): Promise<LoadReport> {
  const t0 = performance.now();
  FeedbackStore.open(url).close(); // the schema, by the store's own migrations
  const lite = new Database(sqlitePath, { readonly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET session_replication_role = replica");
    await client.query("SET maintenance_work_mem = '512MB'");
    await client.query("SET synchronous_commit = off");

    const pgColumns = new Map<string, string[]>();
    const colRows = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position`,
    );
    for (const r of colRows.rows) pgColumns.set(r.table_name, [...(pgColumns.get(r.table_name) ?? []), r.column_name]);
    const liteTables = (
      lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
    const shared = liteTables.filter((t) => pgColumns.has(t));
    const skipped = liteTables.filter((t) => !pgColumns.has(t));

    // Secondary indexes (not those backing a primary key or unique constraint): rebuilt after the copy.
    const indexes = (
      await client.query<{ indexdef: string; name: string }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS indexdef, c.relname AS name
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = 'public' AND t.relname = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
        [shared],
      )
    ).rows;

    await client.query("BEGIN");
    await client.query(`TRUNCATE ${shared.map(quote).join(", ")} RESTART IDENTITY CASCADE`);
    for (const ix of indexes) await client.query(`DROP INDEX ${quote(ix.name)}`);

    const tables: LoadReport["tables"] = [];
    for (const table of shared) {
      const liteCols = new Set(
        (lite.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name),
      );
      const cols = pgColumns.get(table)!.filter((c) => liteCols.has(c));
      const t = performance.now();
      const select = lite.prepare(`SELECT ${cols.map(quote).join(", ")} FROM ${quote(table)}`).raw(true);
      const bandAt = table === "gap_bands" ? cols.indexOf("band") : -1;
      function* chunks(): Iterable<string> {
        let buf = "";
        for (const row of select.iterate() as Iterable<unknown[]>) {
          if (bandAt >= 0) row[bandAt] = String(row[bandAt]).replaceAll(BAND_SEPARATOR.sqlite, BAND_SEPARATOR.postgres);
          buf += `${row.map(field).join("\t")}\n`;
          if (buf.length >= 1 << 20) {
            yield buf;
            buf = "";
          }
        }
        if (buf) yield buf;
      }
      const copy = new CopyIn(`COPY ${quote(table)} (${cols.map(quote).join(", ")}) FROM STDIN`, chunks);
      client.query(copy as unknown as pg.QueryConfig);
      const rows = await copy.done;
      const seconds = (performance.now() - t) / 1000;
      tables.push({ name: table, rows, seconds });
      if (rows > 0) log(`  copied ${rows} rows into ${table} in ${seconds.toFixed(1)} s`);
    }

    const ti = performance.now();
    for (const ix of indexes) await client.query(ix.indexdef);
    const indexSeconds = (performance.now() - ti) / 1000;
    log(`  rebuilt ${indexes.length} indexes in ${indexSeconds.toFixed(1)} s`);

    // Identity columns continue after the copied ids.
    const identities = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND is_identity = 'YES' AND table_name = ANY($1)`,
      [shared],
    );
    for (const { table_name, column_name } of identities.rows) {
      await client.query(
        `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(${quote(column_name)}), 0) + 1, false) FROM ${quote(table_name)}`,
        [table_name, column_name],
      );
    }
    await client.query("COMMIT");

    const tv = performance.now();
    await client.query("VACUUM ANALYZE");
    const vacuumSeconds = (performance.now() - tv) / 1000;
    log(`  VACUUM ANALYZE in ${vacuumSeconds.toFixed(1)} s`);
    return { tables, skipped, indexSeconds, vacuumSeconds, totalSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await client.end();
    lite.close();
  }
}

/** Which backend a bench runs against, from BENCH_DB (unset means sqlite). */
export function benchBackend(): "sqlite" | "postgres" {
  const v = process.env.BENCH_DB ?? "sqlite";
  if (v !== "sqlite" && v !== "postgres") throw new Error(`BENCH_DB must be "sqlite" or "postgres", not "${v}"`);
  return v;
}

export interface BenchPg {
  /** A database for the bench: BENCH_PG_URL's, or a fresh one on the private server. */
  newDatabase(): Promise<string>;
  /** Where the databases are, safe to print. */
  readonly where: string;
  stop(): Promise<void>;
}

/** BENCH_PG_URL (one database, used as it is), or a private server started for the bench. */
export async function benchPostgres(): Promise<BenchPg> {
  const given = process.env.BENCH_PG_URL;
  if (given) return { newDatabase: async () => given, where: displayLocation(given), stop: async () => {} };
  const server = await startPostgres();
  return {
    newDatabase: () => server.createDatabase(),
    where: `a private server on ${server.baseUrl} (${server.dataDir})`,
    stop: () => server.stop(),
  };
}
