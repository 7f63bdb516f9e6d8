/**
 * @module validation — the checks a build request must pass, written once: the service's schemas are
 * made from these constants and the web form runs the same functions before sending.
 */

export const NAME_MAX_LENGTH = 256;
export const DESCRIPTION_MAX_LENGTH = 256;
export const ACCOUNT_MAX_LENGTH = 256;
export const CONTAINER_MAX_LENGTH = 256;
export const OBJECT_MAX_LENGTH = 1024;
/** Longest `src` accepted; longer URLs are refused by many servers and would only cost an agent VM. */
export const SRC_MAX_LENGTH = 4096;

/** `src` starts with `http://` or `https://`, in any case (the schema's first, cheap check). */
export const SRC_SCHEME_PATTERN = "^[hH][tT][tT][pP][sS]?://";

/** A container is one URL path segment: `.`/`..` would be collapsed and `/` would split it. */
export const CONTAINER_PATTERN = "^(?!\\.\\.?$)[^/]+$";

/**
 * URL parsing collapses `.`/`..` segments (even escaped), so such an object name would be stored under
 * another one; a leading `/` would make an empty segment.
 */
export const OBJECT_PATTERN = "^(?!/)(?!(?:.*/)?\\.\\.?(?:/|$)).+$";

/** The digest length of each checksum algorithm, in hex digits. */
export const CHECKSUM_HEX_LENGTH = { md5: 32, sha1: 40, sha256: 64, sha512: 128 } as const;

export type ChecksumAlgorithm = keyof typeof CHECKSUM_HEX_LENGTH;

/** `<algorithm>:<hex digest of its length>`: a wrong length is refused before a VM is paid for. */
export const CHECKSUM_PATTERN = `^(${Object.entries(CHECKSUM_HEX_LENGTH)
  .map(([algorithm, digits]) => `${algorithm}:[0-9a-fA-F]{${digits}}`)
  .join("|")})$`;

/** What a value breaking a pattern above must be instead, in words (a regular expression is no help). */
export const RULES = {
  src: "must be an http:// or https:// URL",
  container: "must not be . or .. nor contain /",
  object: "must not start with / nor have . or .. as a path segment",
  checksum:
    "must be <md5|sha1|sha256|sha512>:<hex digest of that algorithm's length>, e.g. sha256:<64 hex digits>",
} as const;

/**
 * Why `src` is not a URL the agent can fetch, or undefined when it is. The WHATWG parser is the one
 * the agent's HTTP client uses, but it forgives: it drops tabs and newlines, trims spaces and takes
 * `http:///host` as `http://host`. A build costs a VM, so what it would silently repair is refused.
 *
 * @example
 * srcSyntaxProblem("https://a b/c"); // "must not contain whitespace or control characters"
 */
export function srcSyntaxProblem(src: string): string | undefined {
  if (src.length > SRC_MAX_LENGTH) return `must be at most ${SRC_MAX_LENGTH} characters`;
  // \s covers Unicode spaces too; \p{Cc} every control character.
  if (/[\s\p{Cc}]/u.test(src)) return "must not contain whitespace or control characters";
  const scheme = /^(https?):\/\/(.?)/i.exec(src);
  if (!scheme) return RULES.src;
  if (scheme[2] === "" || "/\\?#".includes(scheme[2]!)) return "must name a host after //";
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return "is not a valid URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return RULES.src;
  if (url.hostname === "") return "must name a host after //";
  return undefined;
}

/** Why a Pithos container name is refused, or undefined (an empty one means "the default"). */
export function containerProblem(name: string): string | undefined {
  return nameProblem(name, CONTAINER_PATTERN, CONTAINER_MAX_LENGTH, RULES.container);
}

/** Why a Pithos object name is refused, or undefined (an empty one means "the default"). */
export function objectProblem(name: string): string | undefined {
  return nameProblem(name, OBJECT_PATTERN, OBJECT_MAX_LENGTH, RULES.object);
}

function nameProblem(name: string, pattern: string, max: number, rule: string): string | undefined {
  if (name.length > max) return `must be at most ${max} characters`;
  // The `u` flag: JSON Schema patterns are Unicode regular expressions (Ajv compiles them so).
  return name === "" || new RegExp(pattern, "u").test(name) ? undefined : rule;
}
