/** @module db/schema — the tables as Kysely sees them; times are epoch milliseconds, booleans 0/1. */
import type { BuildStatus } from "@icaas/contract";
import type { Generated, Insertable, Selectable } from "kysely";

/**
 * Where the agent VM is: `none` (not asked for), `creating` (a create call was sent, its id may be
 * unknown after a crash: search Cyclades by the `icaas_build` metadata), `alive` (id known), `gone`.
 */
export type VmState = "none" | "creating" | "alive" | "gone";

export interface UsersTable {
  uuid: string;
  /** The latest token seen for the user, sealed; the fallback when a build's own token has expired. */
  token_sealed: string;
  updated_at: number;
  /** Bumped by a trigger on every insert or update of the user's builds (list page cache key). */
  builds_version: Generated<number>;
}

export interface BuildsTable {
  id: Generated<number>;
  user_uuid: string;
  name: string;
  src: string;
  description: string;
  public: number;
  project: string | null;
  /** JSON array of `{uuid}` / `{port}`, or null for the configured default. */
  networks: string | null;
  checksum: string | null;
  /** JSON `{container, object, account?}`. */
  image: string;
  log: string;
  status: BuildStatus;
  /** JSON object: `details` text, `agent-progress`, … merged on every update. */
  status_details: string;
  progress: Generated<number>;
  /** JSON array of the agent's steps. */
  steps: Generated<string>;
  /** JSON `{code, message, step?, hint?}` or null. */
  error: string | null;
  image_id: string | null;
  image_location: string | null;
  /** JSON array of the agent's last log lines. */
  log_tail: Generated<string>;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  deleted: Generated<number>;
  deleted_at: number | null;
  /** The token the build was created with, sealed (the VM is created and destroyed with it). */
  user_token_sealed: string;
  /** The manifest nonce, sealed (it is written into the VM again if the create call is retried). */
  nonce_sealed: string;
  nonce_hash: string;
  nonce_used: Generated<number>;
  manifest_fetched_at: number | null;
  /** sha256 of the agent token; the token itself is generated when the manifest is served. */
  agent_token_hash: string | null;
  last_report_at: number | null;
  vm_id: string | null;
  vm_state: Generated<VmState>;
  vm_name: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
}

export type JobKind = "create_agent" | "destroy_agent";
export type JobState = "pending" | "running" | "done" | "failed";

export interface JobsTable {
  id: Generated<number>;
  build_id: number;
  kind: JobKind;
  state: JobState;
  attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  builds: BuildsTable;
  jobs: JobsTable;
  icaas_meta: MetaTable;
}

export type BuildRow = Selectable<BuildsTable>;
export type NewBuild = Insertable<BuildsTable>;
export type JobRow = Selectable<JobsTable>;
