/** @module unpack/decompress — gz/xz/bz2/zst through the system tools, streamed to a capped sparse file. */
import { open, stat } from "node:fs/promises";
import { spawnReading } from "../child.ts";
import { abortError, agentErrors } from "../errors.ts";
import { type ExpansionLimits, expandTo } from "./expand.ts";

export type Compression = "gzip" | "xz" | "bzip2" | "zstd";

const TOOLS: Record<Compression, [string, string[]]> = {
  gzip: ["gzip", ["-dc"]],
  // Multi-threaded where the stream allows it (xz ≥ 5.4 splits blocks).
  xz: ["xz", ["-dc", "-T0"]],
  bzip2: ["bzip2", ["-dc"]],
  zstd: ["zstd", ["-dc", "--no-progress"]],
};

/**
 * Decompresses `input` into `output`. The tool reads the file itself (another core) while this
 * process only writes the non-zero blocks; past a limit the tool is killed.
 */
export async function decompress(
  kind: Compression,
  input: string,
  output: string,
  options: {
    limits: ExpansionLimits;
    signal?: AbortSignal;
    onProgress?: (bytes: number) => void;
    /** The size the expansion ratio is measured against; default the input's own size. */
    inputBytes?: number;
  },
): Promise<{ bytes: number; allocated: number }> {
  const [command, args] = TOOLS[kind];
  const inputBytes = Math.min(options.inputBytes ?? Number.POSITIVE_INFINITY, (await stat(input)).size);
  const fh = await open(input, "r");
  // Read from the start: expandTo opens the output file first, and a fast tool may be gone by then.
  const { child, stdout } = spawnReading(command, args, { stdio: [fh.fd, "pipe", "pipe"] });
  const childErr = child.stderr!;
  let stderr = "";
  childErr.setEncoding("utf8");
  childErr.on("data", (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.on("error", (error) => resolve({ code: null, signal: null, error }));
      child.on("close", (code, signal) => resolve({ code, signal }));
    },
  );
  const onAbort = () => child.kill("SIGKILL");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await expandTo(stdout, output, { inputBytes, ...options }).catch(async (error) => {
      child.kill("SIGKILL");
      await exited;
      throw error;
    });
    const end = await exited;
    if (options.signal?.aborted) throw abortError(options.signal, "unpack");
    if (end.error || end.code !== 0) {
      const detail =
        end.error?.message ?? (stderr.trim().split("\n").pop() || `exit ${end.code ?? end.signal}`);
      throw agentErrors.archiveDamaged(`${kind} data`, detail.replace(/^\S*: /, ""), undefined);
    }
    return result;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await fh.close();
  }
}
