/**
 * Wind a SQLite file back to an older migration, so a test can replay the later ones: drop every
 * table and index those later migrations created (found by comparing with a database migrated
 * only that far), and every column they added to the tables that stay, then set user_version.
 */
import Database from "better-sqlite3";
import { MIGRATIONS } from "../../src/store/migrations.js";

export function dropLaterSchema(db: Database.Database, version: number): void {
  const reference = new Database(":memory:");
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) reference.exec(m.sql);
  const names = (d: Database.Database, type: string) =>
    (
      d.prepare("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%'").all(type) as {
        name: string;
      }[]
    ).map((r) => r.name);
  const keep = new Set([...names(reference, "table"), ...names(reference, "index")]);
  const columns = (d: Database.Database, table: string) =>
    (d.pragma(`table_info("${table}")`) as { name: string }[]).map((c) => c.name);
  const laterColumns = names(db, "table")
    .filter((t) => keep.has(t))
    .flatMap((t) => {
      const had = new Set(columns(reference, t));
      return columns(db, t)
        .filter((c) => !had.has(c))
        .map((c) => [t, c] as const);
    });
  reference.close();
  for (const [table, column] of laterColumns) db.exec(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
  for (const index of names(db, "index")) if (!keep.has(index)) db.exec(`DROP INDEX IF EXISTS "${index}"`);
  for (const table of names(db, "table")) if (!keep.has(table)) db.exec(`DROP TABLE IF EXISTS "${table}"`);
  db.pragma(`user_version = ${version}`);
}
