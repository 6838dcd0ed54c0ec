/**
 * `patchworkmcp migrate`: copy a SQLite database into PostgreSQL, row for row, ids kept.
 *
 * - The source is opened read-only and read inside one transaction (a consistent snapshot);
 *   it must be at the newest SQLite migration, and it is never migrated or written here.
 * - The target is opened with FeedbackStore.open (which creates or migrates its schema).
 * - Nothing is listed by hand that the schemas already say: tables and their columns come
 *   from both catalogs (generated columns left out), the table order from the target's
 *   foreign keys, primary keys from both (they must agree).
 * - Each batch is one transaction on the target and inserts with ON CONFLICT DO NOTHING, so a
 *   run that stopped anywhere (even SIGKILL mid-batch) resumes where it got to.
 * - Before writing anything, rows already on the target are compared with the source: an
 *   identical partial copy is resumed, any other content is refused (never two databases merged).
 * - Sequences are moved past the copied ids, and the row counts are compared at the end.
 */
import Database from "better-sqlite3";
import { BAND_SEPARATOR } from "./gaps.js";
import { MIGRATIONS } from "./migrations.js";
import { displayLocation, isPostgresUrl, type SqlDb } from "./sql/db.js";
import { FeedbackStore, StoreError } from "./store.js";

export const DEFAULT_COPY_BATCH = 2000;
/** Bind parameters per statement (PostgreSQL allows 65,535). */
const PARAM_BUDGET = 30_000;

/** SQLite tables PostgreSQL has no counterpart for: its full-text index (FTS5 and its shadow tables) and bookkeeping. */
const SQLITE_ONLY = (table: string) =>
  table === "fts_state" || table === "reports_fts" || table.startsWith("reports_fts_") || table.startsWith("sqlite_");

/** Tables whose single row the target's migration creates: the source's row replaces it (UPDATE, not INSERT). */
const SINGLETON_TABLES = new Set(["grouping_state"]);

/** Values stored differently per dialect, as SQLite value → PostgreSQL value. */
const TRANSLATE: Record<string, Record<string, (v: unknown) => unknown>> = {
  // LSH band keys: server, separator, band (PostgreSQL text cannot hold SQLite's NUL).
  gap_bands: {
    band: (v) => (typeof v === "string" ? v.replace(BAND_SEPARATOR.sqlite, BAND_SEPARATOR.postgres) : v),
  },
};

export type CopyPhase = "check" | "copy";

