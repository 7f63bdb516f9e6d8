/** @module step-timeline — the agent's steps in order, each with its state, progress and duration. */
import type { Build, BuildStep, StepState } from "../api.ts";
import { stepDurationMs, stepFraction, stepLabel, timeline } from "../build-view.ts";
import { formatBytes, formatDuration } from "../format.ts";
import { Icon } from "./icons.tsx";
import { ProgressBar } from "./progress-bar.tsx";

const STATE_TEXT: Record<StepState, string> = {
  pending: "Waiting",
  running: "Running",
  done: "Done",
  failed: "Failed",
  skipped: "Skipped",
};
const STATE_ICON = {
  pending: "dot",
  running: "spinner",
  done: "check",
  failed: "cross",
  skipped: "ban",
} as const;

export function StepTimeline({ build, now }: { build: Build; now: number }) {
  // A finished build's steps that never ran stay "waiting" in the data; say "not run" instead.
  const ended = build.status !== "CREATING";
  return (
    <ol className="timeline" aria-label="Steps">
      {timeline(build).map((step) => (
        <StepItem key={step.name} step={step} now={now} ended={ended} />
      ))}
    </ol>
  );
}

function StepItem({ step, now, ended }: { step: BuildStep; now: number; ended: boolean }) {
  const state: StepState = ended && step.state === "running" ? "failed" : step.state;
  const duration = stepDurationMs(step, now);
  const fraction = stepFraction(step);
  const stateText = ended && state === "pending" ? "Not run" : STATE_TEXT[state];
  const bytes =
    typeof step.bytes_done === "number" && step.bytes_done > 0
      ? typeof step.bytes_total === "number" && step.bytes_total > 0
        ? `${formatBytes(step.bytes_done)} of ${formatBytes(step.bytes_total)}`
        : formatBytes(step.bytes_done)
      : null;
  return (
    <li className={`timeline__step timeline__step--${state}`} data-step={step.name} data-state={state}>
      <span className="timeline__marker">
        <Icon name={STATE_ICON[state]} />
      </span>
      <div className="timeline__main">
        <div className="timeline__row">
          <span className="timeline__name">{stepLabel(step.name)}</span>
          <span className="timeline__state">{stateText}</span>
          <span className="timeline__time">{duration !== null ? formatDuration(duration) : ""}</span>
        </div>
        {/* Reserved for every step, so bars appearing and going do not move the steps below. */}
        <div className="timeline__detail">
          {state === "running" ? (
            <ProgressBar
              value={fraction === null ? null : fraction * 100}
              label={`${stepLabel(step.name)} progress`}
            />
          ) : null}
          {bytes ? <span className="timeline__bytes">{bytes}</span> : null}
        </div>
      </div>
    </li>
  );
}
