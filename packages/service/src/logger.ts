/** @module logger — pino with every secret redacted: auth headers, tokens, nonces (also inside URLs). */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";

/**
 * Query parameter names that may carry a secret: a client may put its token in the query string by
 * mistake (the service ignores it, but the log would keep it). Over-matching only hides a value.
 */
const SECRET_PARAM = /token|nonce|pass(word|wd)?|pwd|secret|key|sig|auth|credential|session|cookie|otp/i;

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}

/**
 * A request URL fit for the log. The manifest URL carries the nonce: `/builds/agent/7/<nonce>` is
 * logged as `/builds/agent/7/[REDACTED]`; every secret-looking query parameter keeps its name and
 * loses its value: `?X-Auth-Token=[REDACTED]&status=ERROR`.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf("?");
  const path = at < 0 ? url : url.slice(0, at);
  // Doubled slashes do not match the route, but the line still carries the nonce.
  const safePath = path.replace(/(\/builds\/+agent\/+[^/?#]+\/+)[^/?#]+/, "$1[REDACTED]");
  if (at < 0) return safePath;
  const query = url
    .slice(at)
    .replace(/([?&;#])([^=&;#]*)=([^&;#]*)/g, (whole, sep: string, name: string) =>
      SECRET_PARAM.test(decodedName(name)) ? `${sep}${name}=[REDACTED]` : whole,
    );
  return safePath + query;
}

const REDACT_PATHS = [
  'req.headers["x-auth-token"]',
  'req.headers["x-icaas-token"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'headers["x-auth-token"]',
  'headers["x-icaas-token"]',
  "token",
  "nonce",
  "userToken",
  "agentToken",
  "*.token",
  "*.nonce",
  "*.userToken",
  "*.agentToken",
];

function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
        method: req.method,
        url: req.url ? redactUrl(req.url) : req.url,
        remoteAddress: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  };
}

/**
 * A logger for the service; `destination` lets tests capture the lines. Stdout is written
 * asynchronously (a write per request would cost throughput) and flushed when the process exits.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  if (destination) return pino(loggerOptions(level), destination);
  const stdout = pino.destination({ dest: 1, sync: false });
  process.once("exit", () => {
    try {
      stdout.flushSync();
    } catch {
      // Nothing more can be done at exit.
    }
  });
  return pino(loggerOptions(level), stdout);
}
