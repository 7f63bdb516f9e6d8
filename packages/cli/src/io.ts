/** @module io — where commands write: the process's streams, or strings a test reads back. */

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Results go to `stdout`; progress, notes and errors to `stderr`, so `--json` output stays clean. */
export interface Io {
  stdout: OutStream;
  stderr: OutStream;
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

export interface CapturedIo {
  io: Io;
  stdout(): string;
  stderr(): string;
}

/**
 * An `Io` that keeps what is written.
 *
 * @example
 * const cap = captureIo();
 * await show({ id: 1, ...config, io: cap.io });
 * cap.stdout();
 */
export function captureIo(options: { tty?: boolean; columns?: number } = {}): CapturedIo {
  const stdout = capture(options);
  const stderr = capture(options);
  return { io: { stdout: stdout.stream, stderr: stderr.stream }, stdout: stdout.text, stderr: stderr.text };
}

/** One stream of {@link captureIo}: what is written, kept. */
function capture(options: { tty?: boolean; columns?: number }): { stream: OutStream; text: () => string } {
  let text = "";
  return {
    stream: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
      isTTY: options.tty ?? false,
      columns: options.columns,
    },
    text: () => text,
  };
}

/** Writes a line. */
export function println(stream: OutStream, line = ""): void {
  stream.write(`${line}\n`);
}
