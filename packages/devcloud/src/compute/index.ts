/** @module compute — Cyclades (`/compute/v2.0`): servers on a compute driver (processes or QEMU), flavors, images. */
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { computeAdminRouter } from "./admin.ts";
import type { ComputeDriver, DriverName } from "./driver.ts";
import { ImageCatalog } from "./images.ts";
import { ProcessDriver } from "./process/driver.ts";
import { QemuDriver } from "./qemu/driver.ts";
import { computeRouter } from "./routes.ts";
import { type ComputeUsage, ServerManager } from "./server-manager.ts";

export type { ComputeDriver, DriverName } from "./driver.ts";
export type { BootImage, PlanktonImages } from "./images.ts";
export type { ComputeUsage } from "./server-manager.ts";
export type { ServerRecord, VmProcess } from "./server-store.ts";

/** The compute module; account reads its usage for `/quotas`. */
export interface ComputeModule extends ServiceModule {
  name: "compute";
  servers: ServerManager;
  usage(userUuid: string, project: string): ComputeUsage;
}

export function computeService(ctx: DevcloudContext): ComputeModule {
  const makeDriver = (name: DriverName, changed: () => void): ComputeDriver =>
    name === "qemu" ? new QemuDriver(ctx, changed) : new ProcessDriver(ctx, changed);
  const servers = new ServerManager(ctx, makeDriver);
  const images = new ImageCatalog(ctx);
  return {
    name: "compute",
    servers,
    routers: [computeRouter(ctx, servers, images)],
    admin: computeAdminRouter(ctx, servers),
    usage: (userUuid, project) => servers.usage(userUuid, project),
    start: () => servers.start(),
    close: () => servers.close(),
  };
}
