/** @module iso-time — the two time formats Synnefo answers with. */

/**
 * Python's `datetime.isoformat()` of a UTC time, as Synnefo's `utils.isoformat` prints it:
 * `2013-06-19T15:23:59.975000+00:00` (microseconds only when not zero).
 */
export function isoformat(time: Date | number): string {
  const date = typeof time === "number" ? new Date(time) : time;
  const iso = date.toISOString(); // 2013-06-19T15:23:59.975Z
  const ms = date.getUTCMilliseconds();
  const base = iso.slice(0, 19);
  return ms === 0 ? `${base}+00:00` : `${base}.${String(ms).padStart(3, "0")}000+00:00`;
}

/** Plankton's `YYYY-MM-DD HH:MM:SS` (UTC). */
export function planktonTime(time: Date | number): string {
  const date = typeof time === "number" ? new Date(time) : time;
  return date.toISOString().slice(0, 19).replace("T", " ");
}
