/** @module builds/view — a stored build as the API shows it (the original's fields plus the superset). */
import { type BuildSummary, type BuildView, parseObject } from "../db/builds-repository.ts";

export interface BuildLink {
  href: string;
  rel: "self";
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === "") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function links(endpoint: string, id: number): BuildLink[] {
  return [{ href: `${endpoint}/builds/${id}`, rel: "self" }];
}

/**
 * The full build. Fixes of the original: `status_details` is an object, times are ISO-8601 and
 * `links[].href` ends in `/builds/{id}`.
 */
export function buildJson(row: BuildView, endpoint: string) {
  return {
    id: row.id,
    name: row.name,
    src: row.src,
    description: row.description,
    public: row.public === 1,
    status: row.status,
    status_details: parseObject(row.status_details),
    image: parseJson<Record<string, string>>(row.image, {}),
    log: parseJson<Record<string, string>>(row.log, {}),
    project: row.project,
    networks: parseJson<unknown[] | null>(row.networks, null),
    checksum: row.checksum,
    created: new Date(row.created_at).toISOString(),
    updated: new Date(row.updated_at).toISOString(),
    links: links(endpoint, row.id),
    progress: row.progress,
    steps: parseJson<unknown[]>(row.steps, []),
    error: parseJson<Record<string, string> | null>(row.error, null),
    image_id: row.image_id,
    image_location: row.image_location,
    log_tail: parseJson<string[]>(row.log_tail, []),
  };
}

/** A list entry without `details=1`: the original's `{links, id, name}` plus `status`. */
export function buildSummaryJson(row: BuildSummary, endpoint: string) {
  return { links: links(endpoint, row.id), id: row.id, name: row.name, status: row.status };
}
