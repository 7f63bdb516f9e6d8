/** @module builds/source-policy — where a build's `src` may point: the service's policy, judged at create. */
import { judgeUrl, parseSourcePolicy, type SourcePolicy } from "@icaas/source-policy";
import type { ServiceConfig } from "../config.ts";
import { errors } from "../errors.ts";

/** The policy the configuration describes; it is also sent to every agent in its manifest. */
export function sourcePolicyOf(
  config: Pick<ServiceConfig, "sourceAllowPrivate" | "sourceAllowList">,
): SourcePolicy {
  return parseSourcePolicy({ allowPrivate: config.sourceAllowPrivate, allow: config.sourceAllowList });
}

/**
 * Refuses (400 `source_refused`) a `src` whose host is an address the policy refuses, in whatever
 * spelling the URL parser turns into one, before a VM is spent on it. Host names pass: only the agent
 * knows what they resolve to, and it judges the address it connects to, on every redirect too.
 */
export function checkSourcePolicy(policy: SourcePolicy, src: string): void {
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return; // Not a URL: the syntax check answers that.
  }
  const refusal = judgeUrl(policy, url);
  if (refusal) throw errors.sourceRefused(refusal.message);
}
