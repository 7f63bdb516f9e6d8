/** @module build-detail — one build: status, step timeline, error and hint, log tail, cancel and delete. */

import { useCallback, useId, useRef, useState } from "react";
import { ApiError, type Build, type BuildStep } from "../api.ts";
import { useApp } from "../app-context.ts";
import {
  activityText,
  currentStep,
  isActive,
  overallProgress,
  pithosLocation,
  statusLabel,
  stepLabel,
} from "../build-view.ts";
import { formatDate, formatDuration } from "../format.ts";
import { usePolling } from "../hooks/use-polling.ts";
import { navigate } from "../router.ts";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { CopyButton } from "./copy-button.tsx";
import { Link } from "./link.tsx";
import { LogTail } from "./log-tail.tsx";
import { Notice } from "./notice.tsx";
import { PageHeading } from "./page-heading.tsx";
import { ProgressBar } from "./progress-bar.tsx";
import { StatusBadge } from "./status-badge.tsx";
import { StepTimeline } from "./step-timeline.tsx";

const POLL_MS = 2000;
/** A finished build changes only by deletion elsewhere; look now and then. */
const POLL_FINISHED_MS = 15_000;

export function BuildDetail({ id }: { id: string }) {
  const { api, announce, flash } = useApp();
  const [build, setBuild] = useState<Build | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [dialog, setDialog] = useState<"cancel" | "delete" | null>(null);
  const lastStatus = useRef<string | null>(null);
  const errorTitleId = useId();
  const deleteRef = useRef<HTMLButtonElement>(null);

  const load = useCallback(
    async (signal: AbortSignal) => {
      try {
        const next = await api.getBuild(id, signal);
        setError(null);
        if (lastStatus.current && lastStatus.current !== next.status) {
          announce(`Build ${statusLabel(next.status).toLowerCase()}.`);
        }
        lastStatus.current = next.status;
        setBuild(next);
      } catch (e) {
        if (!signal.aborted) setError(e as ApiError);
        throw e;
      }
    },
    [api, id, announce],
  );
  const active = build ? isActive(build) : true;
  const notFound = error instanceof ApiError && error.status === 404;
  const refresh = usePolling(load, notFound ? null : active ? POLL_MS : POLL_FINISHED_MS, id);

  if (notFound) {
    return (
      <section className="page">
        <PageHeading title="Build not found">Build not found</PageHeading>
        <p>There is no build {id} in your account. It may have been deleted.</p>
        <p>
          <Link to="/builds">Back to your builds</Link>
        </p>
      </section>
    );
  }

  const cancel = async () => {
    await api.cancelBuild(id);
    setDialog(null);
    announce("Build canceled.");
    refresh();
    // "Cancel build" disappears once the build is canceled; park focus on the button that stays.
    requestAnimationFrame(() => deleteRef.current?.focus());
  };
  const remove = async () => {
    await api.deleteBuild(id);
    setDialog(null);
    flash(`Build “${build?.name ?? id}” deleted.`);
    navigate("/builds");
  };

  const now = Date.now();
  const progress = build ? overallProgress(build) : null;
  const step = build ? currentStep(build) : null;
  const location = build ? pithosLocation(build) : null;
  const finishedAt = build && !active ? build.updated : null;
  const elapsed = build
    ? (finishedAt ? Date.parse(finishedAt) : now) - Date.parse(build.created)
    : Number.NaN;

  return (
    <section className="page">
      <p className="breadcrumb">
        <Link to="/builds">← Builds</Link>
      </p>
      <div className="page__head">
        <PageHeading title={build ? build.name : `Build ${id}`} className="detail__title">
          {build ? build.name : `Build ${id}`}
        </PageHeading>
        <div className="detail__actions">
          {build && active ? (
            <button type="button" className="button" onClick={() => setDialog("cancel")}>
              Cancel build
            </button>
          ) : null}
          {build ? (
            <button
              ref={deleteRef}
              type="button"
              className="button button--danger-outline"
              onClick={() => setDialog("delete")}
            >
              Delete
            </button>
          ) : null}
        </div>
      </div>

      {error ? (
        <Notice kind="error" title="Could not refresh this build" onRetry={refresh}>
          {error.message}
        </Notice>
      ) : null}

      {build === null ? (
        error ? null : (
          <p className="muted" role="status">
            Loading build…
          </p>
        )
      ) : (
        <div className="detail">
          <div className="detail__main">
            <div className="card status-card">
              <div className="status-card__top">
                <StatusBadge status={build.status} />
                {/* The live region: what a screen reader hears as the build moves on. */}
                <p className="status-card__text" role="status" aria-live="polite">
                  {detailStatusText(build, step)}
                </p>
              </div>
              {/* Shown in every state (a finished build keeps where it stopped), so nothing moves at the end. */}
              <div className={`status-card__progress status-card__progress--${build.status.toLowerCase()}`}>
                <ProgressBar
                  value={active ? progress : (progress ?? 0)}
                  label="Overall progress"
                  size="large"
                />
                <span className="status-card__pct">
                  {progress !== null ? `${Math.round(progress)}%` : ""}
                </span>
              </div>
              <p className="status-card__details muted">{build.status_details?.details ?? ""}</p>
            </div>

            {build.error ? (
              <section className="card error-card" aria-labelledby={`${errorTitleId}`}>
                <h2 id={errorTitleId} className="error-card__title">
                  What went wrong
                </h2>
                <p className="error-card__message">{build.error.message}</p>
                {build.error.hint ? (
                  <p className="error-card__hint">
                    <strong>Hint: </strong>
                    {build.error.hint}
                  </p>
                ) : null}
                <p className="error-card__code muted">
                  Code <code>{build.error.code}</code>
                  {build.error.step ? (
                    <>
                      {" "}
                      in step <strong>{stepLabel(build.error.step)}</strong>
                    </>
                  ) : null}
                </p>
              </section>
            ) : null}

            <div className="card">
              <h2 className="card__title">Steps</h2>
              <StepTimeline build={build} now={now} />
            </div>

            <div className="card">
              <h2 className="card__title">Agent log</h2>
              <LogTail lines={build.log_tail ?? []} live={active} />
            </div>
          </div>

          <aside className="detail__side card" aria-label="Build details">
            <h2 className="card__title">Details</h2>
            <dl className="facts">
              <dt>Image id</dt>
              <dd>
                {build.image_id ? (
                  <span className="copyable">
                    <code className="break">{build.image_id}</code>
                    <CopyButton text={build.image_id} label="Copy image id" />
                  </span>
                ) : (
                  <span className="muted">{active ? "Not registered yet" : "None"}</span>
                )}
              </dd>
              <dt>Pithos location</dt>
              <dd>
                {location ? <code className="break">{location}</code> : <span className="muted">—</span>}
              </dd>
              <dt>Source</dt>
              <dd>
                <code className="break">{build.src}</code>
              </dd>
              {build.description ? (
                <>
                  <dt>Description</dt>
                  <dd>{build.description}</dd>
                </>
              ) : null}
              <dt>Visibility</dt>
              <dd>{build.public ? "Public" : "Private"}</dd>
              {build.log?.container ? (
                <>
                  <dt>Log object</dt>
                  <dd>
                    <code className="break">
                      {build.log.container}/{build.log.object}
                    </code>
                  </dd>
                </>
              ) : null}
              <dt>Started</dt>
              <dd>
                <time dateTime={build.created}>{formatDate(build.created)}</time>
              </dd>
              <dt>{active ? "Running for" : "Took"}</dt>
              <dd>{Number.isNaN(elapsed) ? "—" : formatDuration(elapsed)}</dd>
              <dt>Build id</dt>
              <dd>
                <code>{String(build.id)}</code>
              </dd>
            </dl>
          </aside>
        </div>
      )}

      <ConfirmDialog
        open={dialog === "cancel"}
        title="Cancel this build?"
        confirmLabel="Cancel build"
        busyLabel="Canceling…"
        onConfirm={cancel}
        onClose={() => setDialog(null)}
      >
        <p>
          The agent VM is destroyed and “{build?.name}” ends as <strong>canceled</strong>. This cannot be
          undone.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === "delete"}
        title="Delete this build?"
        confirmLabel="Delete build"
        busyLabel="Deleting…"
        onConfirm={remove}
        onClose={() => setDialog(null)}
      >
        <p>
          “{build?.name}” disappears from your list
          {build && active ? " and its agent VM is destroyed" : ""}. The image and log already in Pithos stay
          there.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function detailStatusText(build: Build, step: BuildStep | null): string {
  if (build.status === "CREATING" && step?.state === "running") return `${stepLabel(step.name)}…`;
  // The error card below carries the message; the status line says where it stopped.
  if (build.status === "ERROR") {
    const at = build.error?.step ?? (step?.state === "failed" ? step.name : null);
    return at ? `Failed at “${stepLabel(at)}”` : "Failed";
  }
  if (build.status === "COMPLETED") return build.image_id ? "Image registered" : "Image ready";
  if (build.status === "CANCELED" && step?.state === "running")
    return `Canceled during “${stepLabel(step.name)}”`;
  return activityText(build);
}
