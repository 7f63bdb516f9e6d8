/** @module build — a build as the ICaaS API shows it (docs/api.md, "The build"). */

export type BuildStatus = "CREATING" | "COMPLETED" | "ERROR" | "CANCELED";

export const BUILD_STATUSES: readonly BuildStatus[] = ["CREATING", "COMPLETED", "ERROR", "CANCELED"];

export interface BuildStep {
  name: string;
  /** `pending`, `running`, `done`, `skipped` or `failed`. */
  state: string;
  bytes_done: number | null;
  bytes_total: number | null;
  started: string | null;
  finished: string | null;
}

export interface BuildFailure {
  code: string;
  message: string;
  step?: string;
  hint?: string;
}

export interface PithosLocation {
  container: string;
  object: string;
  account?: string;
}

/** The full build (`GET /builds/{id}`, or a list entry with `details=1`, which has no `log_tail`). */
export interface Build {
  id: number;
  name: string;
  links: Array<{ href: string; rel: string }>;
  status: BuildStatus;
  src: string;
  description: string | null;
  public: boolean;
  status_details: { details?: string; "agent-progress"?: { current: number; total: number } };
  image: PithosLocation;
  log: PithosLocation;
  project: string | null;
  networks: unknown[] | null;
  checksum: string | null;
  created: string;
  updated: string;
  progress: number;
  steps: BuildStep[];
  error: BuildFailure | null;
  image_id: string | null;
  image_location: string | null;
  log_tail?: string[];
}

/** What `POST /builds` takes; only `name` and `src` are required. */
export interface BuildRequest {
  name: string;
  src: string;
  description?: string;
  public?: boolean;
  project?: string;
  image?: Partial<PithosLocation>;
  log?: Partial<PithosLocation>;
  checksum?: string;
}

export function isFinal(status: string): boolean {
  return status === "COMPLETED" || status === "ERROR" || status === "CANCELED";
}

/** The step the agent is in: the running one, else the failed one, else the last finished one. */
export function currentStep(build: Pick<Build, "steps">): BuildStep | undefined {
  const steps = build.steps ?? [];
  return (
    steps.find((s) => s.state === "running") ??
    steps.find((s) => s.state === "failed") ??
    [...steps].reverse().find((s) => s.state === "done")
  );
}
