import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';
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
  const { url, options } = redisOptions(config);
  const connect = () => (url ? new Redis(url, options) : new Redis(options));
  const redis = connect();
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const prefix = config.redis.prefix;
  const commandQueue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: redis, prefix });
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
    commandQueue,
    audit: new AuditLog(redis, prefix),
    inventory,
    syncStates: inventory,
    advisoryQueue,
    advisories: new AdvisoryStore(redis, prefix),
    advisoryNotes: new NotificationStore(redis, prefix),
    close: async () => {
      await advisoryQueue.close();
      await commandQueue.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
