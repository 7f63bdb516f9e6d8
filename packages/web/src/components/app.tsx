/** @module app — the shell: session, routing, header, live region and one-time notices. */
import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { ApiClient, type UiConfig } from "../api.ts";
import { AppContext, type AppContextValue } from "../app-context.ts";
import { matchRoute, navigate, useLocation } from "../router.ts";
import { clearToken, loadToken, saveToken } from "../session.ts";
import { BuildDetail } from "./build-detail.tsx";
import { BuildList } from "./build-list.tsx";
import { CreateBuild } from "./create-build.tsx";
import { ErrorBoundary } from "./error-boundary.tsx";
import { LoginPage } from "./login-page.tsx";
import { NotFound } from "./not-found.tsx";
import { Notice } from "./notice.tsx";
import { SiteHeader } from "./site-header.tsx";

interface Flash {
  message: string;
  /** The path it was raised on; it shows on the next one. */
  from: string;
  to: string | null;
}

export function App() {
  const [token, setToken] = useState<string | null>(loadToken);
  const [reason, setReason] = useState<string | null>(null);
  const [config, setConfig] = useState<UiConfig | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [flashState, setFlashState] = useState<Flash | null>(null);
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname);

  const signOut = useCallback((why?: string) => {
    clearToken();
    setToken(null);
    setReason(why ?? null);
    navigate("/login", { replace: true });
  }, []);

  const api = useMemo(
    () =>
      new ApiClient({
        token,
        onUnauthorized: () => signOut("Your token is no longer accepted. Sign in again."),
      }),
    [token, signOut],
  );

  useEffect(() => {
    const controller = new AbortController();
    new ApiClient({ token: null })
      .config(controller.signal)
      .then(setConfig)
      // Without config the login page just leaves out the demo hint.
      .catch(() => {});
    return () => controller.abort();
  }, []);

  // Signed out: remember where the user was going; signed in on /login: go there.
  useEffect(() => {
    if (!token && route.page !== "login") {
      navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
    } else if (token && route.page === "login") {
      const next = new URLSearchParams(search).get("next");
      navigate(next?.startsWith("/") && !next.startsWith("//") ? next : "/builds", { replace: true });
    } else if (pathname === "/") {
      navigate("/builds", { replace: true });
    }
  }, [token, route.page, pathname, search]);

  useEffect(() => {
    setFlashState((f) => {
      if (!f) return f;
      if (f.to === null && pathname !== f.from) return { ...f, to: pathname };
      if (f.to !== null && pathname !== f.to) return null;
      return f;
    });
  }, [pathname]);

  const announce = useCallback((message: string) => {
    // Clearing first makes a repeated message be read again.
    setAnnouncement("");
    requestAnimationFrame(() => setAnnouncement(message));
  }, []);

  const flash = useCallback(
    (message: string) => {
      setFlashState({ message, from: window.location.pathname, to: null });
      announce(message);
    },
    [announce],
  );

  const context = useMemo<AppContextValue>(
    () => ({ api, config, signOut, announce, flash }),
    [api, config, signOut, announce, flash],
  );

  const onSignedIn = (value: string) => {
    saveToken(value);
    setReason(null);
    setToken(value);
  };

  let page: ReactNode;
  if (!token) {
    page = (
      <LoginPage config={config} reason={reason} check={(t) => api.checkToken(t)} onSignedIn={onSignedIn} />
    );
  } else {
    switch (route.page) {
      case "list":
      case "login":
        page = <BuildList />;
        break;
      case "new":
        page = <CreateBuild />;
        break;
      case "detail":
        page = <BuildDetail key={route.id} id={route.id} />;
        break;
      case "not-found":
        page = <NotFound path={route.path} />;
        break;
    }
  }

  return (
    <AppContext.Provider value={context}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <SiteHeader page={route.page} onSignOut={token ? () => signOut() : null} />
      <main id="main" tabIndex={-1} className="main">
        {flashState && flashState.to === pathname ? (
          <div className="flash">
            <Notice kind="success" onDismiss={() => setFlashState(null)}>
              {flashState.message}
            </Notice>
          </div>
        ) : null}
        <ErrorBoundary key={pathname}>{page}</ErrorBoundary>
      </main>
      <div className="sr-only" role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </AppContext.Provider>
  );
}
