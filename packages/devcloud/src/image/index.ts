/** @module image — Plankton (`/image/v1.0`, and `/image/v1` from 0.19): Pithos objects registered as images. */

import type { BootImage, PlanktonImages } from "../compute/images.ts";
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { Router } from "../router.ts";
import { PlanktonRegistry } from "./registry.ts";
import { imageRouter } from "./routes.ts";

export type { PlanktonImage } from "./image-record.ts";
export type { ObjectStorePort, StoredObjectView } from "./object-store-port.ts";

/** The image module; compute boots servers from the images it lists. */
export interface ImageModule extends ServiceModule, PlanktonImages {
  name: "image";
  registry: PlanktonRegistry;
}

export function imageService(ctx: DevcloudContext): ImageModule {
  const registry = new PlanktonRegistry(ctx);
  return {
    name: "image",
    registry,
    routers: [
      imageRouter(ctx, registry, "/image/v1.0"),
      ...(ctx.release.imageV1Alias ? [imageRouter(ctx, registry, "/image/v1")] : []),
      // Anything else below `/image` is Plankton's 400 "API endpoint not found".
      new Router("/image"),
    ],
    async start() {
      registry.load();
    },
    bootImages(userUuid: string): BootImage[] {
      return registry.list(userUuid, "id", "asc").map((image) => ({
        id: image.id,
        name: image.name,
        // Compute shows Plankton's AVAILABLE as ACTIVE (and UNAVAILABLE as SAVING).
        status:
          image.status === "AVAILABLE" ? "ACTIVE" : image.status === "UNAVAILABLE" ? "SAVING" : image.status,
        owner: image.owner,
        public: image.is_public,
        metadata: image.properties,
        created: Date.parse(`${image.created_at.replace(" ", "T")}Z`),
        updated: Date.parse(`${image.updated_at.replace(" ", "T")}Z`),
        isSnapshot: image.is_snapshot,
        agent: false,
      }));
    },
  };
}
