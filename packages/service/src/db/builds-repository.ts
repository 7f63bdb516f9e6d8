/** @module db/builds-repository — builds and users: every state change is one atomic, guarded write. */
import { type BuildStatus, isFinal } from "@icaas/contract";
import type { Kysely, Transaction } from "kysely";
import { JobRepository } from "./jobs-repository.ts";
import type { BuildRow, Database, NewBuild } from "./schema.ts";

/** The columns a build's JSON is made of (never the sealed secrets or hashes). */
export const VIEW_COLUMNS = [
  "id",
  "name",
  "src",
  "description",
  "public",
  "project",
  "networks",
  "checksum",
  "image",
  "log",
  "status",
  "status_details",
  "progress",
  "steps",
  "error",
  "image_id",
  "image_location",
  "log_tail",
  "created_at",
  "updated_at",
] as const;

/** A list page leaves out the log tail: it is long, and only the build's own page shows it. */
const LIST_COLUMNS = VIEW_COLUMNS.filter((c) => c !== "log_tail");

export type BuildView = Pick<BuildRow, (typeof VIEW_COLUMNS)[number]>;
export type BuildListView = Omit<BuildView, "log_tail">;
export type BuildSummary = Pick<BuildRow, "id" | "name" | "status">;

export interface CreateBuildInput {
  build: Omit<NewBuild, "id" | "created_at" | "updated_at" | "status" | "status_details" | "image" | "log">;
  /** Fills defaults that need the id (object names). */
  locations: (id: number) => { image: string; log: string };
  userTokenSealed: string;
  /** 0 = no cap. */
  maxActive: number;
  now?: number;
}

export type CreateBuildResult =
  | { kind: "created"; build: BuildRow }
  | { kind: "replayed"; build: BuildRow }
  | { kind: "key_reused" }
  | { kind: "too_many" };

export interface FinishOptions {
  details: string;
  error?: { code: string; message: string; step?: string; hint?: string } | null;
  extra?: Partial<Pick<BuildRow, "image_id" | "image_location" | "progress" | "steps" | "log_tail">>;
  /** Extra keys merged into status_details (e.g. the last agent-progress). */
  detailsExtra?: Record<string, unknown>;
  now?: number;
}

export class BuildRepository {
  readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Stores the latest token seen for a user (sealed). */
  async upsertUser(uuid: string, tokenSealed: string, now = Date.now()): Promise<void> {
    await upsertUser(this.db, uuid, tokenSealed, now);
  }

  /** The user's builds version (see migration 0002); undefined for a user without a row. */
  async buildsVersion(uuid: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select("builds_version")
      .where("uuid", "=", uuid)
      .executeTakeFirst();
    return row?.builds_version;
  }

  async userToken(uuid: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select("token_sealed")
      .where("uuid", "=", uuid)
      .executeTakeFirst();
    return row?.token_sealed;
  }

  /**
   * Creates a build and its create-agent job in one transaction. The user's row is upserted first: on
   * PostgreSQL that locks it, so the active-build cap and the idempotency check hold under
   * concurrent requests of one user; SQLite runs one write transaction at a time anyway.
   */
  async create(input: CreateBuildInput): Promise<CreateBuildResult> {
    const now = input.now ?? Date.now();
    const { build } = input;
    return this.db.transaction().execute(async (trx) => {
      await upsertUser(trx, build.user_uuid, input.userTokenSealed, now);
      if (build.idempotency_key) {
        const existing = await trx
          .selectFrom("builds")
          .selectAll()
          .where("user_uuid", "=", build.user_uuid)
          .where("idempotency_key", "=", build.idempotency_key)
          .executeTakeFirst();
        if (existing) {
          return existing.request_hash === build.request_hash
            ? { kind: "replayed" as const, build: existing }
            : { kind: "key_reused" as const };
        }
      }
      if (input.maxActive > 0) {
        const { count } = await trx
          .selectFrom("builds")
          .select((eb) => eb.fn.countAll<number>().as("count"))
          .where("user_uuid", "=", build.user_uuid)
          .where("status", "=", "CREATING")
          .where("deleted", "=", 0)
          .executeTakeFirstOrThrow();
        if (Number(count) >= input.maxActive) return { kind: "too_many" as const };
      }
      const { id } = await trx
        .insertInto("builds")
        .values({
          ...build,
          status: "CREATING",
          status_details: JSON.stringify({ details: "Build request accepted" }),
          image: "{}",
          log: "{}",
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const locations = input.locations(id);
      const row = await trx
        .updateTable("builds")
        .set({ image: locations.image, log: locations.log })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await JobRepository.enqueue(trx, id, "create_agent", now);
      return { kind: "created" as const, build: row };
    });
  }

  /** A build of this user that is not deleted. */
  async findOwned(id: number, userUuid: string): Promise<BuildView | undefined> {
    return this.db
      .selectFrom("builds")
      .select(VIEW_COLUMNS)
      .where("id", "=", id)
      .where("user_uuid", "=", userUuid)
      .where("deleted", "=", 0)
      .executeTakeFirst();
  }

  /** Any build, deleted or not, with every column (jobs and agent endpoints). */
  async find(id: number): Promise<BuildRow | undefined> {
    return this.db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** One user's builds, not deleted, newest first; `marker` is the last id of the previous page. */
  async list(
    userUuid: string,
    options: { status?: BuildStatus; limit?: number; marker?: number; details: boolean },
  ): Promise<(BuildListView | BuildSummary)[]> {
    let query = this.db
      .selectFrom("builds")
      .where("user_uuid", "=", userUuid)
      .where("deleted", "=", 0)
      .orderBy("id", "desc");
    if (options.status) query = query.where("status", "=", options.status);
    if (options.marker !== undefined) query = query.where("id", "<", options.marker);
    if (options.limit !== undefined) query = query.limit(options.limit);
    return options.details
      ? query.select(LIST_COLUMNS).execute()
      : query.select(["id", "name", "status"]).execute();
  }

  /** Soft-deletes a build of this user; its VM, if any, is destroyed. Pithos objects are kept. */
  async softDelete(id: number, userUuid: string, now = Date.now()): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("builds")
        .set({ deleted: 1, deleted_at: now, updated_at: now })
        .where("id", "=", id)
        .where("user_uuid", "=", userUuid)
        .where("deleted", "=", 0)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await JobRepository.enqueue(trx, id, "destroy_agent", now);
      return true;
    });
  }

