/**
 * The SQL connection the store talks to: the part of better-sqlite3's API the store uses,
 * implemented by better-sqlite3 itself (SQLite) and by PgDb (PostgreSQL, src/store/sql/pg-db.ts).
 *
 * It stays synchronous on both backends. The store's transactions interleave the grouping
 * engine's logic with reads and writes (a report's candidates are read, scored in memory, then
 * written, inside one transaction), and a synchronous contract keeps one implementation of that
 * logic for both databases. better-sqlite3 is synchronous by design; on PostgreSQL, node-postgres
 * runs in a worker thread and the store waits on it (see pg-sync.ts). The one exception is
 * `allAsync`: a single read outside any transaction (a list page), which on PostgreSQL need not
 * hold the thread while the database answers (pg-reader.ts).
 */
import type Database from "better-sqlite3";
import type { WriteGate } from "./write-gate.js";

export type Dialect = "sqlite" | "postgres";

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Rows as arrays of column values instead of objects. */
  raw(toggle?: boolean): Statement;
}

export interface Transaction<A extends unknown[], R> {
  (...args: A): R;
  /** Takes the write lock up front (SQLite BEGIN IMMEDIATE; on PostgreSQL the store's write lock). */
  immediate(...args: A): R;
  deferred(...args: A): R;
}

export interface SqlDb {
  readonly dialect: Dialect;
  readonly open: boolean;
  prepare(sql: string): Statement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R>;
  /**
   * Runs `fn`'s reads against one consistent snapshot, so a page assembled from several queries
   * never shows half of another transaction (a suggestion without its history entry). SQLite: a
   * deferred transaction; PostgreSQL: REPEATABLE READ, READ ONLY. Inside a transaction, just `fn`.
   */
  snapshot<R>(fn: () => R): R;
  /** Run one or more statements without parameters (migrations). */
  exec(sql: string): void;
  /**
   * PostgreSQL: one statement outside any transaction, on connections of its own, without
   * blocking the thread (pg-reader.ts): the hot read routes use it. Absent on SQLite, whose reads
   * never wait on a network.
   */
  allAsync?(sql: string, params: unknown[], raw: boolean): Promise<unknown[]>;
  close(): void;
  /** The better-sqlite3 handle (SQLite only): pragmas and backups. */
  readonly sqlite?: Database.Database;
}

/** better-sqlite3 as a SqlDb (its own API is a superset); with a gate, IMMEDIATE transactions take turns through it. */
export function sqliteDb(db: Database.Database, gate?: WriteGate): SqlDb {
  return {
    dialect: "sqlite",
    get open() {
      return db.open;
    },
    prepare: (sql) => db.prepare(sql) as unknown as Statement,
    transaction: <A extends unknown[], R>(fn: (...args: A) => R) => {
      const t = db.transaction(fn) as unknown as Transaction<A, R>;
      if (!gate) return t;
      const gated = ((...args: A) => t(...args)) as Transaction<A, R>;
      gated.deferred = (...args: A) => t.deferred(...args);
      gated.immediate = (...args: A) => gate.hold(() => t.immediate(...args));
      return gated;
    },
    snapshot: <R>(fn: () => R) => (db.inTransaction ? fn() : db.transaction(fn).deferred()),
    exec: (sql) => {
      db.exec(sql);
    },
    close: () => db.close(),
    sqlite: db,
  };
}

/** `(?, ?), (?, ?)`: the VALUES list of a multi-row INSERT of `rows` rows of `width` columns. */
export function valuesList(width: number, rows: number): string {
  const one = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => one).join(", ");
}

/** True for a `--db` value that names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(value);
}

/** A database location safe to print: a PostgreSQL URL without its password (and query, which may hold one). */
export function displayLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const u = new URL(location);
    if (u.password !== "") u.password = "***";
    u.search = "";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

/**
 * A statement cache by SQL text, for store classes whose queries are few and reused: each text
 * is prepared once on `db`, then handed back.
 */
export function statementCache(db: () => SqlDb): (sql: string) => Statement {
  return (sql) => prepared(db(), sql);
}

const preparedByDb = new WeakMap<SqlDb, Map<string, Statement>>();

/** `sql` prepared once per connection (for module functions that have no store class to keep it). */
export function prepared(db: SqlDb, sql: string): Statement {
  let statements = preparedByDb.get(db);
  if (!statements) {
    statements = new Map();
    preparedByDb.set(db, statements);
  }
  let s = statements.get(sql);
  if (!s) {
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}
