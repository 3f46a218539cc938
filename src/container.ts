import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';
import { COMMAND_QUEUE, type CommandJobData } from './jobs/definitions.ts';
import type { SyncStateReader } from './jobs/status.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './observability.ts';
import { AuditLog } from './store/audit/audit-log.ts';
import { InventoryStore } from './store/inventory/inventory-store.ts';
import { redisOptions } from './store/redis-connection.ts';

export { redisOptions, waitForRedis } from './store/redis-connection.ts';

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
  close: () => Promise<void>;
};

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
    close: async () => {
      // A connection that never came up is cut first, so closing the queue does not wait for it.
      for (const conn of [commandConnection, redis]) if (conn.status !== 'ready') conn.disconnect();
      await commandQueue.close().catch(() => undefined);
      for (const conn of [commandConnection, redis]) {
        if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      }
    },
  };
}
