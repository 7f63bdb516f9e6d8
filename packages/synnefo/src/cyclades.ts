/** @module cyclades — the Cyclades compute API: servers, flavors, images. */
import { setTimeout as sleep } from "node:timers/promises";
import { SynnefoError } from "./errors.ts";
import { HttpClient } from "./http.ts";
import { checkPersonality, type PersonalityFile } from "./personality.ts";

export interface CreateServerRequest {
  name: string;
  imageRef: string;
  flavorRef: string | number;
  personality?: PersonalityFile[];
  metadata?: Record<string, string>;
  /** Omitted: the deployment's default networks; `[]`: no NIC at all. */
  networks?: ({ uuid: string; fixed_ip?: string } | { port: string })[];
  /** Project charged for the VM; default: the token's tenant (`AstakosUser.defaultProject`). */
  project?: string;
}

export interface Server {
  /** Cyclades ids are integers; kept as a string here. */
  id: string;
  name: string;
  /** `BUILD`, `ACTIVE`, `STOPPED`, `ERROR`, `DELETED`, `REBOOT`, `RESIZE` or `UNKNOWN`. */
  status: string;
  userId: string;
  tenantId: string;
  metadata: Record<string, string>;
  created: string;
  updated: string;
  /** The server object as Cyclades sent it. */
  raw: unknown;
}

export interface Flavor {
  id: string;
  name: string;
  /** MiB. */
  ram: number;
  /** GiB. */
  disk: number;
  vcpus: number;
  diskTemplate?: string;
  allowCreate?: boolean;
  raw: unknown;
}

export interface ComputeImage {
  id: string;
  name: string;
  /** `ACTIVE`, `SAVING`, `ERROR`, `DELETED` or `UNKNOWN`. */
  status: string;
  owner: string;
  public: boolean;
  metadata: Record<string, string>;
  created: string;
  updated: string;
  raw: unknown;
}

export interface CycladesClientOptions {
  /** e.g. `https://cyclades.example.org/compute/v2.0` (from `ServiceCatalog.endpoint("compute")`). */
  computeUrl: string;
  token: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

type RawServer = Record<string, unknown> & { id?: number | string };

/**
 * A Cyclades client bound to one user's token.
 *
 * @example
 * const cyclades = new CycladesClient({ computeUrl, token });
 * const server = await cyclades.createServer({ name: "vm", imageRef, flavorRef: 1 });
 * await cyclades.waitForStatus(server.id, ["ACTIVE"]);
 */
export class CycladesClient {
  readonly #http: HttpClient;

