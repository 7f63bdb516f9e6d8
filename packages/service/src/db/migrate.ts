/** @module db/migrate — runs the migrations (in order, each once) with Kysely's migrator. */
import { type Kysely, type Migration, Migrator } from "kysely";
import type { Dialect } from "./dialect.ts";
import * as initial from "./migrations/0001-initial.ts";
import * as listVersions from "./migrations/0002-list-versions.ts";

/** The migrations in order; a new one is a new file here, never an edit of an old one. */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    "0001-initial": { up: (db) => initial.up(db, dialect) },
    "0002-list-versions": { up: (db) => listVersions.up(db, dialect) },
  };
}

/** Brings the schema up to date; returns the names applied now. Several instances may race: Kysely locks. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: "icaas_migrations",
    migrationLockTableName: "icaas_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(
      `database migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message ?? error}`,
      {
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
