/** @module errors — the one API error class and the catalogue of coded errors the service answers with. */

/**
 * An error answered as `{"message", "status", "code"}` with HTTP `status`. `message` keeps the
 * original ICaaS wording where the original had one; `code` is stable for programs.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  toJSON(): { message: string; status: number; code: string } {
    return { message: this.message, status: this.status, code: this.code };
  }
}

const define =
  (status: number, code: string, message: string) =>
  (headers?: Record<string, string>): ApiError =>
    new ApiError(status, code, message, headers);

/**
 * Every error the API gives, grouped by area. Messages in double quotes inside single quotes are the
 * original's, verbatim.
 *
 * @example
 * throw errors.buildNotFound();
 */
export const errors = {
  // user authentication
  tokenMissing: define(401, "token_missing", "Token is missing"),
  invalidToken: define(401, "invalid_token", "Invalid token"),
  authUnavailable: define(503, "auth_unavailable", "Authentication service unavailable, retry later"),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(429, "rate_limited", "Too many requests, retry later", {
      "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))),
    }),

  // POST /builds
  buildMissing: define(400, "build_missing", 'Required field "build" is missing'),
  buildFieldsMissing: define(
    400,
    "build_fields_missing",
    'Required fields: "name", "src" are missing from namespace "build"',
  ),
  parameterMissing: (field: string) =>
    new ApiError(
      400,
      "parameter_missing",
      `Parameter: '${field}' is missing from namespace 'build' or empty`,
    ),
  notADictionary: (field: string) =>
    new ApiError(400, "not_a_dictionary", `"${field}" parameter is not a dictionary`),
  locationFieldMissing: (field: string, parameter: string) =>
    new ApiError(400, "location_field_missing", `"${field}" field missing from parameter: "${parameter}"`),
  invalidParameter: (parameter: string, reason: string) =>
    new ApiError(400, "invalid_parameter", `Invalid value for parameter '${parameter}': ${reason}`),
  invalidCharacters: (parameter: string, codePoint: string) =>
    new ApiError(
      400,
      "invalid_characters",
      `Invalid value for parameter '${parameter}': must not contain control characters (${codePoint})`,
    ),
  sourceRefused: (reason: string) =>
    new ApiError(
      400,
      "source_refused",
      `${reason}. Give a public URL, or ask the operator to allow-list an on-premises mirror`,
    ),
  accountNotYours: (parameter: string, own: string) =>
    new ApiError(
      400,
      "account_not_yours",
      `Invalid value for parameter '${parameter}': must be your own account (${own}) or left out`,
    ),
  tooManyBuilds: (max: number) =>
    new ApiError(403, "too_many_builds", `Too many active builds: at most ${max} may be CREATING at once`),
  idempotencyKeyReused: define(
    422,
    "idempotency_key_reused",
    "Idempotency-Key was already used with a different request",
  ),

  // GET /builds
  invalidStatusFilter: define(
    400,
    "invalid_status",
    "Invalid value for parameter 'status'. Valid values are: 'CREATING', 'ERROR', 'COMPLETED', 'CANCELED'",
  ),
  invalidDetails: define(
    400,
    "invalid_details",
    "Invalid value for parameter 'details'. Valid values are: '0' and '1'",
  ),
  invalidLimit: define(
    400,
    "invalid_limit",
    "Invalid value for parameter 'limit'. Valid values are integers from 1 to 1000",
  ),
  invalidMarker: define(
    400,
    "invalid_marker",
    "Invalid value for parameter 'marker'. Valid values are build ids",
  ),

  // one build
  buildNotFound: define(404, "build_not_found", "Build not found"),
  buildNotActive: define(403, "build_not_active", "Build is not active"),
  actionMissing: define(400, "action_missing", "Parameter: 'action' is missing"),
  invalidAction: define(400, "invalid_action", "Invalid action"),

  // agent
  manifestForbidden: define(403, "manifest_forbidden", "Manifest retrieval is forbidden"),
  manifestExpired: define(403, "manifest_expired", "Manifest retrieval expired"),
  agentTokenMissing: define(401, "agent_token_missing", "Missing ICaaS token"),
  reportEmpty: define(400, "report_empty", "Parameters 'status' and 'status_details' are missing"),
  statusMissing: define(400, "status_missing", "Parameter: 'status' is missing"),
  statusInvalid: define(400, "status_invalid", "Parameter: 'status' is not valid"),
  agentCannotCancel: define(403, "agent_cannot_cancel", "Agent cannot cancel a build"),
  malformedStatusDetails: define(400, "malformed_status_details", "Malformed status details"),

  // HTTP plumbing
  badUrl: define(400, "bad_url", "The request URL is malformed"),
  urlTooLong: define(414, "url_too_long", "A part of the request URL is too long"),
  badHttp: define(400, "bad_request", "The request is not valid HTTP"),
  requestTimeout: define(408, "request_timeout", "The request took too long to arrive"),
  headersTooLarge: define(431, "headers_too_large", "The request headers are too large"),
  invalidJson: define(400, "invalid_json", "The request body is not valid JSON"),
  bodyTooLarge: define(413, "body_too_large", "The request body is too large"),
  notFound: define(404, "not_found", "Not found"),
  methodNotAllowed: define(405, "method_not_allowed", "Method not allowed"),
  unavailable: define(503, "service_unavailable", "Service unavailable, retry later"),
  internal: define(500, "internal_error", "Internal server error"),
} as const;