  constructor(options: CycladesClientOptions) {
    this.#http = new HttpClient({
      baseUrl: options.computeUrl,
      token: options.token,
      service: "compute",
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
    });
  }

  /**
   * Creates a server (202, status `BUILD`). Personality limits are checked first, so a request Cyclades
   * would refuse is never sent. Never retried: a lost answer may still have created the VM.
   */
  async createServer(req: CreateServerRequest): Promise<Server & { adminPass?: string }> {
    if (
      typeof req.name !== "string" ||
      !req.imageRef ||
      req.flavorRef === undefined ||
      req.flavorRef === ""
    ) {
      throw new SynnefoError({
        status: 400,
        code: "badRequest",
        message: "Malformed request",
        details: "name, imageRef and flavorRef are required",
        service: "compute",
        request: "POST /servers",
      });
    }
    if (req.personality) checkPersonality(req.personality);
    const server: Record<string, unknown> = {
      name: req.name,
      imageRef: req.imageRef,
      flavorRef: req.flavorRef,
      metadata: req.metadata ?? {},
      personality: req.personality ?? [],
    };
    if (req.networks !== undefined) server.networks = req.networks;
    if (req.project !== undefined) server.project = req.project;
    const { data } = await this.#http.json<{ server?: RawServer }>({
      method: "POST",
      path: "/servers",
      json: { server },
      expect: [200, 202],
      idempotent: false,
    });
    const raw = requireServer(data?.server, "POST /servers");
    const adminPass = typeof raw.adminPass === "string" ? raw.adminPass : undefined;
    return { ...toServer(raw), adminPass };
  }

  async getServer(id: string): Promise<Server> {
    const path = `/servers/${encodeURIComponent(id)}`;
    const { data } = await this.#http.json<{ server?: RawServer }>({ method: "GET", path });
    return toServer(requireServer(data?.server, `GET ${path}`));
  }

  /**
   * Deletes a server (204). A server deleted before answers 400 "Server has been deleted."; see
   * `isServerDeletedError` to treat that as done.
   */
  async deleteServer(id: string): Promise<void> {
    await this.#http.call({ method: "DELETE", path: `/servers/${encodeURIComponent(id)}`, expect: [204] });
  }

  /** Lists the user's servers. Deleted ones are included only with `changesSince` (as Cyclades does). */
  async listServers(options: { detail?: boolean; changesSince?: string } = {}): Promise<Server[]> {
    const res = await this.#http.json<{ servers?: RawServer[] }>({
      method: "GET",
      path: options.detail ? "/servers/detail" : "/servers",
      query: { "changes-since": options.changesSince },
      expect: [200, 304],
    });
    if (res.status === 304) return [];
    return (res.data?.servers ?? []).map(toServer);
  }

  /** Sends a server action: `{start: {}}`, `{shutdown: {}}`, `{reboot: {type: "SOFT"}}`, … (202). */
  async action(id: string, action: Record<string, unknown>): Promise<void> {
    await this.#http.call({
      method: "POST",
      path: `/servers/${encodeURIComponent(id)}/action`,
      json: action,
      expect: [200, 202],
      idempotent: false,
    });
  }

  /**
   * Polls a server until its status is one of `statuses`. Rejects with code `timeout` (status 0) when the
   * time runs out, and with code `conflict` (409) when the server reaches ERROR or DELETED unasked.
   */
  async waitForStatus(
    id: string,
    statuses: string[],
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<Server> {
    const timeoutMs = options.timeoutMs ?? 10 * 60_000;
    const intervalMs = options.intervalMs ?? 2_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const server = await this.getServer(id);
      if (statuses.includes(server.status)) return server;
      if (server.status === "ERROR" || server.status === "DELETED") {
        throw new SynnefoError({
          status: 409,
          code: "conflict",
          message: `server ${id} is ${server.status}, expected ${statuses.join(" or ")}`,
          service: "compute",
          request: `GET /servers/${id}`,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SynnefoError({
          status: 0,
          code: "timeout",
          message: `server ${id} is still ${server.status} after ${timeoutMs} ms, expected ${statuses.join(" or ")}`,
          service: "compute",
          request: `GET /servers/${id}`,
        });
      }
      await sleep(Math.min(intervalMs, left));
    }
  }

  async listFlavors(): Promise<Flavor[]> {
    const { data } = await this.#http.json<{ flavors?: Record<string, unknown>[] }>({
      method: "GET",
      path: "/flavors/detail",
    });
    return (data?.flavors ?? []).map((f) => ({
      id: String(f.id),
      name: String(f.name ?? ""),
      ram: Number(f.ram ?? 0),
      disk: Number(f.disk ?? 0),
      vcpus: Number(f.vcpus ?? 0),
      diskTemplate: typeof f["SNF:disk_template"] === "string" ? f["SNF:disk_template"] : undefined,
      allowCreate: typeof f["SNF:allow_create"] === "boolean" ? f["SNF:allow_create"] : undefined,
      raw: f,
    }));
  }

  async listImages(): Promise<ComputeImage[]> {
    const { data } = await this.#http.json<{ images?: Record<string, unknown>[] }>({
      method: "GET",
      path: "/images/detail",
    });
    return (data?.images ?? []).map((i) => ({
      id: String(i.id),
      name: String(i.name ?? ""),
      status: String(i.status ?? "UNKNOWN").toUpperCase(),
      owner: String(i.user_id ?? ""),
      public: i.public === true,
      metadata: stringRecord(i.metadata),
      created: String(i.created ?? ""),
      updated: String(i.updated ?? ""),
      raw: i,
    }));
  }
}

/** True for the 400 Cyclades answers when deleting a server that is already deleted. */
export function isServerDeletedError(error: unknown): boolean {
  return (
    error instanceof SynnefoError &&
    error.status === 400 &&
    /has been deleted/i.test(error.message) &&
    error.service === "compute"
  );
}

function requireServer(raw: RawServer | undefined, request: string): RawServer {
  if (!raw || typeof raw !== "object" || raw.id === undefined) {
    throw new SynnefoError({
      status: 200,
      code: "invalidResponse",
      message: "compute answered without a server",
      service: "compute",
      request,
    });
  }
  return raw;
}

function toServer(raw: RawServer): Server {
  return {
    id: String(raw.id),
    name: String(raw.name ?? ""),
    status: String(raw.status ?? "UNKNOWN"),
    userId: String(raw.user_id ?? ""),
    tenantId: String(raw.tenant_id ?? ""),
    metadata: stringRecord(raw.metadata),
    created: String(raw.created ?? ""),
    updated: String(raw.updated ?? ""),
    raw,
  };
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}
