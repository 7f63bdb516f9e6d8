/** @module object-store/preconditions — If-Match, If-None-Match, If-(Un)Modified-Since, as Pithos checks them. */
import type { IncomingMessage } from "node:http";
import { Fault } from "../fault.ts";
import { sendEmpty } from "../http-util.ts";
import type { RouteContext } from "../router.ts";
import { header } from "./headers.ts";
import type { ObjectRecord } from "./object-index.ts";

/** If-Match / If-None-Match on writes (412), as Pithos' `validate_matching_preconditions`. */
export function checkMatch(req: IncomingMessage, etag: string | undefined): void {
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined) {
    if (etag === undefined) throw new Fault(412, "preconditionFailed", "Resource does not exist");
    if (ifMatch !== "*" && !parseEtags(ifMatch).includes(etag)) {
      throw new Fault(412, "preconditionFailed", "Resource ETag does not match");
    }
  }
  const ifNoneMatch = header(req, "if-none-match");
  if (ifNoneMatch !== undefined && etag !== undefined) {
    if (ifNoneMatch === "*" || parseEtags(ifNoneMatch).includes(etag)) {
      throw new Fault(412, "preconditionFailed", "Resource exists or ETag matches");
    }
  }
}

/** Conditional GET/HEAD: answers 304 (and returns true) or throws 412. */
export function notModified(ctx: RouteContext, r: ObjectRecord): boolean {
  const { req, res } = ctx;
  const seconds = Math.floor(r.modified / 1000);
  const since = Date.parse(header(req, "if-modified-since") ?? "");
  const unmodified = Date.parse(header(req, "if-unmodified-since") ?? "");
  if (!Number.isNaN(unmodified) && seconds > unmodified / 1000) {
    throw new Fault(412, "preconditionFailed", "Resource has been modified");
  }
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined && ifMatch !== "*" && !parseEtags(ifMatch).includes(r.hash)) {
    throw new Fault(412, "preconditionFailed", "Resource ETag does not match");
  }
  const ifNoneMatch = header(req, "if-none-match");
  const matched =
    ifNoneMatch !== undefined && (ifNoneMatch === "*" || parseEtags(ifNoneMatch).includes(r.hash));
  if (matched || (!Number.isNaN(since) && seconds <= since / 1000)) {
    sendEmpty(res, 304, { etag: r.hash });
    return true;
  }
  return false;
}

export function parseEtags(value: string): string[] {
  return value.split(",").map((e) =>
    e
      .trim()
      .replace(/^W\//, "")
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase(),
  );
}
