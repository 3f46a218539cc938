import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

/** Connection details for the run's redis-server plus a fresh BullMQ prefix so tests never see each other's keys. */
export function testRedis(): { url: string; prefix: string; connect: () => Redis } {
  const url = inject('redisUrl');
  const prefix = `{t-${randomUUID().slice(0, 8)}}`;
  return { url, prefix, connect: () => new Redis(url, { maxRetriesPerRequest: null }) };
}
