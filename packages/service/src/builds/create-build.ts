/** @module builds/create-build — a build request judged, stored with its secrets sealed, and its job queued. */

import { srcSyntaxProblem } from "@icaas/contract";
import type { AuthUser } from "../auth/authenticator.ts";
import { SEAL, type ServiceContext } from "../context.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import type { BuildRow } from "../db/schema.ts";
import { errors } from "../errors.ts";
import type { CreateBuildBody } from "../http/schemas.ts";
import { findControlCharacter } from "./control-characters.ts";
import { checkAccounts, resolveLocations } from "./locations.ts";
import { checkSourcePolicy, sourcePolicyOf } from "./source-policy.ts";

export interface CreateBuildRequest {
  user: AuthUser;
  /** The user's own token: the build's VM is created with it, so it is stored sealed. */
  userToken: string;
  input: CreateBuildBody["build"];
  idempotencyKey: string | undefined;
}

/** JSON with object keys sorted, so a replay with the keys in another order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Judges the request (refused before anything is stored or a VM is paid for; like schema errors, not
 * rate-counted), stores the build and its create-agent job, and wakes the job runner. A replay of an
 * idempotent request returns the build stored the first time.
 *
 * @throws ApiError for a refused request, too many active builds or a reused idempotency key.
 */
export async function createBuild(
  ctx: Pick<ServiceContext, "config" | "endpoint" | "store" | "box" | "createLimiter" | "wakeJobs">,
  request: CreateBuildRequest,
): Promise<{ build: BuildRow; replayed: boolean }> {
  const { user, input, idempotencyKey: key } = request;
  const control = findControlCharacter(input, "build");
  if (control) throw errors.invalidCharacters(control.path, control.codePoint);
  const srcProblem = srcSyntaxProblem(input.src);
  if (srcProblem) throw errors.invalidParameter("build.src", srcProblem);
  checkSourcePolicy(sourcePolicyOf(ctx), input.src);
  checkAccounts(user.uuid, input);
  ctx.createLimiter.take(user.uuid);
  const nonce = randomToken(32);
  const sealedToken = ctx.box.encrypt(request.userToken, SEAL.userToken);
  const result = await ctx.store.builds.create({
    build: {
      user_uuid: user.uuid,
      name: input.name,
      src: input.src,
      description: input.description ?? "",
      public: input.public ? 1 : 0,
      project: input.project ?? null,
      networks: input.networks ? JSON.stringify(input.networks) : null,
      checksum: input.checksum ?? null,
      user_token_sealed: sealedToken,
      nonce_sealed: ctx.box.encrypt(nonce, SEAL.nonce),
      nonce_hash: sha256Hex(nonce),
      idempotency_key: key ?? null,
      request_hash: key ? sha256Hex(canonicalJson(input)) : null,
    },
    locations: (id) => {
      const l = resolveLocations(id, input.name, input.image, input.log);
      return { image: JSON.stringify(l.image), log: JSON.stringify(l.log) };
    },
    userTokenSealed: sealedToken,
    maxActive: ctx.config.maxActiveBuildsPerUser,
  });
  switch (result.kind) {
    case "too_many":
      throw errors.tooManyBuilds(ctx.config.maxActiveBuildsPerUser);
    case "key_reused":
      throw errors.idempotencyKeyReused();
    case "replayed":
      if (result.build.deleted === 1) throw errors.buildNotFound();
      return { build: result.build, replayed: true };
    case "created":
      ctx.wakeJobs();
      return { build: result.build, replayed: false };
  }
}
