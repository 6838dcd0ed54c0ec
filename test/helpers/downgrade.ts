/**
 * Wind a SQLite file back to an older migration, so a test can replay the later ones: drop every
 * table and index those later migrations created (found by comparing with a database migrated
 * only that far), then set user_version. Column changes stay the caller's to undo.
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
  reference.close();
  for (const index of names(db, "index")) if (!keep.has(index)) db.exec(`DROP INDEX IF EXISTS "${index}"`);
  for (const table of names(db, "table")) if (!keep.has(table)) db.exec(`DROP TABLE IF EXISTS "${table}"`);
  db.pragma(`user_version = ${version}`);
}
