/** @module db/jobs-repository — the durable job table: enqueue, claim with a lease, finish, retry. */
import type { Kysely } from "kysely";
import type { Dialect } from "./dialect.ts";
import type { Database, JobKind, JobRow } from "./schema.ts";

/**
 * Jobs are unique per (build, kind). A job is claimed by setting `state = running` with a lease; a
 * runner that dies leaves the lease to expire and another runner takes the job over. Every write
 * after the claim is conditioned on still owning the lease.
 */
export class JobRepository {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /**
   * Queues a job, or re-arms a finished one. A job already pending or running is left alone (a
   * pending one is moved earlier if `runAt` is sooner).
   */
  static async enqueue(db: Kysely<Database>, buildId: number, kind: JobKind, now: number): Promise<void> {
    await db
      .insertInto("jobs")
      .values({
        build_id: buildId,
        kind,
        state: "pending",
        attempts: 0,
        run_at: now,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(["build_id", "kind"])
          .doUpdateSet({ state: "pending", attempts: 0, run_at: now, updated_at: now, last_error: null })
          .where("jobs.state", "in", ["done", "failed"]),
      )
      .execute();
  }

  enqueue(buildId: number, kind: JobKind, now = Date.now()): Promise<void> {
    return JobRepository.enqueue(this.#db, buildId, kind, now);
  }

  /**
   * Claims up to `limit` due jobs: pending ones whose time has come, and running ones whose lease
   * ran out. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances claim at once without
   * waiting on each other; on SQLite the single UPDATE statement is atomic by itself.
   */
  async claim(owner: string, limit: number, leaseMs: number, now = Date.now()): Promise<JobRow[]> {
    let due = this.#db
      .selectFrom("jobs")
      .select("id")
      .where((eb) =>
        eb.or([
          eb.and([eb("state", "=", "pending"), eb("run_at", "<=", now)]),
          eb.and([eb("state", "=", "running"), eb("lease_until", "<", now)]),
        ]),
      )
      .orderBy("run_at")
      .limit(limit);
    if (this.#dialect === "postgres") due = due.forUpdate().skipLocked();
    return this.#db
      .updateTable("jobs")
      .set({ state: "running", lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
      .where("id", "in", due)
      .returningAll()
      .execute();
  }

  /** Extends the lease of jobs still owned by `owner`. */
  async renew(ids: number[], owner: string, leaseMs: number, now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.#db
      .updateTable("jobs")
      .set({ lease_until: now + leaseMs, updated_at: now })
      .where("id", "in", ids)
      .where("lease_owner", "=", owner)
      .where("state", "=", "running")
      .execute();
  }

  async complete(id: number, owner: string, now = Date.now()): Promise<void> {
    await this.#finish(id, owner, { state: "done", lease_owner: null, lease_until: null, updated_at: now });
  }

  async fail(id: number, owner: string, error: string, now = Date.now()): Promise<void> {
    await this.#finish(id, owner, {
      state: "failed",
      lease_owner: null,
      lease_until: null,
      last_error: error.slice(0, 1000),
      updated_at: now,
    });
  }

  /** Puts the job back in the queue for `runAt`; `countAttempt` false for a mere wait. */
  async retry(
    job: JobRow,
    owner: string,
    runAt: number,
    error: string,
    countAttempt = true,
    now = Date.now(),
  ): Promise<void> {
    await this.#finish(job.id, owner, {
      state: "pending",
      attempts: countAttempt ? job.attempts + 1 : job.attempts,
      run_at: runAt,
      lease_owner: null,
      lease_until: null,
      last_error: error.slice(0, 1000),
      updated_at: now,
    });
  }

  async #finish(id: number, owner: string, changes: Partial<JobRow>): Promise<void> {
    await this.#db
      .updateTable("jobs")
      .set(changes)
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .where("state", "=", "running")
      .execute();
  }

  async get(buildId: number, kind: JobKind): Promise<JobRow | undefined> {
    return this.#db
      .selectFrom("jobs")
      .selectAll()
      .where("build_id", "=", buildId)
      .where("kind", "=", kind)
      .executeTakeFirst();
  }

  /** Drops a job that has not started yet; true when it was pending and is now done. */
  async cancelPending(buildId: number, kind: JobKind, now = Date.now()): Promise<boolean> {
    const result = await this.#db
      .updateTable("jobs")
      .set({ state: "done", last_error: "canceled before it ran", updated_at: now })
      .where("build_id", "=", buildId)
      .where("kind", "=", kind)
      .where("state", "=", "pending")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Counts by kind and state, for tests and the operations page. */
  async counts(): Promise<{ kind: JobKind; state: string; count: number }[]> {
    const rows = await this.#db
      .selectFrom("jobs")
      .select(["kind", "state", (eb) => eb.fn.countAll<number>().as("count")])
      .groupBy(["kind", "state"])
      .execute();
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }
}
