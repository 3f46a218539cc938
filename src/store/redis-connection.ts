import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.ts';

/** Connection settings from the configuration: a URL, or Sentinel; BullMQ's required options included. */
export function redisOptions(config: Config): { url?: string; options: RedisOptions } {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: 'scope' };
  const s = config.redis.sentinel;
  if (s) {
    return {
      options: {
        ...base,
        sentinels: s.sentinels,
        name: s.name,
        ...(s.password ? { password: s.password, sentinelPassword: s.password } : {}),
      },
    };
  }
  return { url: config.redis.url, options: base };
}

/** One new Redis connection; the CLI's index queries need nothing more than this (no queue, no metrics). */
export function connectRedis(config: Config): Redis {
  const { url, options } = redisOptions(config);
  return url ? new Redis(url, options) : new Redis(options);
}
