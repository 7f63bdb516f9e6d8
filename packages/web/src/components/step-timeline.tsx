/** @module step-timeline — the agent's steps in order, each with its state, progress and duration. */
import type { StepState } from "@icaas/contract";
import type { Build, BuildStep } from "../api.ts";
import { stepDurationMs, stepFraction, stepLabel, timeline } from "../build-view.ts";
import { formatBytes, formatDuration } from "../format.ts";
import { Icon } from "./icons.tsx";
import { ProgressBar } from "./progress-bar.tsx";

/** What a step shows: its reported state, or `stopped` for the one running when the build was canceled. */
type ShownState = StepState | "stopped";

const STATE_TEXT: Record<ShownState, string> = {
  pending: "Waiting",
  running: "Running",
  done: "Done",
  failed: "Failed",
  skipped: "Skipped",
  stopped: "Stopped",
};
const STATE_ICON = {
  pending: "dot",
  running: "spinner",
  done: "check",
  failed: "cross",
  skipped: "ban",
  stopped: "ban",
} as const;

export function StepTimeline({ build, now }: { build: Build; now: number }) {
  const ended = build.status !== "CREATING";
  // A step still "running" in a finished build stopped when the build did, not now.
  const endedAt = ended ? Date.parse(build.updated) : now;
  return (
    <ol className="timeline" aria-label="Steps">
      {timeline(build).map((step) => (
        <StepItem key={step.name} step={step} now={endedAt} buildStatus={build.status} />
      ))}
    </ol>
  );
}

function shownState(step: BuildStep, buildStatus: Build["status"]): ShownState {
  if (buildStatus === "CREATING" || step.state !== "running") return step.state;
  return buildStatus === "CANCELED" ? "stopped" : buildStatus === "ERROR" ? "failed" : "done";
}

function StepItem({
  step,
  now,
  buildStatus,
}: {
  step: BuildStep;
  now: number;
  buildStatus: Build["status"];
}) {
  const state = shownState(step, buildStatus);
  const ended = buildStatus !== "CREATING";
  const duration = state === "skipped" || state === "pending" ? null : stepDurationMs(step, now);
  const fraction = stepFraction(step);
  // A finished build's steps that never ran stay "waiting" in the data; say "not run" instead.
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
