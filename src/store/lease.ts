import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A time-limited claim in Redis so that, of many worker replicas, one runs the inventory collector.
 * If its holder dies the claim expires and another replica takes over within `ttlMs`.
 */
export class Lease {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #owner: string;
  readonly #ttlMs: number;

  constructor(redis: Redis, key: string, owner: string, ttlMs: number) {
    this.#redis = redis;
    this.#key = key;
    this.#owner = owner;
    this.#ttlMs = ttlMs;
  }

  async acquire(): Promise<boolean> {
    return (await this.#redis.set(this.#key, this.#owner, 'PX', this.#ttlMs, 'NX')) === 'OK';
  }

  async renew(): Promise<boolean> {
    return (await this.#redis.eval(RENEW, 1, this.#key, this.#owner, this.#ttlMs)) === 1;
  }

  async release(): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key, this.#owner);
  }

  async holder(): Promise<string | null> {
    return this.#redis.get(this.#key);
  }
}

/**
 * Runs `fn` while holding a short lease on `key` (polling every 25 ms for at most `waitMs`), so that updates of
 * one thing (an approval card, an alert) happen one at a time across workers; `busy` names it in the timeout error.
 */
export async function withLease<T>(
  redis: Redis,
  key: string,
  fn: () => Promise<T>,
  opts: { ttlMs: number; waitMs: number; busy: () => Error },
): Promise<T> {
  const lease = new Lease(redis, key, randomUUID(), opts.ttlMs);
  const deadline = Date.now() + opts.waitMs;
  while (!(await lease.acquire())) {
    if (Date.now() > deadline) throw opts.busy();
    await new Promise((r) => setTimeout(r, 25));
  }
  try {
    return await fn();
  } finally {
    await lease.release();
  }
}
