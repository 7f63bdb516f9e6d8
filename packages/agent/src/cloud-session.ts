/** @module cloud-session — the user's cloud as the build sees it: who the token is, Pithos, Plankton, the log object. */
import { AstakosClient, PithosClient, PlanktonClient } from "@icaas/synnefo";
import { agentErrors } from "./errors.ts";
import { type AgentLog, PithosLogAppender } from "./log.ts";
import { type Manifest, type RawManifest, validateManifest } from "./manifest.ts";
import type { BuildServices } from "./steps/step.ts";

export interface CloudSession {
  manifest: Manifest;
  services: BuildServices;
  /** Appends the build log to its Pithos object (not started). */
  appender: PithosLogAppender;
}

/**
 * Validates the manifest, authenticates the user's token with Astakos and opens the clients the
 * build uses; the image and log go to the user's own account unless the manifest names one.
 * Throws `AgentError` `manifest_invalid` or `auth_failed`.
 */
export async function openCloudSession(
  raw: RawManifest,
  service: Manifest["service"],
  log: AgentLog,
  onLogUploadError: (error: unknown) => void,
): Promise<CloudSession> {
  const manifest = validateManifest(raw, service);
  const token = manifest.synnefo.token;
  const { user, catalog } = await new AstakosClient({ authUrl: manifest.synnefo.url })
    .authenticate(token)
    .catch((error: unknown) => {
      throw agentErrors.astakosRefused(error);
    });
  const storageUrl = catalog.endpoint("object-store");
  const imageAccount = manifest.image.account ?? user.uuid;
  const services: BuildServices = {
    imageStore: new PithosClient({ storageUrl, account: imageAccount, token }),
    plankton: new PlanktonClient({ imageUrl: catalog.endpoint("image"), token }),
    imageAccount,
  };
  const appender = new PithosLogAppender({
    log,
    store: new PithosClient({ storageUrl, account: manifest.log.account ?? user.uuid, token }),
    container: manifest.log.container,
    object: manifest.log.object,
    onError: onLogUploadError,
  });
  log.info(
    `authenticated as ${user.uuid}; image goes to ${imageAccount}/${manifest.image.container}/${manifest.image.object}`,
  );
  return { manifest, services, appender };
}
