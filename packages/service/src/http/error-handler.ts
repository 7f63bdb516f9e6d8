/** @module http/error-handler — the one place errors become HTTP answers `{message, status, code}`. */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from "fastify";
import { ApiError, errors } from "../errors.ts";

/** Turns a route's schema-validation errors into the API error the original would have given. */
export type ValidationMapper = (
  validation: FastifySchemaValidationError[],
  context: string | undefined,
) => ApiError | undefined;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Maps this route's validation errors; the generic `invalid_parameter` answer is used otherwise. */
    validationErrors?: ValidationMapper;
  }
}

/** The dotted path of a validation error: `build.image.container`, `limit`, … */
export function errorPath(error: FastifySchemaValidationError): string {
  const base = error.instancePath
    .split("/")
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const missing = (error.params as { missingProperty?: string }).missingProperty;
  if (error.keyword === "required" && missing) base.push(missing);
  return base.join(".");
}

/** The generic answer: which parameter, and why, in words. */
export function genericValidationError(
  validation: FastifySchemaValidationError[],
  context?: string,
): ApiError {
  const first = validation[0];
  if (!first) return errors.invalidParameter(context ?? "request", "invalid");
  const path = errorPath(first) || context || "body";
  const reason = first.keyword === "required" ? "is required" : (first.message ?? "is invalid");
  return errors.invalidParameter(path, reason);
}

/** Fastify's own error codes, mapped onto the catalogue. */
function fromFastify(error: FastifyError): ApiError | undefined {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      return errors.badUrl();
    case "FST_ERR_MAX_PARAM_LENGTH":
      return errors.urlTooLong();
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return errors.bodyTooLarge();
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return errors.invalidJson();
    default:
      return undefined;
  }
}

function toApiError(error: unknown, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const mapper = request.routeOptions.config?.validationErrors;
    return (
      mapper?.(fastifyError.validation, fastifyError.validationContext) ??
      genericValidationError(fastifyError.validation, fastifyError.validationContext)
    );
  }
  const known = fromFastify(fastifyError);
  if (known) return known;
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return new ApiError(status, "bad_request", fastifyError.message);
  return errors.internal();
}

/** Answers any error as `{message, status, code}`; unexpected ones are logged. */
function answer(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const api = toApiError(error, request);
  if (api.status >= 500 && !(error instanceof ApiError)) request.log.error({ err: error }, "request failed");
  // Sent as text: a route's own schema for that status (health's 503) must not reshape an error.
  reply
    .code(api.status)
    .headers(api.headers)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(api.toJSON()));
}

/** Installs the error handler. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => answer(error, request, reply));
}

/**
 * Requests that arrive on an open connection while the service stops (Fastify's
 * `return503OnClosing` would answer them in its own shape): 503 in ours, and the connection closed.
 * Install before the routes, so this hook runs first.
 */
export function installClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async () => {
    if (closing) throw errors.unavailable({ connection: "close" });
  });
}

/**
 * Fastify's `frameworkErrors` option: errors the router meets before any route or hook runs (a
 * malformed `%` escape, an over-long parameter) would otherwise get Fastify's own answer shape.
 */
export const frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void =>
  answer(error, request, reply);

/**
 * Fastify's `clientErrorHandler` option: the HTTP parser refused the bytes, so there is no request
 * to reply to; the answer is written on the socket, in the same shape, and the connection closed.
 */
export function clientErrorHandler(
  error: Error & { code?: string },
  socket: Duplex & { _httpMessage?: { headersSent?: boolean } },
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  // As Node does: never write into a response already under way; the socket is closed either way.
  if (!socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy(error);
    return;
  }
  const api =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? errors.requestTimeout()
      : error.code === "HPE_HEADER_OVERFLOW"
        ? errors.headersTooLarge()
        : errors.badHttp();
  const body = JSON.stringify(api.toJSON());
  socket.write(
    `HTTP/1.1 ${api.status} ${STATUS_CODES[api.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.destroy(error);
}
