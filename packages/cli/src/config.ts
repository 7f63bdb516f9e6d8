/** @module config — where the service is and which token to send: flags, then ICAAS_* variables, then a file. */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, EXIT, UsageError } from "./errors.ts";

/** What the user gave; every field is optional and the first source that has a value wins. */
export interface ConfigSources {
  /** `--url`: the service's base URL (`http://127.0.0.1:8080`); a trailing `/icaas` is accepted. */
  url?: string;
  /** `--token`: the Synnefo token. */
  token?: string;
  /** `--config`: a JSON file `{"url", "token"}`; default `$ICAAS_CONFIG` or `~/.config/icaas/config.json`. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives warnings (a config file others can read). */
  warn?: (line: string) => void;
}

export interface CliConfig {
  /** The service's base URL, without a trailing slash. */
  url: string;
  /** `<url>/icaas` */
  api: string;
  token: string;
  /** The config file that was read, if any. */
  configFile?: string;
}

/** `$XDG_CONFIG_HOME/icaas/config.json`, else `~/.config/icaas/config.json`. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "icaas", "config.json");
}

interface FileConfig {
  url?: string;
  token?: string;
}

/**
 * Reads the config file. The parser's message is never shown: V8 quotes the file's text in it, and
 * the text holds the token.
 */
function readConfigFile(
  path: string,
  explicit: boolean,
  warn?: (line: string) => void,
): FileConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !explicit) return undefined;
    throw new UsageError(`cannot read the config file ${path} (${code ?? "unreadable"})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON`, 'expected {"url": "…", "token": "…"}');
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(
      `the config file ${path} is not a JSON object`,
      'expected {"url": "…", "token": "…"}',
    );
  }
  const { url, token } = value as Record<string, unknown>;
  for (const [key, v] of [
    ["url", url],
    ["token", token],
  ] as const) {
    if (v !== undefined && typeof v !== "string")
      throw new UsageError(`"${key}" in the config file ${path} is not a string`);
  }
  if (typeof token === "string" && warn) {
    try {
      if ((statSync(path).mode & 0o077) !== 0)
        warn(`warning: ${path} holds a token and others can read it (chmod 600 ${path})`);
    } catch {
      // Read a moment ago; a vanished file is not worth a warning.
    }
  }
  return { url: url as string | undefined, token: token as string | undefined };
}

/**
 * The service URL as the API base. Credentials in the URL are refused: they would be printed in
 * every error message that names the URL.
 */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError(`invalid service URL "${raw}"`, "expected e.g. http://127.0.0.1:8080");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`invalid service URL "${url.protocol}//…": only http and https`);
  if (url.username || url.password)
    throw new UsageError(
      "the service URL must not hold credentials",
      "pass the token with --token or ICAAS_TOKEN",
    );
  if (url.search || url.hash) throw new UsageError(`the service URL must not have a query or fragment`);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/icaas$/, "");
  return `${url.origin}${path}`;
}

/**
 * Resolves the URL and the token: flag, then `ICAAS_URL`/`ICAAS_TOKEN`, then the config file.
 *
 * @example
 * const { api, token } = resolveConfig({ url: "http://127.0.0.1:8080", env: process.env });
 */
export function resolveConfig(sources: ConfigSources = {}): CliConfig {
  const env = sources.env ?? process.env;
  const explicit = sources.configFile ?? env.ICAAS_CONFIG;
  const path = explicit || defaultConfigFile(env);
  const pick = (...values: Array<string | undefined>) =>
    values.find((v) => v !== undefined && v.trim() !== "");
  let file: FileConfig | undefined;
  // The file is read only when a flag or variable is missing, so a broken file elsewhere does not matter.
  const needFile = !pick(sources.url, env.ICAAS_URL) || !pick(sources.token, env.ICAAS_TOKEN);
  if (needFile || explicit) file = readConfigFile(path, Boolean(explicit), sources.warn);

  const url = pick(sources.url, env.ICAAS_URL, file?.url);
  if (!url)
    throw new UsageError(
      "no service URL",
      `pass --url, set ICAAS_URL or put "url" in ${path} (e.g. http://127.0.0.1:8080)`,
    );
  const token = pick(sources.token, env.ICAAS_TOKEN, file?.token)?.trim();
  if (!token)
    throw new CliError(
      "no token (token_missing)",
      EXIT.auth,
      `pass --token, set ICAAS_TOKEN or put "token" in ${path}`,
    );
  // A header cannot carry control characters or spaces; say so without echoing the value.
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new CliError("the token holds characters an HTTP header cannot carry (invalid_token)", EXIT.auth);
  const base = normalizeUrl(url);
  return { url: base, api: `${base}/icaas`, token, ...(file ? { configFile: path } : {}) };
}
