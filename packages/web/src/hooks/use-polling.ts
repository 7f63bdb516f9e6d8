/** @module use-polling — runs a loader now and then every interval, paused while the tab is hidden. */
import { useCallback, useEffect, useRef } from "react";

/**
 * Calls `load` at once, then `intervalMs` after each call ends (never two at a time). While
 * `document.hidden` nothing runs; becoming visible again loads at once. A new `key` restarts it.
 *
 * @example
 * const refresh = usePolling((signal) => api.getBuild(id, signal).then(setBuild), 2000, id);
 */
export function usePolling(
  load: (signal: AbortSignal) => Promise<unknown>,
  intervalMs: number | null,
  key: unknown,
): () => void {
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(intervalMs);
  intervalRef.current = intervalMs;
  const kickRef = useRef<() => void>(() => {});

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the restart signal on purpose.
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;

    const schedule = () => {
      clearTimeout(timer);
      const interval = intervalRef.current;
      if (interval === null || document.hidden || controller.signal.aborted) return;
      timer = setTimeout(run, interval);
    };
    const run = async () => {
      clearTimeout(timer);
      if (controller.signal.aborted) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await loadRef.current(controller.signal);
      } catch {
        // The loader shows its own errors; polling goes on so the page recovers by itself.
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void run();
      } else schedule();
    };
    const onVisibility = () => {
      if (document.hidden) clearTimeout(timer);
      else void run();
    };

    kickRef.current = () => void run();
    document.addEventListener("visibilitychange", onVisibility);
    void run();
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [key]);

  // Resuming after a pause (interval back from null) loads at once instead of waiting for a kick.
  const previousInterval = useRef(intervalMs);
  useEffect(() => {
    if (previousInterval.current === null && intervalMs !== null) kickRef.current();
    previousInterval.current = intervalMs;
  }, [intervalMs]);

  return useCallback(() => kickRef.current(), []);
}
