/** @module unpack/expand — streams an archive member to disk under a size and ratio cap (bomb guard). */
import { abortError, agentErrors } from "../errors.ts";
import { SparseWriter } from "./sparse-writer.ts";

export interface ExpansionLimits {
  /** Largest logical size (holes included) any unpacked file may have. */
  maxBytes: number;
  /**
   * Largest ratio of *allocated* output (non-zero blocks) to the compressed input. Zeros become
   * holes and cost nothing, so a mostly empty disk that compresses 1000:1 is fine; a bomb of data
   * is not.
   */
  maxRatio: number;
  /** The ratio is only judged past this many allocated bytes. */
  ratioFloorBytes: number;
}

export const DEFAULT_EXPANSION_LIMITS: ExpansionLimits = {
  maxBytes: 2 * 2 ** 40,
  maxRatio: 100,
  ratioFloorBytes: 256 * 2 ** 20,
};

/** Whether `allocated` output bytes are more than the ratio cap allows for `inputBytes` of input. */
export function expandsTooMuch(limits: ExpansionLimits, allocated: number, inputBytes: number): boolean {
  return allocated > limits.ratioFloorBytes && allocated > inputBytes * limits.maxRatio;
}

/**
 * Writes `source` to `path` sparsely and stops (destroying the source) as soon as a limit is
 * crossed. Resolves with the logical and allocated sizes.
 */
export async function expandTo(
  source: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void },
  path: string,
  options: {
    inputBytes: number;
    limits: ExpansionLimits;
    signal?: AbortSignal;
    onProgress?: (bytes: number) => void;
  },
): Promise<{ bytes: number; allocated: number }> {
  const { limits, signal } = options;
  const writer = await SparseWriter.create(path);
  const checkRatio = () => {
    const allocated = writer.allocated;
    if (expandsTooMuch(limits, allocated, options.inputBytes)) {
      throw agentErrors.expansionRefused(
        `The archive expands more than ${limits.maxRatio} times its size (${options.inputBytes} bytes became over ${allocated})`,
      );
    }
  };
  try {
    for await (const chunk of source) {
      if (signal?.aborted) throw abortError(signal, "unpack");
      if (writer.bytes + chunk.length > limits.maxBytes) {
        throw agentErrors.expansionRefused(`The archive expands beyond the ${limits.maxBytes} bytes allowed`);
      }
      await writer.write(chunk);
      checkRatio();
      options.onProgress?.(writer.bytes);
    }
    // The last partial batch is judged too, or each layer could pass the cap by a batch.
    await writer.flush();
    checkRatio();
    await writer.close();
    if (signal?.aborted) throw abortError(signal, "unpack");
    return { bytes: writer.bytes, allocated: writer.allocated };
  } catch (error) {
    source.destroy?.();
    await writer.abandon();
    throw error;
  }
}
