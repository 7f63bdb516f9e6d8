/** @module object-store/listing — container and object listings with prefix, delimiter, marker, limit. */
import type { Container, ObjectRecord } from "./object-index.ts";

/** Pithos' `API_LIST_LIMIT`. */
export const LIST_LIMIT = 10_000;

export type ListEntry = { name: string; record: ObjectRecord } | { subdir: string };

export interface ListQuery {
  prefix?: string | null;
  delimiter?: string | null;
  marker?: string | null;
  limit?: string | null;
  /** Objects directly under this path (overrides prefix and delimiter, no virtual directories). */
  path?: string | null;
}

/** The `limit` parameter: a positive integer, capped; anything else gives the default. */
export function listLimit(value: string | null | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? Math.min(n, LIST_LIMIT) : LIST_LIMIT;
}

/**
 * Lists a container's objects in name order. With a delimiter, names with it after the prefix collapse
 * into one `{subdir}` entry each (Pithos' virtual directories).
 */
export function listObjects(container: Container, query: ListQuery): ListEntry[] {
  let prefix = query.prefix ?? "";
  let delimiter = query.delimiter ?? "";
  let virtual = true;
  if (query.path) {
    prefix = query.path;
    delimiter = "/";
    virtual = false;
  }
  if (prefix && delimiter && !prefix.endsWith(delimiter)) prefix += delimiter;
  prefix = prefix.replace(/^\/+/, "");
  const marker = query.marker ?? "";
  const limit = listLimit(query.limit);
  const names = [...container.objects.keys()].filter((n) => n.startsWith(prefix) && n > marker).sort();
  const out: ListEntry[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (out.length >= limit) break;
    const rest = name.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut >= 0) {
      if (!virtual) continue;
      const subdir = prefix + rest.slice(0, cut + delimiter.length);
      if (!seen.has(subdir) && subdir > marker) {
        seen.add(subdir);
        out.push({ subdir });
      }
      continue;
    }
    out.push({ name, record: container.objects.get(name)! });
  }
  return out;
}

/** Names of an account's containers after `marker` that start with `prefix`, at most `limit`. */
export function listContainers<T>(
  containers: [string, T][],
  query: { prefix?: string | null; marker?: string | null; limit?: string | null },
): [string, T][] {
  const prefix = query.prefix ?? "";
  const marker = query.marker ?? "";
  return containers.filter(([n]) => n.startsWith(prefix) && n > marker).slice(0, listLimit(query.limit));
}
