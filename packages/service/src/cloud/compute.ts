/** @module cloud/compute — the few Cyclades calls the service makes, on behalf of a user's token. */
import { AstakosClient, type CreateServerRequest, CycladesClient, type Server } from "@icaas/synnefo";

/** The build id a VM belongs to, in its metadata (lets a VM whose id was never stored be found). */
export const BUILD_METADATA_KEY = "icaas_build";

export interface AgentCompute {
  create(token: string, request: CreateServerRequest): Promise<Server>;
  /** Resolves when the server is gone; rejects with `SynnefoError` otherwise. */
  delete(token: string, id: string): Promise<void>;
  /** The user's live servers carrying this build's id in their metadata. */
  findByBuild(token: string, buildId: number): Promise<Server[]>;
}

export interface CycladesComputeOptions {
  authUrl: string;
  /** Fixed compute URL; otherwise read from the Astakos catalog once. */
  computeUrl?: string;
  timeoutMs: number;
}

/**
 * `AgentCompute` over `@icaas/synnefo`'s CycladesClient. The compute URL comes from configuration or
 * from the public Astakos catalog, asked once (and again after a failure).
 */
export class CycladesCompute implements AgentCompute {
  readonly #options: CycladesComputeOptions;
  #url: Promise<string> | undefined;

  constructor(options: CycladesComputeOptions) {
    this.#options = options;
    if (options.computeUrl) this.#url = Promise.resolve(options.computeUrl);
  }

  /** Remembers a compute URL learnt elsewhere (from a user's token validation). */
  learn(url: string): void {
    if (!this.#url) this.#url = Promise.resolve(url);
  }

  async #client(token: string): Promise<CycladesClient> {
    if (!this.#url) {
      const astakos = new AstakosClient({
        authUrl: this.#options.authUrl,
        timeoutMs: this.#options.timeoutMs,
      });
      this.#url = astakos.catalog().then((c) => c.endpoint("compute"));
      this.#url.catch(() => {
        this.#url = undefined;
      });
    }
    const computeUrl = await this.#url;
    return new CycladesClient({
      computeUrl,
      token,
      timeoutMs: this.#options.timeoutMs,
      retries: 2,
      backoffMs: 200,
    });
  }

  async create(token: string, request: CreateServerRequest): Promise<Server> {
    return (await this.#client(token)).createServer(request);
  }

  async delete(token: string, id: string): Promise<void> {
    await (await this.#client(token)).deleteServer(id);
  }

  async findByBuild(token: string, buildId: number): Promise<Server[]> {
    const servers = await (await this.#client(token)).listServers({ detail: true });
    return servers.filter(
      (s) => s.metadata[BUILD_METADATA_KEY] === String(buildId) && s.status !== "DELETED",
    );
  }
}
