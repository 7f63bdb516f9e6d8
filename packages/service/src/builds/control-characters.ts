/** @module builds/control-characters — finds control characters in a request's text fields. */

/** Every control character (C0, DEL, C1). PostgreSQL cannot store NUL at all; the rest hide in logs and UIs. */
const CONTROL = /\p{Cc}/u;
/** A description is free text from a textarea: line breaks and tabs are text there, nothing else. */
const CONTROL_IN_FREE_TEXT = /(?![\t\n\r])\p{Cc}/u;

/** Fields whose text may span lines, by dotted path. */
const FREE_TEXT = new Set(["build.description"]);

/**
 * The dotted path and code point of the first control character in any string of `value`, or
 * undefined. Walks objects and arrays, so a field added later is covered without being listed.
 *
 * @example
 * findControlCharacter({ name: "a\u0000b" }, "build"); // { path: "build.name", codePoint: "U+0000" }
 */
export function findControlCharacter(
  value: unknown,
  path: string,
): { path: string; codePoint: string } | undefined {
  if (typeof value === "string") {
    const match = (FREE_TEXT.has(path) ? CONTROL_IN_FREE_TEXT : CONTROL).exec(value);
    if (!match) return undefined;
    const hex = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return { path, codePoint: `U+${hex}` };
  }
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findControlCharacter(item, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}
