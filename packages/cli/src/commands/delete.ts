/** @module commands/delete — `icaas delete ID`: hide a build for good; its image and log stay in Pithos. */
import { println } from "../io.ts";
import { type CommonOptions, parseId, setup } from "./common.ts";

export interface DeleteOptions extends CommonOptions {
  id: number | string;
}

/**
 * Deletes a build (a running one is stopped and its VM destroyed). Afterwards the build is not
 * found anywhere (exit code 4).
 *
 * @example
 * await deleteBuild({ id: 12, url, token });
 */
export async function deleteBuild(options: DeleteOptions): Promise<void> {
  const id = parseId(options.id);
  const { client, io } = setup(options);
  await client.deleteBuild(id);
  println(io.stdout, `build ${id} deleted (objects it put in Pithos are kept)`);
}
