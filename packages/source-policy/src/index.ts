/** @module @icaas/source-policy — where an image source may point; shared by the service and the agent. */
export {
  type AddressKind,
  classifyAddress,
  effectiveAddress,
  LOOPBACK_NETWORKS,
  METADATA_ADDRESSES,
} from "./classify.ts";
export { type Cidr, embeddedIpv4, formatIp, type IpAddress, inCidr, parseCidr, parseIp } from "./ip.ts";
export {
  type AllowRule,
  DEFAULT_SOURCE_POLICY,
  endpointRule,
  judgeTarget,
  judgeUrl,
  parseAllowRule,
  parseSourcePolicy,
  policyFromManifest,
  policyToManifest,
  portOf,
  type Refusal,
  type SourcePolicy,
  type SourceTarget,
} from "./policy.ts";
