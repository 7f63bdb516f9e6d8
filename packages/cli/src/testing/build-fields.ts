/** @module testing/build-fields — the fields docs/api.md names for a build, for shape assertions. */
import type { Build } from "@icaas/contract";

/** Every field of a single build (`GET /icaas/builds/{id}`), sorted. */
export const BUILD_FIELDS = [
  "checksum",
  "created",
  "description",
  "error",
  "id",
  "image",
  "image_id",
  "image_location",
  "links",
  "log",
  "log_tail",
  "name",
  "networks",
  "progress",
  "project",
  "public",
  "src",
  "status",
  "status_details",
  "steps",
  "updated",
] as const satisfies readonly (keyof Build)[];

type Assert<T extends true> = T;
/** Checked by `tsc`: the list names every field of the contract's `Build`. */
export type EveryBuildField = Assert<
  [Exclude<keyof Build, (typeof BUILD_FIELDS)[number]>] extends [never] ? true : false
>;

/** The fields of a build in a list: all but `log_tail`, which only a single build carries. */
export const LIST_FIELDS: string[] = BUILD_FIELDS.filter((field) => field !== "log_tail");
