/** @module auth/rate-limiter — per-user token buckets (in memory, per instance). */
import { errors } from "../errors.ts";

/**
 * Allows `perMinute` requests a minute per key, with bursts up to the same number. Instances do not
 * share buckets: behind a load balancer the effective limit is per instance.
 *
 * @example
 * const limiter = new RateLimiter(60);
 * limiter.take(user.uuid); // throws ApiError 429 when empty
 */
export class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number) {
    this.#capacity = perMinute;
    this.#perMs = perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.#capacity > 0;
  }

  /** Takes one token for `key`, or throws `rate_limited` with a Retry-After. */
  take(key: string, now = Date.now()): void {
    if (!this.enabled) return;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 50_000) this.#prune(now);
      bucket = { tokens: this.#capacity, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (bucket.tokens < 1) throw errors.rateLimited((1 - bucket.tokens) / this.#perMs / 1000);
    bucket.tokens -= 1;
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.#capacity) this.#buckets.delete(key);
    }
  }
}
