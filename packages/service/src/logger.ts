/** @module logger — pino with every secret redacted: auth headers, tokens, nonces (also inside URLs). */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";

/** The manifest URL carries the nonce: `/builds/agent/7/<nonce>` is logged as `/builds/agent/7/[REDACTED]`. */
export function redactUrl(url: string): string {
  // Doubled slashes do not match the route, but the line still carries the nonce.
  return url.replace(/(\/builds\/+agent\/+[^/?#]+\/+)[^/?#]+/, "$1[REDACTED]");
}

export const REDACT_PATHS = [
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

export function loggerOptions(level: string): LoggerOptions {
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
