/** @module site-header — the brand, the main navigation and sign-out. */
import { Icon } from "./icons.tsx";
import { Link } from "./link.tsx";

export function SiteHeader({ page, onSignOut }: { page: string; onSignOut: (() => void) | null }) {
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link to="/builds" className="brand" aria-label="ICaaS home: your builds">
          <span className="brand__mark" aria-hidden="true">
            IC
          </span>
          <span className="brand__name">ICaaS</span>
        </Link>
        {onSignOut ? (
          <nav aria-label="Main" className="site-nav">
            <Link to="/builds" aria-current={page === "list" || page === "detail" ? "page" : undefined}>
              Builds
            </Link>
            <Link to="/builds/new" aria-current={page === "new" ? "page" : undefined}>
              New build
            </Link>
            <button type="button" className="button button--ghost button--small" onClick={onSignOut}>
              <Icon name="logout" /> Sign out
            </button>
          </nav>
        ) : null}
      </div>
    </header>
  );
}
