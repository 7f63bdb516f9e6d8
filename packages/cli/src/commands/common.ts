/** @module commands/common — what every command takes (where the service is, where to write) and sets up. */
import { IcaasClient } from "../client.ts";
import { type ConfigSources, resolveConfig } from "../config.ts";
import { UsageError } from "../errors.ts";
import { type Io, processIo } from "../io.ts";

export interface CommonOptions extends ConfigSources {
  /** Where output goes; default the process's stdout and stderr. */
  io?: Io;
  /** A ready client; otherwise one is made from `url`, `token`, the environment and the config file. */
  client?: IcaasClient;
  /** Per HTTP request; default 30 s. */
  requestTimeoutMs?: number;
}

export function setup(options: CommonOptions): { client: IcaasClient; io: Io } {
  const io = options.io ?? processIo;
  if (options.client) return { client: options.client, io };
  const config = resolveConfig({
    ...options,
    warn: options.warn ?? ((line) => io.stderr.write(`${line}\n`)),
  });
  return {
    client: new IcaasClient({ api: config.api, token: config.token, timeoutMs: options.requestTimeoutMs }),
    io,
  };
}

/** A build id as typed: a positive integer. */
export function parseId(id: string | number): number {
  const text = String(id).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new UsageError(
      `invalid build id "${text}": expected a positive number`,
      "see the ids with: icaas list",
    );
  return Number(text);
}

/** Pretty JSON and a newline, for `--json`. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
