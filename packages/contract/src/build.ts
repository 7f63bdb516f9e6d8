/** @module build — a build as the API shows it (docs/api.md, "The build"), and what creates one. */
import type { BuildStatus } from "./status.ts";
import type { StepState } from "./steps.ts";

/** One step of a build, as the agent last reported it (absent numbers and times are null). */
export interface BuildStep {
  /** One of `STEP_NAMES` for this version's agent; clients show other names as they are. */
  name: string;
  state: StepState;
  bytes_done: number | null;
  bytes_total: number | null;
  started: string | null;
  finished: string | null;
}

/** Why a build failed: a stable `code` for programs, a `message` and `hint` for people. */
export interface BuildError {
  code: string;
  message: string;
  step?: string;
  hint?: string;
}

/** Where an object is in Pithos; `account` only when it is not the user's own. */
export interface PithosLocation {
  container: string;
  object: string;
  account?: string;
}

/** `status_details`: an object (the original sent a JSON string). */
export interface StatusDetails {
  details?: string;
  "agent-progress"?: { current: number; total: number };
}

/** A list entry without `details=1`: the original's `{links, id, name}` plus `status`. */
export interface BuildSummary {
  id: number;
  name: string;
  links: Array<{ href: string; rel: string }>;
  status: BuildStatus;
}

/** The full build (`GET /builds/{id}`, or a list entry with `details=1`, which has no `log_tail`). */
export interface Build extends BuildSummary {
  src: string;
  description: string;
  public: boolean;
  status_details: StatusDetails;
  image: PithosLocation;
  log: PithosLocation;
  project: string | null;
  networks: BuildNetwork[] | null;
  checksum: string | null;
  created: string;
  updated: string;
  /** 0-100, from the agent's byte-weighted progress. */
  progress: number;
  steps: BuildStep[];
  error: BuildError | null;
  image_id: string | null;
  image_location: string | null;
  /** The agent's last `LOG_TAIL_LINES` lines; only on a single build. */
  log_tail?: string[];
}

/** A network of the agent VM: a Cyclades network (optionally with a fixed IP) or an existing port. */
export type BuildNetwork = { uuid: string; fixed_ip?: string } | { port: string };

/** What `POST /builds` takes in `{"build": …}`; only `name` and `src` are required. */
export interface BuildRequest {
  name: string;
  src: string;
  description?: string;
  public?: boolean;
  project?: string;
  networks?: BuildNetwork[];
  image?: Partial<PithosLocation>;
  log?: Partial<PithosLocation>;
  checksum?: string;
}
