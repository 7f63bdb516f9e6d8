/** @module progress-bar — a labelled progress bar; indeterminate while the value is unknown. */

export interface ProgressBarProps {
  /** 0–100, or null when unknown. */
  value: number | null;
  label: string;
  size?: "small" | "large";
}

export function ProgressBar({ value, label, size = "small" }: ProgressBarProps) {
  const known = value !== null;
  const rounded = known ? Math.round(value) : 0;
  return (
    <div
      className={`progress progress--${size}${known ? "" : " progress--indeterminate"}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={known ? rounded : undefined}
      aria-valuetext={known ? `${rounded}%` : "In progress"}
    >
      <div className="progress__fill" style={known ? { width: `${value}%` } : undefined} />
    </div>
  );
}
