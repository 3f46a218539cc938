import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseJson } from './advisory-store.ts';

/** What was posted for one advisory in one channel; `posting` means a post was started but its ts not yet recorded. */
export type NotificationRecord = {
  state: 'posting' | 'posted';
  ts?: string;
  fingerprint: string;
  /** Finding keys of the posted match set, to say what changed next time. */
  keys: string[];
  /** Fingerprint whose threaded change note was started (at most one note per change). */
  noteFor?: string;
  at: string;
};

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Notification records and claims:
 *   adv:note:{channel}            hash  advisory id → NotificationRecord JSON
 *   adv:claim:{channel}:{id}      string claim token (SET NX PX): one replica at a time works on a notification
 */
export class NotificationStore {
  readonly #redis: Redis;
  readonly #p: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#p = `${prefix}:adv`;
    redis.defineCommand('scopeReleaseClaim', { numberOfKeys: 1, lua: RELEASE });
  }

  async get(channel: string, id: string): Promise<NotificationRecord | undefined> {
    return parseJson<NotificationRecord>(await this.#redis.hget(`${this.#p}:note:${channel}`, id));
  }

  async all(channel: string): Promise<Map<string, NotificationRecord>> {
    const out = new Map<string, NotificationRecord>();
    for (const [id, json] of Object.entries(await this.#redis.hgetall(`${this.#p}:note:${channel}`))) {
      const r = parseJson<NotificationRecord>(json);
      if (r) out.set(id, r);
    }
    return out;
  }

  async put(channel: string, id: string, record: NotificationRecord): Promise<void> {
    await this.#redis.hset(`${this.#p}:note:${channel}`, id, JSON.stringify(record));
  }

  /** Claims (channel, advisory) for `ttlMs`; returns the token, or undefined when another worker holds it. */
  async claim(channel: string, id: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.#redis.set(`${this.#p}:claim:${channel}:${id}`, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async release(channel: string, id: string, token: string): Promise<void> {
    await (
      this.#redis as unknown as { scopeReleaseClaim(k: string, t: string): Promise<number> }
    ).scopeReleaseClaim(`${this.#p}:claim:${channel}:${id}`, token);
  }
}
