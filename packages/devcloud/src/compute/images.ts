/** @module images — the images servers boot from: the configured ones plus those registered with Plankton. */
import type { DevcloudConfig, DevImage } from "../config.ts";
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { isoformat } from "../identity/iso-time.ts";

/** An image as Cyclades' `/images` shows it. */
export interface BootImage {
  id: string;
  name: string;
  /** `ACTIVE`, `SAVING`, `ERROR`, `DELETED` or `UNKNOWN`. */
  status: string;
  owner: string;
  public: boolean;
  metadata: Record<string, string>;
  created: number;
  updated: number;
  isSnapshot: boolean;
  /** True for the configured agent image. */
  agent: boolean;
}

/** What the image (Plankton) module offers compute; absent in a devcloud without it. */
export interface PlanktonImages {
  /** The images a user may see: own, shared with it, public. */
  bootImages(userUuid: string): BootImage[];
}

/** The owner shown for configured images (Synnefo's `SYSTEM_IMAGES_OWNER` plays this part). */
export const SYSTEM_OWNER = "devcloud";

export class ImageCatalog {
  readonly #ctx: DevcloudContext;
  readonly #config: DevcloudConfig;
  readonly #since: number;

  constructor(ctx: DevcloudContext, since = Date.now()) {
    this.#ctx = ctx;
    this.#config = ctx.config;
    this.#since = since;
  }

  list(userUuid: string): BootImage[] {
    const configured = this.#config.images.map((image) => this.#fromConfig(image));
    const ids = new Set(configured.map((i) => i.id));
    const registered = this.#plankton()
      ?.bootImages(userUuid)
      .filter((i) => !ids.has(i.id));
    return [...configured, ...(registered ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  find(userUuid: string, id: string): BootImage | undefined {
    const configured = this.#config.images.find((i) => i.id === id);
    if (configured) return this.#fromConfig(configured);
    return this.#plankton()
      ?.bootImages(userUuid)
      .find((i) => i.id === id);
  }

  #fromConfig(image: DevImage): BootImage {
    return {
      id: image.id,
      name: image.name,
      status: "ACTIVE",
      owner: SYSTEM_OWNER,
      public: true,
      metadata: image.metadata ?? {},
      created: this.#since,
      updated: this.#since,
      isSnapshot: false,
      agent: image.agent === true,
    };
  }

  #plankton(): PlanktonImages | undefined {
    let module: ServiceModule;
    try {
      module = this.#ctx.module("image");
    } catch {
      return undefined;
    }
    const images = module as ServiceModule & Partial<PlanktonImages>;
    return typeof images.bootImages === "function" ? (images as PlanktonImages) : undefined;
  }
}

/** `images.py:image_to_dict`. */
export function imageToJson(baseUrl: string, image: BootImage, detail: boolean): Record<string, unknown> {
  const links = imageLinks(baseUrl, image.id);
  if (!detail) return { id: image.id, name: image.name, links };
  return {
    id: image.id,
    name: image.name,
    updated: isoformat(image.updated),
    created: isoformat(image.created),
    status: image.status,
    progress: image.status === "ACTIVE" ? 100 : 0,
    user_id: image.owner,
    tenant_id: image.owner,
    public: image.public,
    links,
    metadata: image.metadata,
    is_snapshot: image.isSnapshot,
  };
}

export function imageLinks(baseUrl: string, id: string): { rel: string; href: string }[] {
  const href = `${baseUrl}/compute/v2.0/images/${id}`;
  return [
    { rel: "self", href },
    { rel: "bookmark", href },
    { rel: "alternate", href: `${baseUrl}/image/v1.0/images/${id}` },
  ];
}
