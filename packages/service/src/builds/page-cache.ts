/** @module builds/page-cache — rendered list pages, valid while the user's builds version is unchanged. */

interface Entry {
  version: number;
  body: string;
}

/**
 * A byte-bounded LRU of list pages keyed by user and query. An entry is used only when the user's
 * `builds_version` (read from the database on each request, so writes by other instances count)
 * still equals the one it was rendered under; the version is read before the page's query, so a
 * page is never labelled newer than its content.
 *
 * @example
 * const hit = cache.get(key, version) ?? render();
 */
export class PageCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get enabled(): boolean {
    return this.#maxBytes > 0;
  }

  get(key: string, version: number): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.version !== version) {
      this.#drop(key, entry);
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.body;
  }

  set(key: string, version: number, body: string): void {
    if (!this.enabled || body.length * 2 > this.#maxBytes / 4) return;
    const old = this.#entries.get(key);
    if (old) this.#drop(key, old);
    this.#entries.set(key, { version, body });
    this.#bytes += body.length * 2;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#drop(k, e);
    }
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.length * 2;
  }
}
