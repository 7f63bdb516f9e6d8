/** @module render — servers and flavors as Cyclades' JSON shows them (`vm_to_dict`, `flavor_to_dict`). */
import type { DevFlavor } from "../config.ts";
import { isoformat } from "../identity/iso-time.ts";
import { imageLinks } from "./images.ts";
import { type ServerRecord, statusOf } from "./server-store.ts";

function links(href: string): { rel: string; href: string }[] {
  return [
    { rel: "self", href },
    { rel: "bookmark", href },
  ];
}

export function flavorLinks(baseUrl: string, id: number) {
  return links(`${baseUrl}/compute/v2.0/flavors/${id}`);
}

export function flavorToJson(baseUrl: string, flavor: DevFlavor, detail: boolean): Record<string, unknown> {
  const short = { id: flavor.id, name: flavor.name, links: flavorLinks(baseUrl, flavor.id) };
  if (!detail) return short;
  return {
    ...short,
    ram: flavor.ram,
    disk: flavor.disk,
    vcpus: flavor.vcpus,
    "os-flavor-access:is_public": true,
    "SNF:disk_template": flavor.diskTemplate ?? "ext_vlmc",
    "SNF:volume_type": 1,
    "SNF:allow_create": true,
    "SNF:flavor-access": [],
  };
}

export function serverToJson(
  baseUrl: string,
  server: ServerRecord,
  detail: boolean,
): Record<string, unknown> {
  const short = {
    id: server.id,
    name: server.name,
    links: links(`${baseUrl}/compute/v2.0/servers/${server.id}`),
  };
  if (!detail) return short;
  const status = statusOf(server);
  const attachments = server.networks.map((network, index) => ({
    id: `nic-${server.id}-${index}`,
    network_id: network,
    mac_address: macAddress(server.id, index),
    ipv4: "",
    ipv6: "",
  }));
  const addresses: Record<string, unknown[]> = {};
  for (const nic of attachments) addresses[nic.network_id] = [];
  return {
    ...short,
    user_id: server.userId,
    tenant_id: server.project,
    shared_to_project: false,
    status,
    "SNF:task_state": server.taskState,
    progress: status === "ACTIVE" ? 100 : 0,
    hostId: "",
    updated: isoformat(server.updated),
    created: isoformat(server.created),
    flavor: { id: server.flavorId, links: flavorLinks(baseUrl, server.flavorId) },
    image: { id: server.imageId, links: imageLinks(baseUrl, server.imageId) },
    suspended: false,
    metadata: server.metadata,
    tags: [],
    attachments,
    addresses,
    volumes: [],
    diagnostics: [],
    security_groups: [{ name: "default" }],
    key_name: null,
    "SNF:key_names": [],
    config_drive: "",
    accessIPv4: "",
    accessIPv6: "",
    "SNF:fqdn": null,
    "SNF:port_forwarding": {},
    deleted: server.deleted,
    "SNF:rescue": false,
  };
}

export function macAddress(id: number, index: number): string {
  const hex = (n: number) => (n & 0xff).toString(16).padStart(2, "0");
  return `aa:00:${hex(id >> 16)}:${hex(id >> 8)}:${hex(id)}:${hex(index)}`;
}
