/** @module auth/authenticator — user tokens checked with Astakos, remembered briefly under their sha256. */
import { sha256Hex } from "../crypto.ts";
import { errors } from "../errors.ts";

export interface AuthUser {
  uuid: string;
  name: string;
}

/** What the identity service said about a token. */
export type IdentityAnswer = { valid: true; user: AuthUser; computeUrl?: string } | { valid: false };

/**
 * Asks the identity service about a token. Resolves `{valid: false}` for a rejected token and throws
 * for anything else (no answer, 5xx): the caller turns that into 503, never 500.
 */
export type IdentityLookup = (token: string) => Promise<IdentityAnswer>;

export interface AuthenticatorOptions {
  lookup: IdentityLookup;
  /** How long a valid token is trusted without asking again. */
  ttlMs: number;
  /** How long a rejected token is remembered (it keeps a flood of bad tokens off Astakos). */
  negativeTtlMs?: number;
  maxEntries?: number;
  /** Called when a token is seen for the first time (or again after expiry), e.g. to store it. */
  onValidated?: (user: AuthUser, token: string, computeUrl: string | undefined) => Promise<void> | void;
}

interface Entry {
  user: AuthUser | null;
  expires: number;
}

/**
 * Validates user tokens. The cache is keyed by the token's sha256, so a memory dump shows no tokens;
 * concurrent requests with one unknown token share a single Astakos call.
 *
 * @example
 * const auth = new Authenticator({ lookup, ttlMs: 60_000 });
 * const user = await auth.authenticate(token); // throws ApiError 401 / 503
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  async authenticate(token: string | undefined): Promise<AuthUser> {
    if (!token) throw errors.tokenMissing();
    const key = sha256Hex(token);
    const now = Date.now();
    let entry = this.#cache.get(key);
    if (!entry || entry.expires <= now) {
      entry = await this.#lookup(key, token);
    }
    if (!entry.user) throw errors.invalidToken();
    return entry.user;
  }

  /** Forgets every cached answer (tests, token revocation). */
  clear(): void {
    this.#cache.clear();
  }

  #lookup(key: string, token: string): Promise<Entry> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const promise = this.#ask(key, token).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }

  async #ask(key: string, token: string): Promise<Entry> {
    let answer: IdentityAnswer;
    try {
      answer = await this.#options.lookup(token);
    } catch {
      throw errors.authUnavailable();
    }
    const now = Date.now();
    const entry: Entry = answer.valid
      ? { user: answer.user, expires: now + this.#options.ttlMs }
      : { user: null, expires: now + (this.#options.negativeTtlMs ?? Math.min(this.#options.ttlMs, 5000)) };
    if (answer.valid) await this.#options.onValidated?.(answer.user, token, answer.computeUrl);
    this.#remember(key, entry);
    return entry;
  }

  #remember(key: string, entry: Entry): void {
    const max = this.#options.maxEntries ?? 10_000;
    if (this.#cache.size >= max) {
      const now = Date.now();
      for (const [k, e] of this.#cache) if (e.expires <= now) this.#cache.delete(k);
      // Still full: drop the oldest insertions (Map keeps insertion order).
      for (const k of this.#cache.keys()) {
        if (this.#cache.size < max) break;
        this.#cache.delete(k);
      }
    }
    this.#cache.delete(key);
    this.#cache.set(key, entry);
  }
}
