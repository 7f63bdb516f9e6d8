/** @module log-tail — the agent's last log lines; stays scrolled to the end while the user is there. */
import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";

export function LogTail({ lines, live }: { lines: string[]; live: boolean }) {
  const ref = useRef<HTMLElement>(null);
  const [follow, setFollow] = useState(true);
  const followId = useId();
  const text = lines.join("\n");

  // Before the new lines paint, so following never flickers to the old position.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the text changes.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  // Scrolling up to read stops following; scrolling back to the end resumes it.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const onScroll = () => {
      const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
      setFollow(atEnd);
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  return (
    <div className="log">
      <div className="log__bar">
        <span className="muted">
          {lines.length === 0
            ? live
              ? "No log lines yet."
              : "The agent sent no log lines."
            : `Last ${lines.length} ${lines.length === 1 ? "line" : "lines"}`}
        </span>
        {live ? (
          <label className="log__follow" htmlFor={followId}>
            <input
              id={followId}
              type="checkbox"
              checked={follow}
              onChange={(e) => setFollow(e.target.checked)}
            />
            Follow new lines
          </label>
        ) : null}
      </div>
      {live || lines.length > 0 ? (
        // Focusable so keyboard users can scroll it; labelled so screen readers say what it is.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
        <section ref={ref} className="log__text" tabIndex={0} aria-label="Agent log tail">
          <pre>{text}</pre>
        </section>
      ) : null}
    </div>
  );
}
