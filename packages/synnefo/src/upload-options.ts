/** @module upload-options — where a hashmap upload goes and how it runs (shared by the upload and its block sender). */
import type { Dispatcher } from "undici";
import type { HttpClient } from "./http.ts";

export type UploadPhase = "hash" | "upload";

export interface UploadFileOptions {
  /** Default `application/octet-stream`. */
  contentType?: string;
  meta?: Record<string, string>;
  /** Publish the object (`X-Object-Public: true`) with the final PUT. */
  public?: boolean;
  /** Blocks sent at once. Default 4. Memory is about `max(2, concurrency)` blocks. */
  concurrency?: number;
  /**
   * Progress in bytes of the file. Phase `hash`: bytes hashed. Phase `upload`: bytes Pithos holds
   * (blocks it already had count at once, then each block sent).
   */
  onProgress?: (done: number, total: number, phase: UploadPhase) => void;
  signal?: AbortSignal;
  /** Rounds of "PUT → 409 → POST the missing blocks" before giving up. Default 4. */
  maxRounds?: number;
  /** Look for holes before reading (default true). */
  findHoles?: boolean;
}

/** Where an upload goes: a factory for HTTP clients (one dispatcher per upload) and the paths. */
export interface UploadTarget {
  http(dispatcher: Dispatcher): HttpClient;
  containerPath: string;
  objectPath: string;
  /** `container/object`, for error messages. */
  label: string;
}
