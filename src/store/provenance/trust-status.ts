import type { Redis } from 'ioredis';
import { z } from 'zod';

/** The trusted root one worker verifies with, as `/scope status` shows it. */
export type TrustRootStatus = {
  worker: string;
  source: 'shipped' | 'tuf' | 'file' | 'given';
  fingerprint: string;
  path?: string;
  mirror?: string;
  refreshedAt?: string;
  tufRefresh: boolean;
  lastAttemptAt?: string;
  lastError?: string;
  nextAttemptAt?: string;
  reportedAt: string;
};

const text = (max: number) => z.string().min(1).max(max);
const iso = z.string().datetime();
const schema = z
  .object({
    worker: text(200),
    source: z.enum(['shipped', 'tuf', 'file', 'given']),
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
    path: text(1000).optional(),
    mirror: text(1000).optional(),
    refreshedAt: iso.optional(),
    tufRefresh: z.boolean(),
    lastAttemptAt: iso.optional(),
    lastError: text(1000).optional(),
    nextAttemptAt: iso.optional(),
    reportedAt: iso,
  })
  .strict();

/**
 * Each worker's trusted root in Redis, so whichever process answers `/scope status` (any worker, or the CLI)
 * shows every live worker's. One key per worker with a TTL a heartbeat renews, listed through a set; a worker
 * that stopped drops out when its key expires. Read back like any untrusted input: a malformed entry is counted,
 * never shown.
 */
export class TrustStatusStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;
  constructor(redis: Redis, prefix: string, ttlSeconds = 180) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = ttlSeconds;
  }

  get #index(): string {
    return `${this.#prefix}:prov:trust:workers`;
  }

  #key(worker: string): string {
    return `${this.#prefix}:prov:trust:w:${worker}`;
  }

  async put(s: TrustRootStatus): Promise<void> {
    const v = schema.parse(s);
    await this.#redis
      .multi()
      .set(this.#key(v.worker), JSON.stringify(v), 'EX', this.#ttlSeconds)
      .sadd(this.#index, v.worker)
      .exec();
  }

  async remove(worker: string): Promise<void> {
    await this.#redis.multi().del(this.#key(worker)).srem(this.#index, worker).exec();
  }

  /** Live workers' entries, sorted by worker; `unreadable` counts entries that failed validation. */
  async list(): Promise<{ roots: TrustRootStatus[]; unreadable: number }> {
    const workers = (await this.#redis.smembers(this.#index)).sort();
    if (workers.length === 0) return { roots: [], unreadable: 0 };
    const raw = await this.#redis.mget(...workers.map((w) => this.#key(w)));
    const gone = workers.filter((_, i) => raw[i] === null);
    if (gone.length) await this.#redis.srem(this.#index, ...gone);
    const roots: TrustRootStatus[] = [];
    let unreadable = 0;
    for (const [i, t] of raw.entries()) {
      if (t === null) continue;
      try {
        const v = schema.parse(JSON.parse(t));
        if (v.worker !== workers[i]) throw new Error('entry under another worker');
        roots.push(v as TrustRootStatus);
      } catch {
        unreadable++;
      }
    }
    return { roots, unreadable };
  }
}
