/** @module commands/show — `icaas show ID`: one build's state, steps, error and last log lines. */
import type { Build } from "@icaas/contract";
import { buildDetails } from "../format.ts";
import { println } from "../io.ts";
import { type CommonOptions, jsonText, parseId, setup } from "./common.ts";

export interface ShowOptions extends CommonOptions {
  id: number | string;
  /** The build as the API gives it, on stdout. */
  json?: boolean;
}

/**
 * Shows a build. Not found (unknown, another user's, deleted) → `ApiError` with exit code 4.
 *
 * @example
 * const build = await show({ id: 12, url, token, json: true });
 */
export async function show(options: ShowOptions): Promise<Build> {
  const id = parseId(options.id);
  const { client, io } = setup(options);
  const build = await client.getBuild(id);
  if (options.json) io.stdout.write(jsonText(build));
  else println(io.stdout, buildDetails(build));
  return build;
}
