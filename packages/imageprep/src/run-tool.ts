/** @module run-tool — runs the disk tools (sfdisk, debugfs, e2fsck, …) with argument arrays, never a shell. */
import { spawn } from "node:child_process";
import { ImagePrepError } from "./errors.ts";

/** sbin directories are not on a normal user's PATH on Debian, yet e2fsprogs and sfdisk live there. */
function toolPath(): string {
  const dirs = (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":").filter(Boolean);
  for (const d of ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!dirs.includes(d)) dirs.push(d);
  }
  return dirs.join(":");
}

export interface RunToolOptions {
  /** Bytes or text written to the tool's stdin (then closed). */
  input?: string | Buffer;
  /** Exit codes that are not failures (default `[0]`). */
  okCodes?: number[];
  signal?: AbortSignal;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * How stdout/stderr/stdin text is decoded: `latin1` keeps every byte of a guest file name so it can
   * be sent back unchanged (debugfs); default `utf8`.
   */
  encoding?: "utf8" | "latin1";
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tool args…` and collects its output. A non-zero exit (outside `okCodes`) becomes an
 * {@link ImagePrepError} `tool_failed` whose message carries the tool's stderr.
 *
 * @example
 * const { stdout } = await runTool("sfdisk", ["-J", image]);
 */
export function runTool(tool: string, args: string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const okCodes = options.okCodes ?? [0];
  const encoding = options.encoding ?? "utf8";
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawn(tool, args, {
      env: { PATH: toolPath(), LANG: "C", LC_ALL: "C", ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.name === "AbortError") reject(options.signal?.reason ?? e);
      else if (e.code === "ENOENT") {
        reject(
          new ImagePrepError("tool_failed", `${tool} is not installed (not found on PATH)`, {
            tool,
            cause: e,
          }),
        );
      } else
        reject(
          new ImagePrepError("tool_failed", `${tool} could not start: ${e.message}`, { tool, cause: e }),
        );
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {
        // The tool may exit before reading all of stdin; its exit code tells what happened.
      });
      child.stdin.end(
        typeof options.input === "string" ? Buffer.from(options.input, encoding) : options.input,
      );
    }
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString(encoding);
      const stderr = Buffer.concat(err).toString(encoding);
      const exit = code ?? -1;
      if (okCodes.includes(exit)) {
        resolve({ code: exit, stdout, stderr });
        return;
      }
      const why = signal ? `killed by ${signal}` : `exit code ${exit}`;
      const detail = (stderr.trim() || stdout.trim()).split("\n").slice(-15).join("\n");
      reject(
        new ImagePrepError("tool_failed", `${tool} failed (${why})${detail ? `: ${detail}` : ""}`, { tool }),
      );
    });
  });
}
