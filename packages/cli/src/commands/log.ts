/** @module commands/log — `icaas log ID [--follow]`: the agent's last log lines, and new ones as they come. */
import { type Build, LOG_TAIL_LINES } from "@icaas/contract";
import { BuildFailedError } from "../errors.ts";
import { clean } from "../format.ts";
import { println } from "../io.ts";
import { newLines } from "../log-tail.ts";
import { watchBuild } from "../watch.ts";
import { type CommonOptions, parseId, setup } from "./common.ts";

export interface LogOptions extends CommonOptions {
  id: number | string;
  /** Print new lines as the agent writes them, until the build ends. */
  follow?: boolean;
  /** Between two looks; default 1000 ms. */
  intervalMs?: number;
  /** Stops following (Ctrl-C). */
  signal?: AbortSignal;
  patienceMs?: number;
}

/**
 * Prints the build's log tail. With `follow`, keeps printing new lines until the build ends, then
 * resolves for COMPLETED and throws `BuildFailedError` (exit 1) for ERROR and CANCELED, like `wait`.
 *
 * @example
 * await log({ id: 12, url, token, follow: true });
 */
export async function log(options: LogOptions): Promise<Build> {
  const id = parseId(options.id);
  const { client, io } = setup(options);
  const where = (b: Build) => `${clean(b.log.container)}/${clean(b.log.object)}`;
  if (!options.follow) {
    const build = await client.getBuild(id, options.signal);
    const tail = build.log_tail ?? [];
    for (const line of tail) println(io.stdout, clean(line));
    if (tail.length === 0) println(io.stderr, `(no log lines yet; build ${id} is ${build.status})`);
    else if (tail.length >= LOG_TAIL_LINES)
      println(
        io.stderr,
        `(the last ${tail.length} lines; the whole log is the Pithos object ${where(build)})`,
      );
    return build;
  }

  let shown: string[] = [];
  const build = await watchBuild({
    client,
    id,
    intervalMs: options.intervalMs,
    signal: options.signal,
    patienceMs: options.patienceMs,
    onBuild: (b) => {
      const tail = b.log_tail ?? [];
      const fresh = newLines(shown, tail);
      if (fresh.gap)
        println(io.stderr, `(lines were skipped; the whole log is the Pithos object ${where(b)})`);
      for (const line of fresh.lines) println(io.stdout, clean(line));
      shown = tail;
    },
  });
  if (build.status !== "COMPLETED") throw new BuildFailedError(build, clean);
  println(io.stderr, `build ${id} COMPLETED`);
  return build;
}
