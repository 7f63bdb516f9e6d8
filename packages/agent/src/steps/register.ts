/** @module steps/register — the uploaded object becomes a Plankton image; `<object>.meta` keeps the result. */
import { type ImageInfo, MAX_PROPERTY_VALUE_LENGTH, pithosLocation } from "@icaas/synnefo";
import type { AgentLog } from "../log.ts";
import { cloudFailure } from "./cloud-errors.ts";
import { defineStep, fixedCost } from "./step.ts";

/**
 * Plankton refuses the whole registration if one value is over 256 characters, and `USERS` lists every
 * user of the image. A space-separated list keeps the whole words that fit; any other long value is
 * dropped. What is left out is logged, so the image's owner can set it by hand.
 */
export function fitProperties(properties: Record<string, string>, log: AgentLog): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value.length <= MAX_PROPERTY_VALUE_LENGTH) {
      out[key] = value;
      continue;
    }
    const words = value.split(" ");
    let kept = "";
    let i = 0;
    for (; i < words.length; i++) {
      const next = kept ? `${kept} ${words[i]}` : (words[i] ?? "");
      if (next.length > MAX_PROPERTY_VALUE_LENGTH) break;
      kept = next;
    }
    if (i > 0 && words.length > 1) {
      out[key] = kept;
      log.warn(
        `property ${key} is over Plankton's ${MAX_PROPERTY_VALUE_LENGTH} characters; left out: ${words.slice(i).join(" ")}`,
      );
    } else {
      log.warn(
        `property ${key} is over Plankton's ${MAX_PROPERTY_VALUE_LENGTH} characters (${value.length}); dropped`,
      );
    }
  }
  return out;
}

/** Plankton properties: imageprep's metadata, the user's description over the detected one. */
export function imageProperties(
  metadata: Record<string, string> | undefined,
  description: string | undefined,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {}))
    if (v !== undefined && v !== "") properties[k.toUpperCase()] = v;
  // The original let an empty description wipe the detected one; only a real one wins here.
  if (description?.trim()) properties.DESCRIPTION = description.trim();
  return properties;
}

export const registerStep = defineStep("register", "Registering image with Plankton...", fixedCost(1 << 20), {
  async run(ctx, state) {
    const { image } = ctx.manifest;
    const upload = state.upload!;
    const location = pithosLocation(ctx.services.imageAccount, upload.container, upload.object);
    const properties = fitProperties(imageProperties(state.metadata, image.description), ctx.log);
    let registered: ImageInfo;
    try {
      registered = await ctx.services.plankton.register({
        name: image.name,
        location,
        diskFormat: "diskdump",
        containerFormat: "bare",
        isPublic: image.public,
        properties,
      });
    } catch (error) {
      throw cloudFailure(error, "register_failed", "Registering the image with Plankton failed");
    }
    state.image = registered;
    state.location = location;
    ctx.log.info(`registered image ${registered.id} (${image.public ? "public" : "private"}) at ${location}`);
    ctx.log.info(
      `image properties: ${Object.entries(properties)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
    // snf-image-creator kept the registration result beside the image; tools still look for it.
    try {
      await ctx.services.imageStore.putObject(
        upload.container,
        `${upload.object}.meta`,
        `${JSON.stringify(registered, null, 4)}\n`,
        { contentType: "application/json" },
      );
    } catch (error) {
      ctx.log.warn(`could not write ${upload.object}.meta: ${(error as Error).message}`);
    }
    return "done";
  },
});
