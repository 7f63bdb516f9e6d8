/** @module fault — Synnefo's fault bodies: `{"<name>": {"code", "message", "details"}}`. */

/**
 * An error a devcloud handler throws to answer with a Synnefo fault. `name` is the fault key
 * (`badRequest`, `itemNotFound`, `overLimit`, … or `fault` for errors relayed from Astakos).
 */
export class Fault extends Error {
  readonly status: number;
  readonly faultName: string;
  readonly details: string;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    faultName: string,
    message: string,
    details = "",
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.faultName = faultName;
    this.details = details;
    this.headers = headers;
  }

  body(): string {
    return JSON.stringify({
      [this.faultName]: { code: this.status, message: this.message, details: this.details },
    });
  }
}

export const badRequest = (message: string, details = "") => new Fault(400, "badRequest", message, details);
export const unauthorized = (message: string, details = "") =>
  new Fault(401, "unauthorized", message, details);
export const forbidden = (message: string, details = "") => new Fault(403, "forbidden", message, details);
export const itemNotFound = (message: string, details = "") =>
  new Fault(404, "itemNotFound", message, details);
export const conflict = (message: string, details = "") => new Fault(409, "conflict", message, details);
export const overLimit = (message: string, details = "") => new Fault(413, "overLimit", message, details);
export const notAllowed = (allow: string[]) =>
  new Fault(405, "notAllowed", "Method not allowed", "", { allow: allow.join(", ") });
