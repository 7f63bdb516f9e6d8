/** @module router — a tiny history router: paths to routes, navigation, and a hook that follows it. */
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "login" }
  | { page: "list" }
  | { page: "new" }
  | { page: "detail"; id: string }
  | { page: "not-found"; path: string };

/** Maps a pathname to a route; `/` is the build list. */
export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/builds") return { page: "list" };
  if (path === "/login") return { page: "login" };
  if (path === "/builds/new") return { page: "new" };
  const detail = /^\/builds\/([^/]+)$/.exec(path);
  if (detail?.[1]) return { page: "detail", id: decodeURIComponent(detail[1]) };
  return { page: "not-found", path };
}

export function routePath(route: Route): string {
  switch (route.page) {
    case "login":
      return "/login";
    case "list":
      return "/builds";
    case "new":
      return "/builds/new";
    case "detail":
      return `/builds/${encodeURIComponent(route.id)}`;
    case "not-found":
      return route.path;
  }
}

const NAVIGATE_EVENT = "icaas:navigate";

// After the first page, each new page moves focus to its heading (screen readers then read it);
// the very first page leaves focus where the browser puts it.
let navigated = false;
if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    navigated = true;
  });
}

export function hasNavigated(): boolean {
  return navigated;
}

/** Goes to a path (pushState, or replaceState with `replace`) and tells every `useLocation`. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentUrl()) return;
  navigated = true;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

function currentUrl(): string {
  return `${location.pathname}${location.search}`;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

/** The current path and query, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: string } {
  const url = useSyncExternalStore(subscribe, currentUrl);
  const q = url.indexOf("?");
  return q < 0 ? { pathname: url, search: "" } : { pathname: url.slice(0, q), search: url.slice(q) };
}
