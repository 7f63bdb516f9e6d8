/** @module @icaas/synnefo/testing — helpers for tests and benchmarks of the Synnefo clients. */
export { type DiskLikeFileOptions, writeDiskLikeFile } from "./disk-like-file.ts";
export { type PithosDevcloud, startPithosDevcloud } from "./pithos-devcloud.ts";
