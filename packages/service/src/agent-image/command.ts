/** @module agent-image/command — `icaas-service agent-image register FILE`: options from flags and env, output for people. */
import { readFile } from "node:fs/promises";
import { ConfigError } from "../config.ts";
import { type RegisterAgentImageResult, registerAgentImage } from "./register.ts";

export interface RegisterCommandFlags {
  authUrl?: string;
  tokenFile?: string;
  name?: string;
  container?: string;
  object?: string;
  osVersion?: string;
  json?: boolean;
}

/** Where the token comes from: a file or the environment, never the command line (`ps` shows it). */
export const TOKEN_ENV = "ICAAS_AGENT_IMAGE_TOKEN";

async function readToken(flags: RegisterCommandFlags, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (flags.tokenFile) return (await readFile(flags.tokenFile, "utf8")).trim() || undefined;
  return env[TOKEN_ENV]?.trim() || undefined;
}

/** What the command prints on stdout: the image and the line for the service's configuration. */
function describeRegistration(result: RegisterAgentImageResult): string[] {
  const sent = result.upload
    ? `uploaded ${result.upload.blocksSent} of ${result.upload.blocksTotal} blocks (${result.upload.bytesSent} bytes sent)`
    : "already registered from these bytes: nothing sent";
  return [
    `image id: ${result.imageId}`,
    `location: ${result.location}`,
    `checksum: ${result.hash}`,
    sent,
    "the service's configuration:",
    `  "agentImageId": "${result.imageId}"`,
    `  (or ICAAS_AGENT_IMAGE_ID=${result.imageId})`,
  ];
}

/**
 * Runs the registration with the flags, `ICAAS_AUTH_URL` (the service's own setting) and the token
 * from `--token-file` or `ICAAS_AGENT_IMAGE_TOKEN`.
 */
export async function registerCommand(
  file: string,
  flags: RegisterCommandFlags,
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = console.log,
): Promise<RegisterAgentImageResult> {
  const authUrl = flags.authUrl ?? env.ICAAS_AUTH_URL;
  const token = await readToken(flags, env);
  const problems: string[] = [];
  if (!authUrl) problems.push("the identity URL is required (--auth-url or ICAAS_AUTH_URL)");
  if (!token) problems.push(`a token is required (--token-file FILE or ${TOKEN_ENV})`);
  if (!authUrl || !token) throw new ConfigError(problems);
  const result = await registerAgentImage({ ...flags, authUrl, token, file });
  if (flags.json) print(JSON.stringify(result));
  else for (const line of describeRegistration(result)) print(line);
  return result;
}
