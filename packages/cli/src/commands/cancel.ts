/** @module commands/cancel — `icaas cancel ID`: stop a CREATING build; the service destroys its agent VM. */
import { ApiError } from "../errors.ts";
import { println } from "../io.ts";
import { type CommonOptions, parseId, setup } from "./common.ts";

export interface CancelOptions extends CommonOptions {
  id: number | string;
}

/**
 * Cancels a build. A build that already ended → `ApiError` `build_not_active` (exit 1).
 *
 * @example
 * await cancel({ id: 12, url, token });
 */
export async function cancel(options: CancelOptions): Promise<void> {
  const id = parseId(options.id);
  const { client, io } = setup(options);
  try {
    await client.cancelBuild(id);
  } catch (error) {
    if (error instanceof ApiError && error.code === "build_not_active") {
      throw new ApiError(error.status, error.code, error.message, {
        hint: `only a CREATING build can be canceled; see its state with: icaas show ${id}`,
      });
    }
    throw error;
  }
  println(io.stdout, `build ${id} canceled`);
}
