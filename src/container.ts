import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';
import { ScopeError } from './errors.ts';
import { ADVISORY_QUEUE, type AdvisoryJobData } from './jobs/advisories/queue.ts';
import { COMMAND_QUEUE, type CommandJobData } from './jobs/definitions.ts';
import type { SyncStateReader } from './jobs/status.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './observability.ts';
import { AdvisoryStore } from './store/advisories/advisory-store.ts';
import { NotificationStore } from './store/advisories/notification-store.ts';
import { AuditLog } from './store/audit/audit-log.ts';
import { InventoryStore } from './store/inventory/inventory-store.ts';

/** Composition root: the one place that builds connections, queues and stores from the configuration. */
export type Container = {
  config: Config;
  log: Logger;
  metrics: Metrics;
  redis: Redis;
  /** A new connection with BullMQ's required options; workers need their own blocking connection. */
  connect: () => Redis;
  /**
   * The command queue's own connection, with no offline queue: an enqueue while Redis is unreachable fails at
   * once instead of waiting in the client and running later, after the user was told it did not.
   */
  commandConnection: Redis;
  commandQueue: Queue<CommandJobData>;
  audit: AuditLog;
  inventory: InventoryStore;
  syncStates: SyncStateReader;
  /** Feed polling and re-matching (job schedulers). */
  advisoryQueue: Queue<AdvisoryJobData>;
  advisories: AdvisoryStore;
  advisoryNotes: NotificationStore;
  close: () => Promise<void>;
};

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

export function buildContainer(
  config: Config,
  processName: 'bot' | 'worker' | 'cli' | 'demo',
  log?: Logger,
): Container {
  const logger = log ?? createLogger(config.log.level, processName);
  const { url, options: base } = redisOptions(config);
  // A one-shot command must not wait forever on a Redis that stops answering mid-command.
  const options: RedisOptions = processName === 'cli' ? { ...base, commandTimeout: 10_000 } : base;
  const connectWith = (extra: RedisOptions = {}) =>
    url ? new Redis(url, { ...options, ...extra }) : new Redis({ ...options, ...extra });
  const connect = () => connectWith();
  const redis = connect();
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const prefix = config.redis.prefix;
  const commandConnection = connectWith({ enableOfflineQueue: false });
  commandConnection.on('error', () => {}); // reported once through `redis` above
  const commandQueue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: commandConnection, prefix });
  commandQueue.on('error', (err) => logger.warn({ err }, 'command queue error'));
  const inventory = new InventoryStore(redis, prefix, config);
  const advisoryQueue = new Queue<AdvisoryJobData>(ADVISORY_QUEUE, { connection: redis, prefix });
  advisoryQueue.on('error', (err) => logger.warn({ err }, 'advisory queue error'));
  return {
    config,
    log: logger,
    metrics: createMetrics(processName === 'cli' ? 'demo' : processName),
    redis,
    connect,
    commandConnection,
    commandQueue,
    audit: new AuditLog(redis, prefix),
    inventory,
    syncStates: inventory,
    advisoryQueue,
    advisories: new AdvisoryStore(redis, prefix),
    advisoryNotes: new NotificationStore(redis, prefix),
    close: async () => {
      // A connection that never came up is cut first, so closing the queue does not wait for it.
      for (const conn of [commandConnection, redis]) if (conn.status !== 'ready') conn.disconnect();
      await advisoryQueue.close().catch(() => undefined);
      await commandQueue.close().catch(() => undefined);
      for (const conn of [commandConnection, redis]) {
        if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      }
    },
  };
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
