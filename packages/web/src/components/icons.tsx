/** @module icons — the few inline SVG icons the UI uses (no icon font: keeps the bundle small). */

type IconName = "check" | "cross" | "ban" | "spinner" | "dot" | "alert" | "plus" | "copy" | "logout";

const PATHS: Record<IconName, string> = {
  check: "M4 10.5l4 4 8-9",
  cross: "M5 5l10 10M15 5L5 15",
  ban: "M10 2.5a7.5 7.5 0 1 0 0 15a7.5 7.5 0 1 0 0-15M4.7 4.7l10.6 10.6",
  spinner: "M10 2.5a7.5 7.5 0 1 1-7.5 7.5",
  dot: "M10 7a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
  alert: "M10 3l8 14H2zM10 8v4M10 14.5v.5",
  plus: "M10 4v12M4 10h12",
  copy: "M7 7h9v9H7zM4 13V4h9",
  logout: "M8 4H4v12h4M13 6l4 4-4 4M17 10H8",
};

/** A decorative icon: hidden from screen readers, since the text beside it says the same. */
export function Icon({ name, className }: { name: IconName; className?: string }) {
  return (
    <svg
      className={`icon icon--${name}${className ? ` ${className}` : ""}`}
      viewBox="0 0 20 20"
      width="1em"
      height="1em"
      aria-hidden="true"
      focusable="false"
    >
      <path
        d={PATHS[name]}
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
