/** @module status-badge — a build's status as text plus a shape, so it never relies on colour alone. */
import type { BuildStatus } from "@icaas/contract";
import { statusLabel } from "../build-view.ts";
import { Icon } from "./icons.tsx";

const ICONS = { CREATING: "spinner", COMPLETED: "check", ERROR: "cross", CANCELED: "ban" } as const;

export function StatusBadge({ status }: { status: BuildStatus }) {
  return (
    <span className={`badge badge--${status.toLowerCase()}`} data-status={status}>
      <Icon name={ICONS[status] ?? "dot"} />
      {statusLabel(status)}
    </span>
  );
}
