/** @module pithos-errors — the client-side faults of Pithos uploads, as `SynnefoError` codes. */
import { SynnefoError } from "./errors.ts";

/** An ETag or block hash that differs from the one computed locally (code `hashMismatch`). */
export function hashMismatch(request: string, expected: string, got: string): SynnefoError {
  return new SynnefoError({
    status: 0,
    code: "hashMismatch",
    message: `object-store stored a different hash than the one computed locally (expected ${expected}, got ${got || "none"})`,
    service: "object-store",
    request,
  });
}

/** A file that changed while it was being hashed or uploaded (code `fileChanged`). */
export function fileChanged(path: string): SynnefoError {
  return new SynnefoError({
    status: 0,
    code: "fileChanged",
    message: `${path} changed while it was being uploaded`,
    service: "object-store",
  });
}

/** Pithos kept answering 409 with missing blocks after they were sent (code `uploadIncomplete`). */
export function uploadIncomplete(request: string, missing: number): SynnefoError {
  return new SynnefoError({
    status: 409,
    code: "uploadIncomplete",
    message: `object-store still lacks ${missing} block(s) after they were sent`,
    service: "object-store",
    request,
  });
}
