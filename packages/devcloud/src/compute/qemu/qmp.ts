/** @module qemu/qmp — a minimal QMP client over QEMU's unix socket: one command at a time, events ignored. */
import { connect, type Socket } from "node:net";

export class QmpError extends Error {}

/**
 * Connects to a QMP socket, negotiates capabilities and runs `commands` in order; resolves with each
 * command's `return`. The connection is closed afterwards (QEMU accepts a new one at any time).
 */
export async function qmp(socketPath: string, commands: string[], timeoutMs = 5000): Promise<unknown[]> {
  const socket = connect(socketPath);
  socket.setEncoding("utf8");
  const lines = lineReader(socket);
  const timer = setTimeout(() => socket.destroy(new QmpError(`QMP ${socketPath}: no answer`)), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    await lines.next(); // the greeting
    const results: unknown[] = [];
    for (const command of ["qmp_capabilities", ...commands]) {
      socket.write(`${JSON.stringify({ execute: command })}\n`);
      for (;;) {
        const line = await lines.next();
        if (line === undefined) throw new QmpError(`QMP ${socketPath}: closed during ${command}`);
        const message = JSON.parse(line) as { return?: unknown; error?: { desc?: string }; event?: string };
        if (message.event) continue;
        if (message.error) throw new QmpError(`QMP ${command}: ${message.error.desc ?? "error"}`);
        if (command !== "qmp_capabilities") results.push(message.return);
        break;
      }
    }
    return results;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

function lineReader(socket: Socket): { next(): Promise<string | undefined> } {
  let buffer = "";
  const queue: string[] = [];
  let waiting: ((line: string | undefined) => void) | undefined;
  let ended = false;
  const finish = () => {
    ended = true;
    waiting?.(undefined);
    waiting = undefined;
  };
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (line === "") continue;
      if (waiting) {
        waiting(line);
        waiting = undefined;
      } else queue.push(line);
    }
  });
  socket.on("close", finish);
  socket.on("error", finish);
  return {
    next: () =>
      new Promise((resolve) => {
        const line = queue.shift();
        if (line !== undefined) resolve(line);
        else if (ended) resolve(undefined);
        else waiting = resolve;
      }),
  };
}
