/** @module not-found — any path the UI does not know. */
import { Link } from "./link.tsx";
import { PageHeading } from "./page-heading.tsx";

export function NotFound({ path }: { path: string }) {
  return (
    <section className="page">
      <PageHeading title="Not found">Page not found</PageHeading>
      <p>
        Nothing lives at <code>{path}</code>.
      </p>
      <p>
        <Link to="/builds">Go to your builds</Link>
      </p>
    </section>
  );
}
