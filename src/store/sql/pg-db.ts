/**
 * PostgreSQL as a SqlDb: statements written for SQLite's placeholders run on PostgreSQL.
 *
 * - `?` and `@name` placeholders become `$1…$n` (outside quoted strings);
 * - `INSERT OR IGNORE INTO …` becomes `INSERT INTO … ON CONFLICT DO NOTHING`;
 * - an INSERT into a table with an integer `id` returns it (`lastInsertRowid`).
 * Everything else that differs between the dialects is written per dialect in the store.
 *
 * Transactions: BEGIN (and a lock) go to the server with the transaction's first statement, in
 * one exchange with the connection's thread. `immediate` also takes the store's write lock, a
 * transaction-scoped advisory lock, so writers that read before they write (grouping, idempotent
 * ingestion, watermarks) are serialised across every process on the database exactly as
 * SQLite's single writer is. A killed process's transaction is rolled back by the server, and
 * its lock goes with it.
 */
import type { RunResult, SqlDb, Statement, Transaction } from "./db.js";
import { PgReader } from "./pg-reader.js";
import { PgSyncConnection } from "./pg-sync.js";

/** The advisory lock key of the store's write lock (any constant shared by every process). */
export const WRITE_LOCK_KEY = 0x70776d31; // "pwm1"

/**
 * Held shared by every deferred-ingestion transaction, from before it takes a report id to its
 * commit. Report ids come from a sequence, so with several writers a lower id can commit after a
 * higher one is visible; the grouping worker takes this lock exclusively for a moment (waiting
 * for the transactions in flight) before it reads the newest id, so every id up to that one is
 * final — committed or never — and its watermark never passes a report still being stored.
 */
export const INGEST_LOCK_KEY = 0x70776d32; // "pwm2"

/** Tables whose INSERTs report the new row's integer id. */
const ID_TABLES = new Set(["reports", "notes", "drafts", "gaps", "gap_history"]);

interface Translated {
  text: string;
  /** Named placeholders in order ($1 = names[0]), or null for positional `?`. */
  names: string[] | null;
  returnsId: boolean;
}

const CACHE = new Map<string, Translated>();

export function translate(sql: string): Translated {
  const hit = CACHE.get(sql);
  if (hit) return hit;
  let text = "";
  let n = 0;
  const names: string[] = [];
  const index = new Map<string, number>();
  let named = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      text += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === "?") {
      text += `$${++n}`;
    } else if (c === "@" && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      named = true;
      let j = i + 1;
      while (j < sql.length && /\w/.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      let k = index.get(name);
      if (k === undefined) {
        names.push(name);
        k = names.length;
        index.set(name, k);
      }
      text += `$${k}`;
      i = j - 1;
    } else text += c;
  }
  const ignore = /^\s*INSERT\s+OR\s+IGNORE\s+INTO\s/i;
  if (ignore.test(text))
    text = `${text.replace(/^\s*INSERT\s+OR\s+IGNORE\s+INTO\s/i, "INSERT INTO ")} ON CONFLICT DO NOTHING`;
  const table = /^\s*INSERT\s+INTO\s+(\w+)/i.exec(text)?.[1];
  const returnsId = table !== undefined && ID_TABLES.has(table) && !/\bRETURNING\b/i.test(text);
  if (returnsId) text += " RETURNING id";
  const t: Translated = { text, names: named ? names : null, returnsId };
  if (CACHE.size > 5000) CACHE.clear();
  CACHE.set(sql, t);
  return t;
}

function valuesOf(t: Translated, params: unknown[]): unknown[] {
  if (t.names === null) return params.map(toPg);
  const obj = (params[0] ?? {}) as Record<string, unknown>;
  return t.names.map((name) => {
    if (!(name in obj)) throw new Error(`missing named parameter @${name}`);
    return toPg(obj[name]);
  });
}

/**
 * better-sqlite3 binds booleans as 1/0 and bigints as integers; node-postgres would send "true".
 * PostgreSQL's text cannot hold NUL (U+0000), which SQLite stores: it becomes U+FFFD, the
 * replacement character, rather than failing the statement.
 */
function toPg(v: unknown): unknown {
  if (typeof v === "string") return pgText(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** `text` as PostgreSQL stores it (see toPg). */
export function pgText(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

class PgStatement implements Statement {
  private array = false;
  constructor(
    private readonly conn: PgSyncConnection,
    private readonly t: Translated,
  ) {}

  run(...params: unknown[]): RunResult {
    const r = this.conn.query(this.t.text, valuesOf(this.t, params), false, true);
    const first = r.rows[0] as { id?: number } | undefined;
    return { changes: r.rowCount, lastInsertRowid: this.t.returnsId ? (first?.id ?? 0) : 0 };
  }

  get(...params: unknown[]): unknown {
    return this.conn.query(this.t.text, valuesOf(this.t, params), this.array, true).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.conn.query(this.t.text, valuesOf(this.t, params), this.array, true).rows;
  }

  raw(toggle = true): Statement {
    const s = new PgStatement(this.conn, this.t);
    s.array = toggle;
    return s;
  }
}

export class PgDb implements SqlDb {
  readonly dialect = "postgres" as const;
  private readonly conn: PgSyncConnection;
  private depth = 0;
  /** Opened on the first allAsync. */
  private reader: PgReader | undefined;

  constructor(
    private readonly url: string,
    private readonly applicationName = "patchworkmcp",
  ) {
    this.conn = new PgSyncConnection(url, applicationName);
  }

  get open(): boolean {
    return this.conn.isOpen;
  }

  prepare(sql: string): Statement {
    return new PgStatement(this.conn, translate(sql));
  }

  exec(sql: string): void {
    this.conn.query(sql);
  }

  allAsync(sql: string, params: unknown[], raw: boolean): Promise<unknown[]> {
    const t = translate(sql);
    this.reader ??= new PgReader(this.url, this.applicationName);
    return this.reader.all(t.text, valuesOf(t, params), raw);
  }

  close(): void {
    this.reader?.close();
    this.conn.close();
  }

  snapshot<R>(fn: () => R): R {
    return this.depth > 0 ? fn() : this.outermost("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn);
  }

  /** `fn` in a transaction of its own, begun with `begin`: committed, or rolled back when it throws. */
  private outermost<R>(begin: string, fn: () => R): R {
    this.conn.defer(begin);
    this.depth = 1;
    try {
      const out = fn();
      this.conn.query("COMMIT");
      return out;
    } catch (err) {
      try {
        this.conn.query("ROLLBACK");
      } catch {
        // the connection is gone: the server rolls the transaction back itself
      }
      throw err;
    } finally {
      this.depth = 0;
    }
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R> {
    const run = (lock: boolean, args: A): R => {
      // Nested: a savepoint, as better-sqlite3 does.
      if (this.depth > 0) {
        const name = `sp${this.depth}`;
        this.conn.query(`SAVEPOINT ${name}`);
        this.depth++;
        try {
          const out = fn(...args);
          this.conn.query(`RELEASE SAVEPOINT ${name}`);
          return out;
        } catch (err) {
          this.conn.query(`ROLLBACK TO SAVEPOINT ${name}`);
          throw err;
        } finally {
          this.depth--;
        }
      }
      return this.outermost("BEGIN", () => {
        if (lock) this.conn.defer(`SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
        return fn(...args);
      });
    };
    const t = ((...args: A) => run(false, args)) as Transaction<A, R>;
    t.immediate = (...args: A) => run(true, args);
    t.deferred = (...args: A) => run(false, args);
    return t;
  }
}
