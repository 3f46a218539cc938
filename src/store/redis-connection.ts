import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.ts';
import { ScopeError } from '../errors.ts';
import { redisConnectionOptions } from './redis-settings.ts';

/** Connection settings from the configuration: a URL, or Sentinel; BullMQ's required options included. */
export function redisOptions(config: Config): { url?: string; options: RedisOptions } {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: 'scope' };
  return redisConnectionOptions(config.redis, base);
}

/** One new Redis connection; the CLI's index queries need nothing more than this (no queue, no metrics). */
export function connectRedis(config: Config): Redis {
  const { url, options: base } = redisOptions(config);
  // A one-shot command must not wait forever on a Redis that stops answering mid-command.
  const options: RedisOptions = { ...base, commandTimeout: 10_000 };
  return url ? new Redis(url, options) : new Redis(options);
}

/**
 * Waits until a connection is ready, or fails after `ms` with what went wrong, so a command-line run against an
 * unreachable Redis stops in seconds with a clear message instead of waiting in the client's offline queue.
 */
export async function waitForRedis(redis: Redis, ms: number, what = 'Redis'): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: Error | undefined;
  const onError = (err: Error) => {
    lastError = err;
  };
  redis.on('error', onError);
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ready)
      throw new ScopeError(
        'UPSTREAM_UNAVAILABLE',
        `cannot reach ${what} within ${Math.round(ms / 1000)} s${lastError ? ` (${lastError.message})` : ''}`,
      );
  } finally {
    redis.off('error', onError);
  }
}
