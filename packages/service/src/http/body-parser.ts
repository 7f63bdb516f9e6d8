/** @module http/body-parser — every request body is JSON (whatever its Content-Type); empty means none. */
import type { FastifyInstance } from "fastify";
import { errors } from "../errors.ts";

/**
 * The original read bodies with Flask's `get_json()`; scripts often send JSON with curl's default
 * form Content-Type, so any body is read as JSON. An empty body is `undefined`, which lets each route
 * answer with its own "missing" message instead of a generic parse error.
 */
export function installJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text, rejectProto));
    } catch {
      done(errors.invalidJson(), undefined);
    }
  });
}

/** Drops `__proto__` keys so a body cannot smuggle a prototype. */
function rejectProto(key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value;
}
