/** @module db/migrations/0002-list-versions — a per-user counter bumped by every write to that user's builds. */
import { type Kysely, sql } from "kysely";
import type { Dialect } from "../dialect.ts";

/**
 * `users.builds_version` changes whenever one of the user's builds is inserted or updated, by a
 * trigger, so no write path can forget it and every instance sees it. List pages are cached under
 * it: a request costs one indexed lookup while nothing changed.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("builds_version", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  if (dialect === "postgres") {
    await sql`
      CREATE FUNCTION icaas_bump_builds_version() RETURNS trigger AS $$
      BEGIN
        UPDATE users SET builds_version = builds_version + 1 WHERE uuid = NEW.user_uuid;
        RETURN NULL;
      END;
      $$ LANGUAGE plpgsql`.execute(db);
    await sql`
      CREATE TRIGGER builds_version AFTER INSERT OR UPDATE ON builds
      FOR EACH ROW EXECUTE FUNCTION icaas_bump_builds_version()`.execute(db);
  } else {
    for (const event of ["INSERT", "UPDATE"]) {
      await sql
        .raw(
          `CREATE TRIGGER builds_version_${event.toLowerCase()} AFTER ${event} ON builds BEGIN ` +
            "UPDATE users SET builds_version = builds_version + 1 WHERE uuid = NEW.user_uuid; END",
        )
        .execute(db);
    }
  }
}
