/** @module errors — the one error type of @icaas/synnefo, parsed from every fault shape Synnefo sends. */

/** Which Synnefo service answered (or failed to). */
export type SynnefoService = "identity" | "account" | "compute" | "image" | "object-store" | "network";

/** The status codes Synnefo names, for faults whose body carried no name of its own. */
const FAULT_NAMES: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "notAllowed",
  409: "conflict",
  411: "lengthRequired",
  412: "preconditionFailed",
  413: "overLimit",
  415: "badMediaType",
  416: "rangeNotSatisfiable",
  422: "unprocessableEntity",
  500: "internalServerError",
  501: "notImplemented",
  503: "serviceUnavailable",
};

export interface SynnefoErrorInit {
  status: number;
  code: string;
  message: string;
  details?: string;
  service: SynnefoService;
  /** The request that failed, as `METHOD path` (never with a token in it). */
  request?: string;
  cause?: unknown;
}

/**
 * A failed call to a Synnefo service. `status` is the HTTP status (0 when no answer came: connection
 * refused, timeout), `code` the fault name (`itemNotFound`, `overLimit`, …, or `connectionError` /
 * `timeout`), `details` the fault's details.
 *
 * @example
 * try { await cyclades.createServer(req) } catch (e) {
 *   if (e instanceof SynnefoError && e.status === 413) console.log(e.details)
 * }
 */
export class SynnefoError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string | undefined;
  readonly service: SynnefoService;
  readonly request: string | undefined;

  constructor(init: SynnefoErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SynnefoError";
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.service = init.service;
    this.request = init.request;
  }

  /** True when the request may succeed if sent again (5xx, no answer). */
  get retriable(): boolean {
    return this.status === 0 || this.status >= 500;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      status: this.status,
      code: this.code,
      message: this.message,
      details: this.details,
      service: this.service,
      request: this.request,
    };
  }
}

/** The fault name Synnefo uses for a status, `error` for unnamed ones. */
export function faultNameFor(status: number): string {
  return FAULT_NAMES[status] ?? (status >= 500 ? "internalServerError" : "error");
}

/**
 * Reads a fault body in any of its shapes: `{"badRequest":{code,message,details}}`,
 * `{"fault":{…}}` (errors relayed from Astakos), a JSON array (a hashmap 409), or plain text / HTML.
 * The HTTP status is trusted over the body's `code`.
 */
export function parseFault(
  status: number,
  body: string,
  service: SynnefoService,
  request?: string,
): SynnefoError {
  const fallbackCode = faultNameFor(status);
  const trimmed = body.trim();
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const [name] = Object.keys(parsed);
      const inner = name === undefined ? undefined : parsed[name];
      if (name !== undefined && inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
        const fault = inner as Record<string, unknown>;
        const message = typeof fault.message === "string" ? fault.message : "";
        const details =
          typeof fault.details === "string"
            ? fault.details
            : fault.details === undefined
              ? undefined
              : JSON.stringify(fault.details);
        // A relayed "fault" carries no class name: name it from the status.
        const code = name === "fault" ? fallbackCode : name;
        return new SynnefoError({
          status,
          code,
          message: message || defaultMessage(status),
          details,
          service,
          request,
        });
      }
    } catch {
      // Not JSON after all: fall through to plain text.
    }
  }
  const text = stripHtml(trimmed).slice(0, 500);
  return new SynnefoError({
    status,
    code: fallbackCode,
    message: text || defaultMessage(status),
    details: undefined,
    service,
    request,
  });
}

function defaultMessage(status: number): string {
  return `HTTP ${status}`;
}

function stripHtml(text: string): string {
  return text.includes("<")
    ? text
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim()
    : text;
}
