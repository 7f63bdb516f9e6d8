/** @module build-row — one build in the list: name, status, age, and progress with the current step. */
import type { Build } from "../api.ts";
import { activityText, currentStep, isActive, overallProgress, stepLabel } from "../build-view.ts";
import { formatRelative, urlHost } from "../format.ts";
import { Link } from "./link.tsx";
import { ProgressBar } from "./progress-bar.tsx";
import { StatusBadge } from "./status-badge.tsx";

export function BuildRow({ build, now }: { build: Build; now: number }) {
  const id = String(build.id);
  const active = isActive(build);
  const progress = overallProgress(build);
  const step = currentStep(build);
  return (
    <li className={`build-row build-row--${build.status.toLowerCase()}`} data-build-id={id}>
      <div className="build-row__head">
        <Link to={`/builds/${encodeURIComponent(id)}`} className="build-row__name">
          {build.name}
        </Link>
        <StatusBadge status={build.status} />
      </div>
      <p className="build-row__meta">
        <span className="build-row__src" title={build.src}>
          {urlHost(build.src)}
        </span>
        <span aria-hidden="true"> · </span>
        <time dateTime={build.created} title={build.created}>
          {formatRelative(build.created, now)}
        </time>
      </p>
      {/* Always rendered, running or not, so a row keeps its height when its build finishes. */}
      <div className="build-row__activity">
        {active ? (
          <>
            <ProgressBar value={progress} label={`Progress of ${build.name}`} />
            <span className="build-row__step">
              {step?.state === "running" ? stepLabel(step.name) : activityText(build)}
              {progress !== null ? <span className="build-row__pct"> · {Math.round(progress)}%</span> : null}
            </span>
          </>
        ) : (
          <span className={`build-row__step${build.status === "ERROR" ? " text-error" : ""}`}>
            {activityText(build)}
          </span>
        )}
      </div>
    </li>
  );
}
