/** @module builds/validate-src — is a build's `src` a well-formed http(s) URL? Syntax only, checked at create. */

/** Longest `src` accepted; longer URLs are refused by many servers and would only cost an agent VM. */
export const SRC_MAX_LENGTH = 4096;

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
  if (!scheme) return "must be an http:// or https:// URL";
  if (scheme[2] === "" || "/\\?#".includes(scheme[2]!)) return "must name a host after //";
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return "is not a valid URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http:// or https:// URL";
  if (url.hostname === "") return "must name a host after //";
  return undefined;
}
