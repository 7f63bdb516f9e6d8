/** @module vm-files — the two files the service injects into an agent VM (Cyclades personality). */

/** The INI file with `[manifest] url = <one-time manifest URL>` (mode 0600). */
export const MANIFEST_PATH = "/etc/icaas/manifest.cfg";

/** Present until the agent starts: it removes it, so a reboot does not build again. */
export const MARKER_PATH = "/.icaas";