export interface CopyProgress {
  phase: CopyPhase;
  table: string;
  /** Source rows read so far. */
  done: number;
  /** Source rows in the table. */
  total: number;
  /** Rows this run inserted into the table so far. */
  inserted: number;
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface CopyResult {
  /** Every copied table in copy order, with its row count on each side after the copy. */
  counts: TableCount[];
  /** Rows this run inserted (0 when the target already held a complete copy). */
  inserted: number;
  /** The target as printable text (password masked). */
  target: string;
}

export interface CopyOptions {
  /** The SQLite file. */
  from: string;
  /** A postgres:// URL. */
  to: string;
  /** Source rows per target transaction. */
  batch?: number;
  onProgress?: (p: CopyProgress) => void;
}

interface TablePlan {
  name: string;
  /** Columns copied, in the target's order. */
  columns: string[];
  /** Primary key columns, in key order. */
  key: string[];
  /** Columns referencing their own table (gaps.duplicate_of): inserted NULL, set once every row is there. */
  selfRefs: string[];
  /** PostgreSQL type of each column (casts in the fix-up UPDATE). */
  types: Map<string, string>;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const list = (names: string[]) => names.map(q).join(", ");
const placeholders = (n: number) => `(${Array.from({ length: n }, () => "?").join(", ")})`;

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Open the source read-only, refusing anything but a SQLite database at the newest migration. */
function openSource(path: string): Database.Database {
  if (isPostgresUrl(path))
    throw new StoreError("migrate_source_not_sqlite", "the source of a migration must be a SQLite file, not a URL.");
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new StoreError(
      "migrate_source_unreadable",
      `cannot open the SQLite file ${path} read-only: ${(err as Error).message}`,
    );
  }
  let version: number;
  try {
    version = db.pragma("user_version", { simple: true }) as number;
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (err) {
    db.close();
    throw new StoreError("migrate_source_unreadable", `${path} is not a SQLite database: ${(err as Error).message}`);
  }
  const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (version < newest) {
    db.close();
    throw new StoreError(
      "migrate_source_not_migrated",
      `${path} is at schema version ${version} and this version of patchworkmcp copies version ${newest}. ` +
        "migrate never changes its source: open the file once with this version first (for example " +
        `\`patchworkmcp keys list --db ${path}\`, or start \`patchworkmcp serve\` on it), then run migrate again.`,
    );
  }
  if (version > newest) {
    db.close();
    throw new StoreError(
      "migrate_source_too_new",
      `${path} is at schema version ${version}, newer than this version of patchworkmcp knows (${newest}): ` +
        "run migrate with the version that last opened it.",
    );
  }
  return db;
}

/** The copy plan: tables in foreign-key order, each with the columns both sides share. */
function plan(source: Database.Database, target: SqlDb): TablePlan[] {
  const targetTables = (
    target
      .prepare(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
      )
      .all() as { name: string }[]
  ).map((t) => t.name);
  const sourceTables = (
    source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
  ).map((t) => t.name);
  const onTarget = new Set(targetTables);
  const missing = targetTables.filter((t) => !sourceTables.includes(t));
  const extra = sourceTables.filter((t) => !onTarget.has(t) && !SQLITE_ONLY(t));
  if (missing.length > 0 || extra.length > 0)
    throw new StoreError(
      "migrate_schema_mismatch",
      `the SQLite and PostgreSQL schemas do not hold the same tables (${[
        ...missing.map((t) => `${t} only in PostgreSQL`),
        ...extra.map((t) => `${t} only in SQLite`),
      ].join(", ")}): a migration is missing for one of the two backends.`,
    );

  const fks = target
    .prepare(
      `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, a.attname AS col
       FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
       WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`,
    )
    .all() as { child: string; parent: string; col: string }[];

  const plans = new Map<string, TablePlan>();
  for (const name of targetTables) {
    const tcols = target
      .prepare(
        `SELECT column_name AS name, data_type AS type, is_generated AS generated
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?
         ORDER BY ordinal_position`,
      )
      .all(name) as { name: string; type: string; generated: string }[];
    const scols = source.pragma(`table_info(${q(name)})`) as { name: string; pk: number }[];
    const copied = tcols.filter((c) => c.generated !== "ALWAYS");
    const sourceNames = new Set(scols.map((c) => c.name));
    const targetNames = new Set(copied.map((c) => c.name));
    const onlyTarget = copied.filter((c) => !sourceNames.has(c.name)).map((c) => c.name);
    const onlySource = scols.filter((c) => !targetNames.has(c.name)).map((c) => c.name);
    if (onlyTarget.length > 0 || onlySource.length > 0)
      throw new StoreError(
        "migrate_schema_mismatch",
        `table ${name} has columns on one side only (${[
          ...onlyTarget.map((c) => `${c} only in PostgreSQL`),
          ...onlySource.map((c) => `${c} only in SQLite`),
        ].join(", ")}): a migration is missing for one of the two backends.`,
      );
    const key = scols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const targetKey = (
      target
        .prepare(
          `SELECT k.column_name AS name FROM information_schema.table_constraints t
           JOIN information_schema.key_column_usage k
             ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema AND k.table_name = t.table_name
           WHERE t.table_schema = current_schema() AND t.table_name = ? AND t.constraint_type = 'PRIMARY KEY'
           ORDER BY k.ordinal_position`,
        )
        .all(name) as { name: string }[]
    ).map((k) => k.name);
    if (key.length === 0 || key.join(",") !== targetKey.join(","))
      throw new StoreError(
        "migrate_schema_mismatch",
        `table ${name} has primary key (${key.join(", ")}) in SQLite and (${targetKey.join(", ")}) in PostgreSQL.`,
      );
    plans.set(name, {
      name,
      columns: copied.map((c) => c.name),
      key,
      selfRefs: fks.filter((f) => f.child === name && f.parent === name).map((f) => f.col),
      types: new Map(copied.map((c) => [c.name, c.type])),
    });
  }

  // Parents before children (Kahn's algorithm, ties by name so the order is stable).
  const parents = new Map(targetTables.map((t) => [t, new Set<string>()]));
  for (const f of fks) if (f.child !== f.parent && parents.has(f.child)) parents.get(f.child)!.add(f.parent);
  const order: TablePlan[] = [];
  const placed = new Set<string>();
  while (order.length < targetTables.length) {
    const ready = targetTables.filter((t) => !placed.has(t) && [...parents.get(t)!].every((p) => placed.has(p))).sort();
    if (ready.length === 0)
      throw new StoreError("migrate_schema_mismatch", "the PostgreSQL schema's foreign keys form a cycle.");
    for (const t of ready) {
      placed.add(t);
      order.push(plans.get(t)!);
    }
  }
  return order;
}

/** Reads one table of the source in primary-key order, `size` rows at a time. */
function* sourceBatches(source: Database.Database, p: TablePlan, size: number): Generator<unknown[][]> {
  const cols = list(p.columns);
  const order = list(p.key);
  const first = source.prepare(`SELECT ${cols} FROM ${q(p.name)} ORDER BY ${order} LIMIT ?`).raw(true);
  const next = source
    .prepare(
      `SELECT ${cols} FROM ${q(p.name)} WHERE (${order}) > ${placeholders(p.key.length)} ORDER BY ${order} LIMIT ?`,
    )
    .raw(true);
  const keyAt = p.key.map((k) => p.columns.indexOf(k));
  let rows = first.all(size) as unknown[][];
  while (rows.length > 0) {
    yield rows;
    if (rows.length < size) return;
    const last = rows[rows.length - 1]!;
    rows = next.all(...keyAt.map((i) => last[i]), size) as unknown[][];
  }
}

/** A source row as the target stores it. */
function toTarget(p: TablePlan, row: unknown[]): unknown[] {
  const t = TRANSLATE[p.name];
  if (!t) return row;
  return row.map((v, i) => t[p.columns[i]!]?.(v) ?? v);
}

const keyOf = (p: TablePlan, row: unknown[]) => JSON.stringify(p.key.map((k) => row[p.columns.indexOf(k)]));

/** The target's rows with the keys of these (translated) rows, by key. */
function targetRows(target: SqlDb, p: TablePlan, rows: unknown[][]): Map<string, unknown[]> {
  const found = new Map<string, unknown[]>();
  const keyAt = p.key.map((k) => p.columns.indexOf(k));
  const one = p.key.length === 1;
  for (const part of chunk(rows, Math.floor(PARAM_BUDGET / p.key.length))) {
    const tuples = part.map(() => (one ? "?" : placeholders(p.key.length))).join(", ");
    const where = one ? `${q(p.key[0]!)} IN (${tuples})` : `(${list(p.key)}) IN (${tuples})`;
    const got = target
      .prepare(`SELECT ${list(p.columns)} FROM ${q(p.name)} WHERE ${where}`)
      .raw(true)
      .all(...part.flatMap((r) => keyAt.map((i) => r[i]))) as unknown[][];
    for (const r of got) found.set(keyOf(p, r), r);
  }
  return found;
}

/** True when the target's row holds the source's content (a self-reference not yet set counts as equal). */
function sameRow(p: TablePlan, want: unknown[], have: unknown[]): boolean {
  return p.columns.every((c, i) => want[i] === have[i] || (have[i] === null && p.selfRefs.includes(c)));
}

function differs(p: TablePlan, target: string, what: string): StoreError {
  return new StoreError(
    "migrate_target_differs",
    `the PostgreSQL database ${target} already holds data that is not a copy of this source (${p.name}: ${what}). ` +
      "migrate copies into an empty database, or resumes its own unfinished copy; it never merges two databases. " +
      "Use a new, empty database (or stop every `serve` writing the source before migrating, so it does not change between runs).",
  );
}

function count(db: { prepare(sql: string): { get(...a: unknown[]): unknown } }, table: string): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${q(table)}`).get() as { n: number | bigint }).n);
}

/**
 * Check the rows the target already holds against the source, before anything is written.
 * Returns true when the target holds every source row of the table (nothing left to copy).
 */
function checkTable(
  source: Database.Database,
  target: SqlDb,
  p: TablePlan,
  totals: { source: number; target: number },
  size: number,
  label: string,
  onProgress: (c: CopyProgress) => void,
): boolean {
  if (totals.target === 0) return totals.source === 0;
  if (totals.target > totals.source)
    throw differs(p, label, `${totals.target} rows where the source has ${totals.source}`);
  let matched = 0;
  let done = 0;
  for (const rows of sourceBatches(source, p, size)) {
    const translated = rows.map((r) => toTarget(p, r));
    const found = targetRows(target, p, translated);
    for (const want of translated) {
      const have = found.get(keyOf(p, want));
      if (!have) continue;
      if (!sameRow(p, want, have)) throw differs(p, label, `the row with key ${keyOf(p, want)} has other content`);
      matched++;
    }
    done += rows.length;
    onProgress({ phase: "check", table: p.name, done, total: totals.source, inserted: 0 });
    if (matched === totals.target) break;
  }
  if (matched < totals.target)
    throw differs(p, label, `${totals.target - matched} of its ${totals.target} rows are not in the source`);
  return matched === totals.source && p.selfRefs.length === 0;
}

function rejected(p: TablePlan, rows: unknown[][], err: unknown): StoreError {
  const e = err as { code?: string; message?: string };
  const range = `${keyOf(p, rows[0]!)} to ${keyOf(p, rows[rows.length - 1]!)}`;
  // 22021 / 22P05: text PostgreSQL cannot store (a NUL character, an invalid sequence).
  if (e.code === "22021" || e.code === "22P05")
    throw new StoreError(
      "migrate_row_rejected",
      `PostgreSQL cannot store a value of table ${p.name} in the rows with keys ${range}: ${e.message}. ` +
        "Nothing of that batch was written; fix or remove the value in the source, then run migrate again.",
    );
  return new StoreError(
    "migrate_write_failed",
    `copying table ${p.name} failed in the rows with keys ${range}: ${e.message ?? String(err)}. ` +
      "Run migrate again to resume from the last complete batch.",
  );
}

function copyTable(
  source: Database.Database,
  target: SqlDb,
  p: TablePlan,
  total: number,
  size: number,
  onProgress: (c: CopyProgress) => void,
): number {
  const selfAt = p.selfRefs.map((c) => p.columns.indexOf(c));
  const perStatement = Math.max(1, Math.floor(PARAM_BUDGET / p.columns.length));
  let inserted = 0;
  let done = 0;
  for (const rows of sourceBatches(source, p, size)) {
    const values = rows.map((r) => {
      const v = toTarget(p, r);
      return selfAt.length === 0 ? v : v.map((x, i) => (selfAt.includes(i) ? null : x));
    });
    try {
      inserted += target
        .transaction(() => {
          let n = 0;
          for (const part of chunk(values, perStatement)) {
            const tuples = part.map(() => placeholders(p.columns.length)).join(", ");
            n += target
              .prepare(`INSERT INTO ${q(p.name)} (${list(p.columns)}) VALUES ${tuples} ON CONFLICT DO NOTHING`)
              .run(...part.flat()).changes;
          }
          return n;
        })
        .immediate();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw rejected(p, rows, err);
    }
    done += rows.length;
    onProgress({ phase: "copy", table: p.name, done, total, inserted });
  }
  // Self-references, now that every row they may point at is there.
  for (const col of p.selfRefs) {
    const type = p.types.get(col)!;
    const keyType = p.types.get(p.key[0]!)!;
    if (p.key.length !== 1)
      throw new StoreError("migrate_schema_mismatch", `table ${p.name} refers to itself but has a composite key.`);
    const refs = source
      .prepare(`SELECT ${q(p.key[0]!)}, ${q(col)} FROM ${q(p.name)} WHERE ${q(col)} IS NOT NULL ORDER BY 1`)
      .raw(true)
      .all() as unknown[][];
    for (const part of chunk(refs, size)) {
      const tuples = part.map(() => `(CAST(? AS ${keyType}), CAST(? AS ${type}))`).join(", ");
      target
        .transaction(() =>
          target
            .prepare(
              `UPDATE ${q(p.name)} SET ${q(col)} = v.ref FROM (VALUES ${tuples}) AS v (k, ref)
               WHERE ${q(p.name)}.${q(p.key[0]!)} = v.k AND ${q(p.name)}.${q(col)} IS DISTINCT FROM v.ref`,
            )
            .run(...part.flat()),
        )
        .immediate();
    }
  }
  return inserted;
}

/** The target's single state row takes the source's values. */
function copySingleton(source: Database.Database, target: SqlDb, p: TablePlan): void {
  const rows = source
    .prepare(`SELECT ${list(p.columns)} FROM ${q(p.name)}`)
    .raw(true)
    .all() as unknown[][];
  const others = p.columns.filter((c) => !p.key.includes(c));
  target
    .transaction(() => {
      for (const row of rows) {
        const v = toTarget(p, row);
        const keyValues = p.key.map((k) => v[p.columns.indexOf(k)]);
        const changed = target
          .prepare(
            `UPDATE ${q(p.name)} SET ${others.map((c) => `${q(c)} = ?`).join(", ")} WHERE ${p.key.map((k) => `${q(k)} = ?`).join(" AND ")}`,
          )
          .run(...others.map((c) => v[p.columns.indexOf(c)]), ...keyValues).changes;
        if (changed === 0)
          target
            .prepare(`INSERT INTO ${q(p.name)} (${list(p.columns)}) VALUES ${placeholders(p.columns.length)}`)
            .run(...v);
      }
    })
    .immediate();
}

/** Identity columns continue after the copied ids, so rows created on PostgreSQL never collide with them. */
function advanceSequences(target: SqlDb): void {
  const identities = target
    .prepare(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns
       WHERE table_schema = current_schema() AND is_identity = 'YES'`,
    )
    .all() as { t: string; c: string }[];
  for (const { t, c } of identities)
    target
      .prepare(
        `SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max(${q(c)}) FROM ${q(t)}), 0) + 1, false)`,
      )
      .get(q(t), c);
}

