/** @module commands/list — `icaas list`: your builds, newest first, as a table or JSON. */
import { BUILD_STATUSES, type Build } from "@icaas/contract";
import { UsageError } from "../errors.ts";
import { buildTable } from "../format.ts";
import { println } from "../io.ts";
import { type CommonOptions, jsonText, setup } from "./common.ts";

export interface ListOptions extends CommonOptions {
  /** Only builds in this state (any case). */
  status?: string;
  /** Every build, page after page; otherwise the newest `limit`. */
  all?: boolean;
  /** Builds shown without `all` (default 20), or the page size with it (default 100); 1–1000. */
  limit?: number;
  /** A JSON array of full builds on stdout. */
  json?: boolean;
}

/**
 * Lists the user's builds (full builds, without `log_tail`).
 *
 * @example
 * const builds = await list({ url, token, status: "creating", json: true });
 */
export async function list(options: ListOptions = {}): Promise<Build[]> {
  const status = options.status?.trim().toUpperCase();
  if (status !== undefined && !BUILD_STATUSES.includes(status as Build["status"]))
    throw new UsageError(`invalid status "${options.status}"`, `one of ${BUILD_STATUSES.join(", ")}`);
  const limit = options.limit ?? (options.all ? 100 : 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`invalid limit ${limit}: expected an integer from 1 to 1000`);
  const { client, io } = setup(options);

  let builds: Build[] = [];
  let more = false;
  if (options.all) {
    for await (const b of client.allBuilds({ status, pageSize: limit })) builds.push(b);
  } else {
    // One more than shown tells whether older builds exist.
    builds = await client.listBuilds({ status, limit: Math.min(limit + 1, 1000) });
    more = builds.length > limit;
    builds = builds.slice(0, limit);
  }

  if (options.json) io.stdout.write(jsonText(builds));
  else if (builds.length === 0) println(io.stderr, status ? `no ${status} builds` : "no builds");
  else println(io.stdout, buildTable(builds));
  if (more && !options.json) println(io.stderr, `(the newest ${limit}; older ones with --all or --limit N)`);
  return builds;
}
