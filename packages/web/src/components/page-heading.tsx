/** @module page-heading — a page's h1: sets the document title and takes focus after a navigation. */
import { type ReactNode, useEffect, useRef } from "react";
import { hasNavigated } from "../router.ts";

export interface PageHeadingProps {
  children: ReactNode;
  /** The document title's first part; defaults to the heading's text when it is a string. */
  title?: string;
  className?: string;
}

export function PageHeading({ children, title, className }: PageHeadingProps) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === "string" ? children : "");
  useEffect(() => {
    document.title = text ? `${text} · ICaaS` : "ICaaS";
  }, [text]);
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className={className}>
      {children}
    </h1>
  );
}
