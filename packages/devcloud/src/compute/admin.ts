/** @module admin — hooks under `/_devcloud/compute`: every server with its process and ports, its console, a crash button. */
import { readFileSync } from "node:fs";
import type { DevcloudContext } from "../context.ts";
import { conflict, itemNotFound } from "../fault.ts";
import { sendEmpty, sendJson, sendText } from "../http-util.ts";
import { Router } from "../router.ts";
import { vmPaths } from "./driver.ts";
import type { ServerManager } from "./server-manager.ts";
import { statusOf } from "./server-store.ts";

export function computeAdminRouter(ctx: DevcloudContext, servers: ServerManager): Router {
  const find = (idText: string | undefined) => {
    const server = /^\d+$/.test(idText ?? "") ? servers.store.servers.get(Number(idText)) : undefined;
    if (!server) throw itemNotFound("Server not found.");
    return server;
  };
  return new Router("/_devcloud/compute")
    .add("GET", "/servers", ({ res }) => {
      const list = [...servers.store.servers.values()].map((s) => {
        const paths = vmPaths(ctx.dataDir, s.id);
        return {
          id: s.id,
          name: s.name,
          userId: s.userId,
          project: s.project,
          imageId: s.imageId,
          status: statusOf(s),
          deleted: s.deleted,
          destroyed: s.destroyed ?? false,
          agent: s.agent,
          driver: s.driver ?? "process",
          pid: s.process?.pid ?? null,
          process: s.process ?? null,
          ports: s.ports ?? {},
          consoleLog: paths.console,
          ...servers.driverOf(s).describe(s),
        };
      });
      sendJson(res, 200, { servers: list });
    })
    .add("GET", "/servers/:id/console", ({ res, params }) => {
      const server = find(params.id);
      let text = "";
      try {
        text = readFileSync(vmPaths(ctx.dataDir, server.id).console, "utf8");
      } catch {
        // No console yet: an empty one.
      }
      sendText(res, 200, text);
    })
    .add("POST", "/servers/:id/kill", async ({ res, params }) => {
      const server = find(params.id);
      if (!(await servers.kill(server.id))) throw conflict(`Server ${server.id} has no running process`);
      sendEmpty(res, 204);
    });
}
