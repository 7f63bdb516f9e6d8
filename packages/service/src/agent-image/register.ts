/**
 * @module agent-image/register — puts the agent VM image (deploy/agent-image/build.sh) on a Synnefo
 * cloud: hashmap upload to Pithos, then a public Plankton image with snf-image's properties. Once:
 * an image already registered from the same bytes at the same place is found and returned as it is.
 */
import { basename } from "node:path";
import {
  connect,
  hashFile,
  type ImageInfo,
  merkleHash,
  type PithosClient,
  type PlanktonClient,
  pithosLocation,
  type UploadFileResult,
} from "@icaas/synnefo";

export interface RegisterAgentImageOptions {
  /** Astakos' identity endpoint (the service's `authUrl`). */
  authUrl: string;
  /** The token of the account that will own the image. */
  token: string;
  /** The raw diskdump. */
  file: string;
  /** Default "ICaaS agent (Debian <osVersion>)". */
  name?: string;
  /** Pithos container; default `images`. */
  container?: string;
  /** Pithos object; default the file's name. */
  object?: string;
  /** Debian's release, default "12". */
  osVersion?: string;
  onProgress?: (done: number, total: number, phase: "hash" | "upload") => void;
}

export interface RegisterAgentImageResult {
  imageId: string;
  /** `pithos://<owner>/<container>/<object>`. */
  location: string;
  /** The image's Merkle hash (Plankton's checksum). */
  hash: string;
  /** True when an image of these bytes was registered there already: nothing was sent. */
  reused: boolean;
  /** The upload's counts, when one happened. */
  upload?: Pick<UploadFileResult, "blocksSent" | "blocksTotal" | "bytesSent">;
}

/** snf-image's properties of the agent image: how Cyclades deploys it and what users see. */
function agentImageProperties(osVersion: string): Record<string, string> {
  return {
    OSFAMILY: "linux",
    OS: "debian",
    OSVERSION: osVersion,
    ROOT_PARTITION: "1",
    USERS: "root",
    // The personality files (manifest, /.icaas) are what configures it; no password is useful.
    DESCRIPTION: `ICaaS agent VM: Debian ${osVersion} with the ICaaS agent (one build per VM)`,
    GUI: "No",
    KERNEL: "Linux",
    SORTORDER: "1000",
  };
}

async function localHash(pithos: PithosClient, options: RegisterAgentImageOptions, container: string) {
  const info = await pithos.getContainer(container);
  const algorithm = info.blockHash.toLowerCase();
  const map = await hashFile(options.file, {
    blockSize: info.blockSize,
    algorithm,
    onProgress: options.onProgress && ((done, total) => options.onProgress?.(done, total, "hash")),
  });
  return merkleHash(map.hashes, algorithm);
}

async function findRegistered(
  plankton: PlanktonClient,
  location: string,
  owner: string,
): Promise<ImageInfo | undefined> {
  const images = await plankton.list({ detail: true });
  return images.find((image) => image.location === location && image.owner === owner);
}

/**
 * Uploads (only the blocks Pithos lacks) and registers the agent image, public. Run again on the
 * same file, it finds the image by its location and checksum and sends nothing.
 *
 * @example
 * const { imageId } = await registerAgentImage({ authUrl, token, file: "/var/tmp/agent.raw" });
 */
export async function registerAgentImage(
  options: RegisterAgentImageOptions,
): Promise<RegisterAgentImageResult> {
  const container = options.container ?? "images";
  const object = options.object ?? basename(options.file);
  const osVersion = options.osVersion ?? "12";
  const { user, pithos, plankton } = await connect({ authUrl: options.authUrl, token: options.token });
  await pithos.createContainer(container);
  const location = pithosLocation(user.uuid, container, object);
  const hash = await localHash(pithos, options, container);
  const existing = await findRegistered(plankton, location, user.uuid);
  if (existing && existing.checksum === hash && existing.isPublic) {
    return { imageId: existing.id, location, hash, reused: true };
  }
  const upload = await pithos.uploadFile(container, object, options.file, {
    onProgress: options.onProgress,
  });
  const image = await plankton.register({
    name: options.name ?? `ICaaS agent (Debian ${osVersion})`,
    location,
    diskFormat: "diskdump",
    containerFormat: "bare",
    isPublic: true,
    checksum: upload.hash,
    properties: agentImageProperties(osVersion),
  });
  return {
    imageId: image.id,
    location,
    hash: upload.hash,
    reused: false,
    upload: { blocksSent: upload.blocksSent, blocksTotal: upload.blocksTotal, bytesSent: upload.bytesSent },
  };
}
