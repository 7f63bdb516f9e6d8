/** @module child — runs tools (qemu-img, xz, …) with a minimal environment and no secrets in sight. */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { PassThrough, pipeline, type Readable } from "node:stream";

/** The only environment a child gets: enough to find tools and speak plain English, nothing else. */
function minimalEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C.UTF-8",
  };
}

/**
 * Spawns `command` with its stdout already being read, into a stream the caller may start reading
 * later. When a child exits, Node resumes any stdout that has no reader and its output is thrown
 * away, so a caller that awaits anything between spawn and its first read (opening the output file)
 * would lose everything a fast child wrote, and see a clean exit. The pipe keeps back-pressure: the
 * child is paused, not buffered without limit, while the caller does not read.
 *
 * @example
 * const { child, stdout } = spawnReading("gzip", ["-dc"], { stdio: [fd, "pipe", "pipe"] });
 * const out = await open(path, "w"); // the child may exit meanwhile: nothing is lost
 * for await (const chunk of stdout) await out.write(chunk);
 */
export function spawnReading(
  command: string,
  args: string[],
  options: SpawnOptions,
): { child: ChildProcess; stdout: Readable } {
  const child = spawn(command, args, { env: minimalEnv(), ...options });
  if (!child.stdout) throw new Error("spawnReading needs stdout to be a pipe");
  const stdout = new PassThrough();
  // pipeline also destroys the child's stdout when the caller destroys `stdout` (an early stop).
  pipeline(child.stdout, stdout, () => {});
  return { child, stdout };
}

export interface RunOptions {
  signal?: AbortSignal;
  cwd?: string;
  /** Called with each chunk of stdout as text (for progress parsing); stdout is then not collected. */
  onStdout?: (text: string) => void;
  /** Kill the child after this long (ms). */
  timeoutMs?: number;
  /** Cap on collected stdout/stderr, in bytes (default 1 MiB each); the tail is kept. */
  maxOutput?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `command args…` to the end and collects its output. Never throws for a non-zero exit (the
 * caller turns that into its own error); rejects only when the program cannot start or the signal
 * aborts (with the signal's reason).
 *
 * @example
 * const r = await runCommand("qemu-img", ["info", "--output=json", path], { signal });
 */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, timeoutMs } = options;
  const maxOutput = options.maxOutput ?? 1 << 20;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: minimalEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const keepTail = (acc: string, chunk: string) => {
      const next = acc + chunk;
      return next.length > maxOutput ? next.slice(next.length - maxOutput) : next;
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (options.onStdout) options.onStdout(chunk);
      else stdout = keepTail(stdout, chunk);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr = keepTail(stderr, chunk);
    });
    const kill = () => {
      child.kill("SIGTERM");
      // A tool that ignores SIGTERM must not outlive a canceled build.
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    };
    const onAbort = () => kill();
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            kill();
          }, timeoutMs);
    child.on("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, signal: sig, stdout, stderr, timedOut });
    });
  });
}

/** The last non-empty line of a tool's stderr, for error messages. */
export function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? "";
}
