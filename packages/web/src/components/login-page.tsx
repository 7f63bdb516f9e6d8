/** @module login-page — paste a Synnefo token; the service checks it before the app keeps it. */
import { type FormEvent, useId, useRef, useState } from "react";
import { ApiError, type UiConfig } from "../api.ts";
import { Notice } from "./notice.tsx";
import { PageHeading } from "./page-heading.tsx";

export interface LoginPageProps {
  config: UiConfig | null;
  /** Why the user is here again (e.g. the token expired), shown above the form. */
  reason: string | null;
  check: (token: string) => Promise<void>;
  onSignedIn: (token: string) => void;
}

export function LoginPage({ config, reason, check, onSignedIn }: LoginPageProps) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (value === "") {
      setError("Paste your token first.");
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await check(value);
      onSignedIn(value);
    } catch (e) {
      setError(loginMessage(e));
      inputRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <div className="card login__card">
        <PageHeading title="Sign in">Sign in to ICaaS</PageHeading>
        <p className="muted">
          ICaaS turns a disk image at a URL into a registered image on your Synnefo cloud. Sign in with your
          Synnefo API token.
        </p>
        {reason ? <Notice kind="info">{reason}</Notice> : null}
        {config?.demo ? (
          <Notice kind="info" title="Demo cloud">
            {config.demoTokenHint ?? "This service runs against the devcloud demo; use its demo token."}
          </Notice>
        ) : null}
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={inputId}>API token</label>
            <div className="field__row">
              <input
                ref={inputRef}
                id={inputId}
                name="token"
                type={shown ? "text" : "password"}
                autoComplete="off"
                spellCheck={false}
                value={token}
                onChange={(e) => setToken(e.target.value)}
                aria-invalid={error ? true : undefined}
                aria-describedby={`${helpId}${error ? ` ${errorId}` : ""}`}
              />
              <button type="button" className="button button--ghost" onClick={() => setShown((s) => !s)}>
                {shown ? "Hide token" : "Show token"}
              </button>
            </div>
            <p id={helpId} className="field__help">
              {config?.authUrl ? (
                <>
                  Issued by <span className="mono">{config.authUrl}</span>.{" "}
                </>
              ) : null}
              It stays in this browser tab only and is sent to this service alone.
            </p>
            <p id={errorId} className="field__error" role="alert">
              {error}
            </p>
          </div>
          <button type="submit" className="button button--primary button--wide" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </form>
      </div>
    </div>
  );
}

function loginMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return "This token was not accepted. Check that it is complete and not expired.";
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
