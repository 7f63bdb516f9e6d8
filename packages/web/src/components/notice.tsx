/** @module notice — an inline message box: errors (announced as alerts), warnings and information. */
import type { ReactNode } from "react";
import { Icon } from "./icons.tsx";

export interface NoticeProps {
  kind: "error" | "info" | "success";
  title?: string;
  children: ReactNode;
  /** Shows a retry button beside the message. */
  onRetry?: () => void;
  onDismiss?: () => void;
}

export function Notice({ kind, title, children, onRetry, onDismiss }: NoticeProps) {
  return (
    <div className={`notice notice--${kind}`} role={kind === "error" ? "alert" : "status"}>
      <Icon
        name={kind === "error" ? "alert" : kind === "success" ? "check" : "dot"}
        className="notice__icon"
      />
      <div className="notice__body">
        {title ? <p className="notice__title">{title}</p> : null}
        <div>{children}</div>
      </div>
      {onRetry ? (
        <button type="button" className="button button--small" onClick={onRetry}>
          Retry
        </button>
      ) : null}
      {onDismiss ? (
        <button type="button" className="button button--small button--ghost" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
