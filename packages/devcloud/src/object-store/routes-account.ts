/** @module object-store/routes-account — HEAD and GET of a Pithos account (its containers). */
import { sendEmpty, sendJson, sendText } from "../http-util.ts";
import type { Router } from "../router.ts";
import { authenticate, isoTime, serialization } from "./access.ts";
import { httpDate } from "./headers.ts";
import { listContainers } from "./listing.ts";
import type { PithosStore } from "./store.ts";

export function addAccountRoutes(router: Router, store: PithosStore): void {
  router.add("HEAD", "/:account", ({ req, res, url, params }) => {
    const user = authenticate(store, req, url);
    store.requireOwner(user, params.account!);
    const containers = store.index.containers(params.account!);
    const modified = Math.max(0, ...containers.map(([, c]) => c.modified));
    sendEmpty(res, 204, {
      "x-account-container-count": containers.length,
      "x-account-bytes-used": store.index.accountBytes(params.account!),
      "last-modified": httpDate(modified || Date.now()),
    });
  });

  router.add("GET", "/:account", (ctx) => {
    const { req, res, url, params, query } = ctx;
    const user = authenticate(store, req, url);
    store.requireOwner(user, params.account!);
    const page = listContainers(store.index.containers(params.account!), {
      prefix: query.get("prefix"),
      marker: query.get("marker"),
      limit: query.get("limit"),
    });
    if (serialization(ctx, "text") === "json") {
      sendJson(
        res,
        200,
        page.map(([name, c]) => ({
          name,
          count: c.objects.size,
          bytes: c.bytes,
          last_modified: isoTime(c.modified),
          x_container_policy: {
            quota: String(c.policy.quota),
            versioning: c.policy.versioning,
            project: c.policy.project,
          },
        })),
      );
      return;
    }
    if (page.length === 0) sendEmpty(res, 204);
    else sendText(res, 200, `${page.map(([n]) => n).join("\n")}\n`);
  });
}