  /**
   * Moves a CREATING build to a final state and queues the VM's destruction, in one transaction.
   * Returns false (and changes nothing) when the build is not CREATING: final states never change.
   */
  async finish(id: number, status: BuildStatus, options: FinishOptions): Promise<boolean> {
    if (!isFinal(status)) throw new Error(`not a final status: ${status}`);
    const now = options.now ?? Date.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("builds")
        .select(["status", "status_details"])
        .where("id", "=", id)
        .executeTakeFirst();
      if (row?.status !== "CREATING") return false;
      const details = {
        ...parseObject(row.status_details),
        ...options.detailsExtra,
        details: options.details,
      };
      const result = await trx
        .updateTable("builds")
        .set({
          ...options.extra,
          status,
          status_details: JSON.stringify(details),
          ...(options.error !== undefined
            ? { error: options.error ? JSON.stringify(options.error) : null }
            : {}),
          ...(status === "COMPLETED" ? { progress: 100 } : {}),
          finished_at: now,
          updated_at: now,
        })
        .where("id", "=", id)
        .where("status", "=", "CREATING")
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await JobRepository.enqueue(trx, id, "destroy_agent", now);
      return true;
    });
  }

  /**
   * Serves the manifest once: marks the nonce used, stores the agent token's hash and says the agent
   * booted. Fails (false) if the nonce was used meanwhile or the build stopped being CREATING.
   */
  async claimManifest(
    id: number,
    agentTokenHash: string,
    statusDetails: string,
    now = Date.now(),
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("builds")
      .set({
        nonce_used: 1,
        agent_token_hash: agentTokenHash,
        manifest_fetched_at: now,
        last_report_at: now,
        status_details: statusDetails,
        updated_at: now,
      })
      .where("id", "=", id)
      .where("nonce_used", "=", 0)
      .where("status", "=", "CREATING")
      .where("deleted", "=", 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Burns a nonce without serving it (an expired manifest). */
  async burnNonce(id: number, now = Date.now()): Promise<void> {
    await this.db
      .updateTable("builds")
      .set({ nonce_used: 1, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  /** Applies an agent's CREATING report; false when the build is no longer CREATING. */
  async applyReport(
    id: number,
    changes: Partial<
      Pick<
        BuildRow,
        "status_details" | "progress" | "steps" | "log_tail" | "error" | "image_id" | "image_location"
      >
    >,
    now = Date.now(),
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("builds")
      .set({ ...changes, last_report_at: now, updated_at: now })
      .where("id", "=", id)
      .where("status", "=", "CREATING")
      .where("deleted", "=", 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  // ——— the agent VM ———

  /** Records the intent to create a VM before the call, so a crash mid-call is searched for later. */
  async markVmCreating(id: number, vmName: string, now = Date.now()): Promise<void> {
    await this.db
      .updateTable("builds")
      .set({ vm_state: "creating", vm_name: vmName, updated_at: now })
      .where("id", "=", id)
      .where("vm_state", "in", ["none", "creating"])
      .execute();
  }

  /**
   * Stores the VM's id. If the build ended or was deleted while the VM was being created, the
   * destroy job is queued (again) so the VM does not outlive it.
   *
   * Answers `recorded` the first time, `already` when this VM was recorded before (an adopted VM), and
   * `duplicate` when another VM is recorded: two attempts overlapped (a runner whose lease lapsed) and
   * both created one; the caller must delete its own, which nothing else knows of.
   */
  async markVmAlive(
    id: number,
    vmId: string,
    now = Date.now(),
  ): Promise<"recorded" | "already" | "duplicate"> {
    return this.db.transaction().execute(async (trx) => {
      // Conditional, so of two concurrent attempts only one wins (PostgreSQL re-checks the row it waited for).
      const won = await trx
        .updateTable("builds")
        .set({ vm_id: vmId, vm_state: "alive", updated_at: now })
        .where("id", "=", id)
        .where("vm_id", "is", null)
        .executeTakeFirst();
      if (Number(won.numUpdatedRows) === 0) {
        const current = await trx
          .selectFrom("builds")
          .select("vm_id")
          .where("id", "=", id)
          .executeTakeFirst();
        return current?.vm_id === vmId ? "already" : "duplicate";
      }
      const row = await trx
        .selectFrom("builds")
        .select(["status", "deleted", "status_details"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      if (row.status !== "CREATING" || row.deleted === 1) {
        await JobRepository.enqueue(trx, id, "destroy_agent", now);
        return "recorded";
      }
      // A fast agent may have fetched its manifest already ("Agent booted normally"): only a text
      // nobody changed meanwhile is replaced.
      await trx
        .updateTable("builds")
        .set({
          status_details: JSON.stringify({
            ...parseObject(row.status_details),
            details: "started ICaaS agent creation",
          }),
        })
        .where("id", "=", id)
        .where("status", "=", "CREATING")
        .where("nonce_used", "=", 0)
        .where("status_details", "=", row.status_details)
        .execute();
      return "recorded";
    });
  }

  /** The VM is known not to exist (never created, or destroyed). */
  async markVmGone(id: number, state: "none" | "gone" = "gone", now = Date.now()): Promise<void> {
    await this.db
      .updateTable("builds")
      .set({ vm_state: state, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  // ——— the sweeper's scans ———

  /** Ids of CREATING builds (not deleted) matching an age condition. */
  async activeIds(
    condition: "manifest_expired" | "agent_silent" | "overdue",
    cutoff: number,
    limit = 500,
  ): Promise<number[]> {
    let query = this.db
      .selectFrom("builds")
      .select("id")
      .where("status", "=", "CREATING")
      .where("deleted", "=", 0)
      .limit(limit);
    if (condition === "manifest_expired")
      query = query.where("nonce_used", "=", 0).where("created_at", "<", cutoff);
    else if (condition === "agent_silent")
      query = query.where("nonce_used", "=", 1).where("last_report_at", "<", cutoff);
    else query = query.where("created_at", "<", cutoff);
    return (await query.execute()).map((r) => r.id);
  }

  /** Builds that are over (or deleted) whose VM may still exist and that have no destroy job queued. */
  async vmsToDestroy(limit = 500): Promise<number[]> {
    const rows = await this.db
      .selectFrom("builds")
      .select("builds.id")
      .where("vm_state", "in", ["creating", "alive"])
      .where((eb) => eb.or([eb("status", "!=", "CREATING"), eb("deleted", "=", 1)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("jobs")
              .select("jobs.id")
              .whereRef("jobs.build_id", "=", "builds.id")
              .where("jobs.kind", "=", "destroy_agent")
              .where("jobs.state", "in", ["pending", "running"]),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Builds (not deleted) by status, for the metrics. */
  async countByStatus(): Promise<Record<BuildStatus, number>> {
    const rows = await this.db
      .selectFrom("builds")
      .select(["status", (eb) => eb.fn.countAll<number>().as("count")])
      .where("deleted", "=", 0)
      .groupBy("status")
      .execute();
    const out: Record<BuildStatus, number> = { CREATING: 0, COMPLETED: 0, ERROR: 0, CANCELED: 0 };
    for (const r of rows) out[r.status] = Number(r.count);
    return out;
  }
}

async function upsertUser(
  db: Kysely<Database> | Transaction<Database>,
  uuid: string,
  tokenSealed: string,
  now: number,
) {
  await db
    .insertInto("users")
    .values({ uuid, token_sealed: tokenSealed, updated_at: now })
    .onConflict((oc) => oc.column("uuid").doUpdateSet({ token_sealed: tokenSealed, updated_at: now }))
    .execute();
}

/** Parses a JSON object column; anything else (old rows, a raw string) becomes `{details: text}`. */
export function parseObject(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { details: String(value) };
  } catch {
    return { details: text };
  }
}
