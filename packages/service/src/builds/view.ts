/** @module builds/view — a stored build as the API shows it (the original's fields plus the superset). */
import {
  type BuildListView,
  type BuildSummary,
  type BuildView,
  parseObject,
} from "../db/builds-repository.ts";

/**
 * A JSON column as stored. Every writer stores `JSON.stringify` output, so the text is embedded as is
 * (no parse and re-serialise: list pages are large); anything else is repaired through a parse.
 */
function embed(text: string | null, open: "{" | "[", fallback: string): string {
  if (text === null || text === "") return fallback;
  if (text.charCodeAt(0) === open.charCodeAt(0)) return text;
  try {
    const value = JSON.parse(text) as unknown;
    return JSON.stringify(open === "{" ? parseObject(text) : Array.isArray(value) ? value : []);
  } catch {
    return open === "{" ? JSON.stringify(parseObject(text)) : fallback;
  }
}

const str = (value: string | null): string => (value === null ? "null" : JSON.stringify(value));

/**
 * The full build as JSON text. Fixes of the original: `status_details` is an object, times are
 * ISO-8601 and `links[].href` ends in `/builds/{id}`. `log_tail` is there when the row has it (a
 * single build), not in list pages.
 */
export function buildJsonText(row: BuildView | BuildListView, endpoint: string): string {
  const href = JSON.stringify(`${endpoint}/builds/${row.id}`);
  return (
    `{"id":${row.id},"name":${str(row.name)},"links":[{"href":${href},"rel":"self"}],` +
    `"status":${str(row.status)},"src":${str(row.src)},"description":${str(row.description)},` +
    `"public":${row.public === 1},"status_details":${embed(row.status_details, "{", "{}")},` +
    `"image":${embed(row.image, "{", "{}")},"log":${embed(row.log, "{", "{}")},` +
    `"project":${str(row.project)},"networks":${embed(row.networks, "[", "null")},"checksum":${str(row.checksum)},` +
    `"created":"${new Date(row.created_at).toISOString()}","updated":"${new Date(row.updated_at).toISOString()}",` +
    `"progress":${row.progress},"steps":${embed(row.steps, "[", "[]")},"error":${embed(row.error, "{", "null")},` +
    `"image_id":${str(row.image_id)},"image_location":${str(row.image_location)}` +
    `${"log_tail" in row ? `,"log_tail":${embed(row.log_tail, "[", "[]")}` : ""}}`
  );
}

/** A list entry without `details=1`: the original's `{links, id, name}` plus `status`. */
export function buildSummaryText(row: BuildSummary, endpoint: string): string {
  const href = JSON.stringify(`${endpoint}/builds/${row.id}`);
  return `{"links":[{"href":${href},"rel":"self"}],"id":${row.id},"name":${str(row.name)},"status":${str(row.status)}}`;
}
