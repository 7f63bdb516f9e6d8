/** @module builds/source-policy — where a build's `src` may point: the service's policy, judged at create. */
import { endpointRule, judgeUrl, parseSourcePolicy, type SourcePolicy } from "@icaas/source-policy";
import { agentEndpointOf } from "../config.ts";
import type { ServiceContext } from "../context.ts";
import { errors } from "../errors.ts";

/**
 * The policy the configuration describes, with the service's own endpoints (as users and as agents reach
 * it) on the deny-list: a build pointed at the service would make its log an oracle on it. Asked per
 * request, since the endpoint is known only once the server listens; it is also sent to every agent in
 * its manifest.
 */
export function sourcePolicyOf(ctx: Pick<ServiceContext, "config" | "endpoint">): SourcePolicy {
  const { config } = ctx;
  const own = [ctx.endpoint, agentEndpointOf(config, ctx.endpoint)].map(endpointRule);
  return parseSourcePolicy({
    allowPrivate: config.sourceAllowPrivate,
    allow: config.sourceAllowList,
    deny: [...new Set([...config.sourceDenyList, ...own.filter((rule) => rule !== undefined)])],
  });
}

/**
 * Refuses (400 `source_refused`) a `src` whose host is an address the policy refuses, in whatever
 * spelling the URL parser turns into one, or an endpoint on the deny-list, before a VM is spent on it.
 * Other host names pass: only the agent knows what they resolve to, and it judges the address it
 * connects to, on every redirect too.
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
