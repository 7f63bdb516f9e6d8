/** @module download/source-guard — the source policy applied to the address each download connection goes to. */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { judgeTarget, judgeUrl, parseIp, portOf, type SourcePolicy } from "@icaas/source-policy";
import { agentErrors } from "../errors.ts";

/** One DNS answer, as `dns.lookup(…, {all: true})` gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Host name → addresses. Tests inject one so that no real DNS is asked. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Throws `source_refused` when the URL's host is an address literal the policy refuses. Node connects to
 * a literal without a lookup, so this is the check at connect time for those.
 */
export function checkLiteralHost(policy: SourcePolicy, url: URL): void {
  const refusal = judgeUrl(policy, url);
  if (refusal && parseIp(url.hostname)) throw agentErrors.sourceRefused(refusal.message);
}

/**
 * A `lookup` for `http.request`: resolves the name once, judges every address it got, and hands the
 * socket only addresses that passed, so the address connected to is the address judged (a second
 * resolution could answer differently). One refused address refuses the name: a source whose name also
 * points at the metadata service is not one to trust.
 */
export function guardedLookup(policy: SourcePolicy, url: URL, resolve: Resolver): LookupFunction {
  const port = portOf(url);
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answers) => {
        for (const answer of answers) {
          const address = parseIp(answer.address);
          const refusal = address
            ? judgeTarget(policy, { host: hostname, port, address })
            : {
                kind: "reserved" as const,
                address: answer.address,
                message: `${hostname} resolved to ${answer.address}`,
              };
          if (refusal) {
            callback(agentErrors.sourceRefused(refusal.message), "", 0);
            return;
          }
        }
        const usable = answers.filter((a) => !options.family || a.family === options.family);
        if (usable.length === 0) {
          const error = Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" });
          callback(error, "", 0);
        } else if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
