/** @module build-list — the user's builds, newest first: filter, search, more pages, live refresh. */

import { BUILD_STATUSES, type BuildStatus } from "@icaas/contract";
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { ApiError, Build } from "../api.ts";
import { useApp } from "../app-context.ts";
import { statusLabel } from "../build-view.ts";
import { usePolling } from "../hooks/use-polling.ts";
import { navigate, useLocation } from "../router.ts";
import { BuildRow } from "./build-row.tsx";
import { Icon } from "./icons.tsx";
import { Link } from "./link.tsx";
import { Notice } from "./notice.tsx";
import { PageHeading } from "./page-heading.tsx";

export const PAGE_SIZE = 20;
/** A refresh re-reads at most this many builds; older pages already loaded stay as they were. */
const MAX_REFRESH = 100;
const POLL_ACTIVE_MS = 2500;
const POLL_IDLE_MS = 8000;

interface ListState {
  builds: Build[];
  more: boolean;
}

export function BuildList() {
  const { api, announce } = useApp();
  const { search } = useLocation();
  const params = new URLSearchParams(search);
  const status = parseStatus(params.get("status"));
  const query = params.get("q") ?? "";
  const [list, setList] = useState<ListState | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const listRef = useRef<ListState | null>(null);
  listRef.current = list;
  /** The build whose link takes keyboard focus once the page that brings it is on screen. */
  const focusAfterLoad = useRef<string | null>(null);
  const statusId = useId();
  const searchId = useId();

  // A new filter starts from an empty list (skeleton) instead of showing the old filter's builds.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a filter change only.
  useEffect(() => {
    setList(null);
    setError(null);
  }, [status]);

  const refresh = useCallback(
    async (signal: AbortSignal) => {
      const loaded = listRef.current?.builds.length ?? 0;
      const limit = Math.min(MAX_REFRESH, Math.max(PAGE_SIZE, loaded));
      try {
        const page = await api.listBuilds({ status, limit }, signal);
        setError(null);
        announceChanges(listRef.current?.builds ?? null, page.builds, announce);
        setList((prev) => mergeRefresh(prev, page.builds, page.more));
      } catch (e) {
        if (!signal.aborted) setError(e as ApiError);
        throw e;
      }
    },
    [api, status, announce],
  );

  const anyActive = list?.builds.some((b) => b.status === "CREATING") ?? false;
  const retry = usePolling(refresh, anyActive ? POLL_ACTIVE_MS : POLL_IDLE_MS, status);

  const loadMore = async () => {
    const last = list?.builds.at(-1);
    if (!last) return;
    setLoadingMore(true);
    try {
      const page = await api.listBuilds({ status, limit: PAGE_SIZE, marker: last.id });
      setError(null);
      const have = new Set(listRef.current?.builds.map((b) => String(b.id)));
      const added = page.builds.filter((b) => !have.has(String(b.id)));
      announce(added.length === 0 ? "No more builds." : `${added.length} more builds loaded.`);
      setList((prev) => ({
        builds: [...(prev?.builds ?? []), ...added],
        more: page.more && added.length > 0,
      }));
      // The button may go away with the last page; keep keyboard focus on the first new build instead.
      focusAfterLoad.current = added[0] ? String(added[0].id) : null;
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setLoadingMore(false);
    }
  };

  // In the commit that puts the new rows in the DOM, before anything else runs: a later frame could
  // come before the rows (focus lost to <body> when the button goes) or after someone looked.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when a new page of builds is rendered.
  useLayoutEffect(() => {
    const id = focusAfterLoad.current;
    if (id === null) return;
    focusAfterLoad.current = null;
    document.querySelector<HTMLElement>(`[data-build-id="${CSS.escape(id)}"] a`)?.focus();
  }, [list]);

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const qs = next.toString();
    navigate(`/builds${qs ? `?${qs}` : ""}`, { replace: true });
  };

  const needle = query.trim().toLowerCase();
  const shown = list ? list.builds.filter((b) => b.name.toLowerCase().includes(needle)) : null;
  const now = Date.now();

  return (
    <section className="page">
      <div className="page__head">
        <PageHeading title="Builds">Your builds</PageHeading>
        <Link to="/builds/new" className="button button--primary">
          <Icon name="plus" /> New build
        </Link>
      </div>

      <search className="toolbar" aria-label="Filter builds">
        <div className="field field--inline">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={status ?? ""} onChange={(e) => setParam("status", e.target.value)}>
            <option value="">All</option>
            {FILTER_ORDER.map((s) => (
              <option key={s} value={s.toLowerCase()}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field field--inline field--grow">
          <label htmlFor={searchId}>Name</label>
          <input
            id={searchId}
            type="search"
            placeholder="Search by name"
            value={query}
            onChange={(e) => setParam("q", e.target.value)}
          />
        </div>
      </search>

      {error ? (
        <Notice kind="error" title="Could not load your builds" onRetry={retry}>
          {error.message}
        </Notice>
      ) : null}

      <p className="list-count" role="status">
        {shown === null
          ? error
            ? "No builds loaded."
            : "Loading builds…"
          : needle
            ? `${shown.length} of ${list?.builds.length} loaded builds match “${query.trim()}”.`
            : `${shown.length} ${shown.length === 1 ? "build" : "builds"}${list?.more ? " loaded" : ""}.`}
      </p>

      {shown === null ? (
        error ? null : (
          <ul className="build-list" aria-hidden="true">
            {[0, 1, 2].map((i) => (
              <li key={i} className="build-row build-row--skeleton" />
            ))}
          </ul>
        )
      ) : shown.length === 0 ? (
        <div className="empty">
          {needle || status ? (
            <p>No builds match these filters.</p>
          ) : (
            <>
              <p>You have no builds yet.</p>
              <Link to="/builds/new" className="button button--primary">
                Create your first image
              </Link>
            </>
          )}
        </div>
      ) : (
        <ul className="build-list" aria-label="Builds, newest first">
          {shown.map((build) => (
            <BuildRow key={String(build.id)} build={build} now={now} />
          ))}
        </ul>
      )}

      {list?.more ? (
        <div className="list-more">
          <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Load older builds"}
          </button>
        </div>
      ) : null}
    </section>
  );
}

/** The filter's choices: running builds first, then how builds end, the wanted end first. */
const FILTER_ORDER = ["CREATING", "COMPLETED", "CANCELED", "ERROR"] as const satisfies readonly BuildStatus[];

function parseStatus(value: string | null): BuildStatus | null {
  const upper = value?.toUpperCase();
  return BUILD_STATUSES.find((s) => s === upper) ?? null;
}

/** Puts a refreshed first page in place, keeping older pages the refresh did not cover. */
function mergeRefresh(prev: ListState | null, fresh: Build[], freshMore: boolean): ListState {
  if (!prev || !freshMore) return { builds: fresh, more: freshMore };
  const ids = new Set(fresh.map((b) => String(b.id)));
  const last = fresh.at(-1);
  const at = last ? prev.builds.findIndex((b) => String(b.id) === String(last.id)) : -1;
  const tail = at >= 0 ? prev.builds.slice(at + 1).filter((b) => !ids.has(String(b.id))) : [];
  return { builds: [...fresh, ...tail], more: tail.length > 0 ? prev.more : freshMore };
}

function announceChanges(prev: Build[] | null, next: Build[], announce: (m: string) => void): void {
  if (!prev) return;
  const before = new Map(prev.map((b) => [String(b.id), b.status]));
  for (const build of next) {
    const was = before.get(String(build.id));
    if (was && was !== build.status) announce(`Build ${build.name}: ${statusLabel(build.status)}.`);
  }
}
