/** @module db/migrations/0001-initial — users, builds, jobs and the meta table. */
import type { Kysely } from "kysely";
import type { Dialect } from "../dialect.ts";

/** Creates the first schema; the same statements serve SQLite and PostgreSQL except the id columns. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === "postgres" ? "bigint" : "integer";
  await db.schema
    .createTable("icaas_meta")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("uuid", "text", (c) => c.primaryKey())
    .addColumn("token_sealed", "text", (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .execute();

  let builds = db.schema.createTable("builds");
  builds =
    dialect === "postgres"
      ? builds.addColumn("id", "serial", (c) => c.primaryKey())
      : builds.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
  await builds
    .addColumn("user_uuid", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("src", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("public", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("project", "text")
    .addColumn("networks", "text")
    .addColumn("checksum", "text")
    .addColumn("image", "text", (c) => c.notNull())
    .addColumn("log", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_details", "text", (c) => c.notNull())
    .addColumn("progress", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("image_id", "text")
    .addColumn("image_location", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .addColumn("finished_at", time)
    .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("deleted_at", time)
    .addColumn("user_token_sealed", "text", (c) => c.notNull())
    .addColumn("nonce_sealed", "text", (c) => c.notNull())
    .addColumn("nonce_hash", "text", (c) => c.notNull().unique())
    .addColumn("nonce_used", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("manifest_fetched_at", time)
    .addColumn("agent_token_hash", "text")
    .addColumn("last_report_at", time)
    .addColumn("vm_id", "text")
    .addColumn("vm_state", "text", (c) => c.notNull().defaultTo("none"))
    .addColumn("vm_name", "text")
    .addColumn("idempotency_key", "text")
    .addColumn("request_hash", "text")
    // The long columns last: SQLite reads a row front to back, and lists never need the log tail.
    .addColumn("steps", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("log_tail", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  // The list query: one user's builds, not deleted, newest first, paged by id.
  await db.schema
    .createIndex("builds_user_list")
    .on("builds")
    .columns(["user_uuid", "deleted", "id"])
    .execute();
  // The sweeper's scans: active builds by age, and VMs that may still be alive.
  await db.schema
    .createIndex("builds_status_created")
    .on("builds")
    .columns(["status", "created_at"])
    .execute();
  await db.schema.createIndex("builds_vm_state").on("builds").columns(["vm_state"]).execute();
  await db.schema
    .createIndex("builds_idempotency")
    .on("builds")
    .columns(["user_uuid", "idempotency_key"])
    .unique()
    .execute();

  let jobs = db.schema.createTable("jobs");
  jobs =
    dialect === "postgres"
      ? jobs.addColumn("id", "serial", (c) => c.primaryKey())
      : jobs.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
  await jobs
    .addColumn("build_id", "integer", (c) => c.notNull().references("builds.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("run_at", time, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", time)
    .addColumn("last_error", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .addUniqueConstraint("jobs_build_kind", ["build_id", "kind"])
    .execute();
  await db.schema.createIndex("jobs_due").on("jobs").columns(["state", "run_at"]).execute();
}
