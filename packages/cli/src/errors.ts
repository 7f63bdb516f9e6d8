/** @module errors — the CLI's error types and the one place that turns an error into an exit code. */

/** Exit codes, documented in `docs/cli.md`; scripts rely on them. */
export const EXIT = {
  ok: 0,
  /** Anything else: a failed or canceled build, a refused action, a network failure, a 5xx. */
  failure: 1,
  /** The command line or the request made from it is wrong. */
  usage: 2,
  /** No token, or the service refused it. */
  auth: 3,
  /** The build does not exist (or is another user's, or deleted). */
  notFound: 4,
  /** `wait --timeout` ran out while the build was still running. */
  timeout: 5,
  /** Interrupted (Ctrl-C) while waiting or following. */
  interrupted: 130,
} as const;

/** An error that knows its exit code; `message` is printed after `error: `. */
export class CliError extends Error {
  readonly exitCode: number;
  /** A line printed after the message (`hint: …`). */
  readonly hint: string | undefined;

  constructor(message: string, exitCode: number = EXIT.failure, hint?: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Wrong arguments, options or configuration. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.usage, hint);
    this.name = "UsageError";
  }
}

/** An error answer of the ICaaS API (`{"message", "status", "code"}`), or an answer that is not one. */
export class ApiError extends CliError {
  readonly status: number;
  readonly code: string;
  /** Seconds from a `Retry-After` header (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { retryAfter?: number; hint?: string } = {},
  ) {
    super(message, apiExitCode(status, code), options.hint);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = options.retryAfter;
  }

  /** A 5xx, a 429 or a lost answer: the same request may succeed later. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

function apiExitCode(status: number, code: string): number {
  if (status === 401) return EXIT.auth;
  if (code === "build_not_found") return EXIT.notFound;
  // A 400 refuses what the user typed (a bad --src, --checksum, --status).
  if (status === 400) return EXIT.usage;
  return EXIT.failure;
}

/** The service could not be reached, or did not answer in time. The URL never holds the token. */
export class NetworkError extends CliError {
  readonly url: string;

  constructor(url: string, reason: string) {
    super(`could not reach ${url}: ${reason}`, EXIT.failure);
    this.name = "NetworkError";
    this.url = url;
  }
}

/** Whether a failed request may succeed when sent again (the service or the network had a moment). */
export function isTransient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && error.transient);
}

/** The exit code for anything a command threw. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.failure;
}

/** The line(s) printed for an error: `error: <message> (<code>)` and an optional `hint: …`. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return `error: ${error.message} (${error.code})${error.hint ? `\nhint: ${error.hint}` : ""}`;
  }
  if (error instanceof CliError) return `error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ""}`;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/** A build that ended in ERROR or CANCELED (`wait`, `create --wait`, `log --follow`): exit code 1. */
export class BuildFailedError extends CliError {
  readonly build: { id: number; status: string };

  constructor(
    build: {
      id: number;
      status: string;
      status_details?: { details?: string };
      error?: { code: string; message: string; step?: string; hint?: string } | null;
    },
    clean: (text: string) => string = (t) => t,
  ) {
    const e = build.error;
    const details = build.status_details?.details;
    const message =
      build.status === "CANCELED"
        ? `build ${build.id} was CANCELED${details ? `: ${clean(details)}` : ""}`
        : e
          ? `build ${build.id} ended in ${build.status}${e.step ? ` at step ${clean(e.step)}` : ""}: ${clean(e.message)} (${clean(e.code)})`
          : `build ${build.id} ended in ${build.status}${details ? `: ${clean(details)}` : ""}`;
    super(message, EXIT.failure, e?.hint ? clean(e.hint) : undefined);
    this.name = "BuildFailedError";
    this.build = build;
  }
}
