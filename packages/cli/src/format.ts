/** @module format — human output: sizes, times, tables, a build's details, progress lines. */
import type { Build } from "@icaas/contract";
import { currentStep } from "./build.ts";

/**
 * Text from the service or the agent (names, messages, log lines) with control characters replaced:
 * a build name or a log line must not move the cursor or recolour the terminal.
 */
export function clean(text: string): string {
  return text.replace(/\t/g, " ").replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "\uFFFD");
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `83_000` → `1m 23s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** An ISO time as local `YYYY-MM-DD HH:MM`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "-";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Parses `90`, `90s`, `15m`, `2h` into seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return n * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `45% download` while running; the status alone once ended. */
export function progressCell(build: Build): string {
  if (build.status !== "CREATING") return build.status === "COMPLETED" ? "100%" : "-";
  const step = currentStep(build);
  return `${build.progress ?? 0}%${step ? ` ${step.name}` : ""}`;
}

/** The list table: ID, STATUS, PROGRESS, CREATED, NAME. */
export function buildTable(builds: Build[]): string {
  return table(
    ["ID", "STATUS", "PROGRESS", "CREATED", "NAME"],
    builds.map((b) => [String(b.id), b.status, progressCell(b), formatTime(b.created), clean(b.name)]),
  );
}

/**
 * One line of progress: `build 12: 45% download 12.3 MiB / 27.0 MiB (Downloading image file...)`.
 * Before the agent runs there is no step, only the service's details text.
 */
export function progressLine(build: Build): string {
  const step = currentStep(build);
  const details = build.status_details?.details;
  let text = `build ${build.id}: ${build.progress ?? 0}%`;
  if (step) {
    text += ` ${step.name}`;
    // Steps that count no bytes (prepare, register) report 0 of nothing: left out.
    const done = step.bytes_done ?? 0;
    if (step.bytes_total) text += ` ${formatBytes(done)} / ${formatBytes(step.bytes_total)}`;
    else if (done > 0) text += ` ${formatBytes(done)}`;
  }
  if (details) text += ` (${clean(details)})`;
  return text;
}

/** The `pithos://` address of a location, with the account when known. */
function pithos(loc: Build["image"] | undefined, location?: string | null): string {
  if (location) return location;
  if (!loc) return "-";
  return loc.account
    ? `pithos://${loc.account}/${loc.container}/${loc.object}`
    : `${loc.container}/${loc.object}`;
}

/** `show`'s text: the fields a person looks for, then the steps, the error and the log tail. */
export function buildDetails(build: Build, now = Date.now()): string {
  const lines: string[] = [];
  const field = (name: string, value: string) => lines.push(`${`${name}:`.padEnd(13)}${value}`);
  lines.push(`build ${build.id}  ${clean(build.name)}`);
  const details = build.status_details?.details;
  field("status", `${build.status}${build.status === "CREATING" ? ` ${build.progress ?? 0}%` : ""}`);
  if (details) field("details", clean(details));
  field("source", clean(build.src ?? "-"));
  if (build.description) field("description", clean(build.description));
  field("public", build.public ? "yes" : "no");
  if (build.checksum) field("checksum", clean(build.checksum));
  if (build.project) field("project", clean(build.project));
  const created = Date.parse(build.created);
  const updated = Date.parse(build.updated);
  field("created", `${formatTime(build.created)} (${formatDuration(now - created)} ago)`);
  field(
    "updated",
    build.status === "CREATING"
      ? `${formatTime(build.updated)} (${formatDuration(now - updated)} ago)`
      : `${formatTime(build.updated)} (took ${formatDuration(updated - created)})`,
  );
  field("image", clean(pithos(build.image, build.image_location)));
  if (build.image_id) field("image id", clean(build.image_id));
  field("log", clean(pithos(build.log)));
  if (build.steps?.length) {
    lines.push("steps:");
    const rows = build.steps.map((s) => {
      const done = s.bytes_done ?? 0;
      const bytes =
        s.state === "pending" || (!s.bytes_total && !done)
          ? ""
          : !s.bytes_total || done === s.bytes_total
            ? formatBytes(done)
            : `${formatBytes(done)} / ${formatBytes(s.bytes_total)}`;
      const took =
        s.started && s.finished ? formatDuration(Date.parse(s.finished) - Date.parse(s.started)) : "";
      return [`  ${clean(s.name)}`, clean(s.state), bytes, took];
    });
    lines.push(...table(["", "", "", ""], rows).split("\n").slice(1));
  }
  if (build.error) {
    field("error", `${clean(build.error.message)} (${clean(build.error.code)})`);
    if (build.error.step) field("failed step", clean(build.error.step));
    if (build.error.hint) field("hint", clean(build.error.hint));
  }
  if (build.log_tail?.length) {
    const shown = build.log_tail.slice(-10);
    lines.push(`log (last ${shown.length} of ${build.log_tail.length} lines; all: icaas log ${build.id}):`);
    for (const l of shown) lines.push(`  ${clean(l)}`);
  }
  return lines.join("\n");
}
