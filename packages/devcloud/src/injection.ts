/** @module injection — faults a test can switch on: latency, a 5xx rate, a forced 413, per service. */

export type ServiceName = "identity" | "account" | "compute" | "image" | "object-store";

export interface ServiceFaults {
  /** Added before answering, in ms. */
  latencyMs?: number;
  /** Share of requests (0–1) answered with 503 before they are handled. */
  errorRate?: number;
  /** Answer every mutating request (PUT/POST) with 413 overLimit. */
  overLimit?: boolean;
  /** Answer every block POST to a container (`application/octet-stream`) with 503; object-store only. */
  failBlockPosts?: boolean;
}

export type FaultSettings = Partial<Record<ServiceName, ServiceFaults>>;

/** The live fault settings; replaced whole through the admin endpoint or `set()`. */
export class Injection {
  #settings: FaultSettings = {};

  set(settings: FaultSettings): void {
    this.#settings = structuredClone(settings);
  }

  get(): FaultSettings {
    return structuredClone(this.#settings);
  }

  for(service: ServiceName): ServiceFaults {
    return this.#settings[service] ?? {};
  }
}

/** Request counters that tests read (`requests.<service>`, `pithos.blocksReceived`, …). */
export class Counters {
  readonly #values = new Map<string, number>();

  add(name: string, by = 1): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.#values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#values);
  }

  reset(): void {
    this.#values.clear();
  }
}