/** Copy the SQLite database `from` into the PostgreSQL database `to` (see the module comment). */
export function copySqliteToPostgres(options: CopyOptions): CopyResult {
  const size = options.batch ?? DEFAULT_COPY_BATCH;
  const onProgress = options.onProgress ?? (() => undefined);
  const label = displayLocation(options.to);
  if (!isPostgresUrl(options.to))
    throw new StoreError("migrate_target_not_postgres", "the target of a migration must be a postgres:// URL.");
  const source = openSource(options.from);
  let store: FeedbackStore | undefined;
  try {
    store = FeedbackStore.open(options.to);
    const target = store.db;
    // One read transaction: every table is read from the same snapshot of the source.
    source.exec("BEGIN");
    const tables = plan(source, target);
    const totals = new Map(
      tables.map((p) => [p.name, { source: count(source, p.name), target: count(target, p.name) }]),
    );
    const complete = new Set<string>();
    for (const p of tables) {
      if (SINGLETON_TABLES.has(p.name)) continue;
      if (checkTable(source, target, p, totals.get(p.name)!, size, label, onProgress)) complete.add(p.name);
    }
    let inserted = 0;
    for (const p of tables) {
      const total = totals.get(p.name)!.source;
      if (SINGLETON_TABLES.has(p.name)) copySingleton(source, target, p);
      else if (complete.has(p.name)) onProgress({ phase: "copy", table: p.name, done: total, total, inserted: 0 });
      else inserted += copyTable(source, target, p, total, size, onProgress);
    }
    advanceSequences(target);
    const counts = tables.map((p) => ({
      table: p.name,
      source: totals.get(p.name)!.source,
      target: count(target, p.name),
    }));
    source.exec("COMMIT");
    return { counts, inserted, target: label };
  } finally {
    store?.close();
    if (source.open) source.close();
  }
}

/** The tables whose row counts differ after a copy. */
export function countMismatches(counts: TableCount[]): TableCount[] {
  return counts.filter((c) => c.source !== c.target);
}
