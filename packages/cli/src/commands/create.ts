/** @module commands/create — `icaas create --name N --src URL`: one build, created once however often it is retried. */
import type { Build, BuildRequest } from "@icaas/contract";
import { clean } from "../format.ts";
import { println } from "../io.ts";
import { type CommonOptions, jsonText, setup } from "./common.ts";
import { waitAndReport } from "./wait.ts";

export interface CreateOptions extends CommonOptions {
  name: string;
  /** The source image URL (http or https). */
  src: string;
  description?: string;
  /** Register the image as public. */
  public?: boolean;
  /** The image's Pithos container (default `images`). */
  container?: string;
  /** The image's Pithos object (default `<slug of name>-<id>.diskdump`). */
  object?: string;
  /** The project charged for the agent VM. */
  project?: string;
  /** `sha256:<hex>` (or md5, sha1, sha512): the agent checks the download. */
  checksum?: string;
  /** Sent as `Idempotency-Key`; default a random one per invocation. */
  idempotencyKey?: string;
  /** Then wait for the build to end, as `icaas wait` does. */
  wait?: boolean;
  /** With `wait`: give up after this many seconds (exit 5). */
  timeoutSeconds?: number;
  intervalMs?: number;
  json?: boolean;
  signal?: AbortSignal;
}

/** The request body from the options: only what was given. */
export function buildRequest(options: CreateOptions): BuildRequest {
  const request: BuildRequest = { name: options.name, src: options.src };
  if (options.description !== undefined) request.description = options.description;
  if (options.public !== undefined) request.public = options.public;
  if (options.project !== undefined) request.project = options.project;
  if (options.checksum !== undefined) request.checksum = options.checksum;
  if (options.container !== undefined || options.object !== undefined) {
    request.image = {
      ...(options.container !== undefined ? { container: options.container } : {}),
      ...(options.object !== undefined ? { object: options.object } : {}),
    };
  }
  return request;
}

/**
 * Creates a build. Without `wait` it resolves as soon as the service accepted it (CREATING).
 *
 * @example
 * const build = await create({ name: "debian", src: "https://example.org/d.img", url, token, wait: true });
 */
export async function create(options: CreateOptions): Promise<Build> {
  const { client, io } = setup(options);
  const { build, replayed } = await client.createBuild(buildRequest(options), {
    idempotencyKey: options.idempotencyKey,
    signal: options.signal,
  });
  if (options.wait) {
    if (!options.json) println(io.stdout, `build ${build.id} created: ${clean(build.name)}`);
    return waitAndReport(client, io, build.id, options);
  }
  if (options.json) io.stdout.write(jsonText(build));
  else {
    println(
      io.stdout,
      `build ${build.id} ${replayed ? "already created (same idempotency key)" : "created"}: ${clean(build.name)} (${build.status})`,
    );
    println(io.stderr, `follow it with: icaas wait ${build.id}`);
  }
  return build;
}
