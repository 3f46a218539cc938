import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';
import { COMMAND_QUEUE, type CommandJobData } from './jobs/definitions.ts';
import type { SyncStateReader } from './jobs/status.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './observability.ts';
import { redisConnectionOptions } from './redis-connection.ts';
import { auditKey } from './store/audit/audit-config.ts';
import { AuditLog } from './store/audit/audit-log.ts';
import { FileWitness } from './store/audit/file-witness.ts';
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
  close: () => Promise<void>;
};

export function redisOptions(config: Config): { url?: string; options: RedisOptions } {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: 'scope' };
  return redisConnectionOptions(config.redis, base);
}

export function buildContainer(
  config: Config,
  processName: 'bot' | 'worker' | 'cli' | 'demo',
  log?: Logger,
): Container {
  // Before any connection is opened: a missing audit key must stop start-up cleanly, not leave sockets behind.
  const key = processName === 'cli' ? cliAuditKey(config) : auditKey(config.audit);
  const logger = log ?? createLogger(config.log.level, processName);
  const { url, options } = redisOptions(config);
  const connect = () => (url ? new Redis(url, options) : new Redis(options));
  const redis = connect();
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const prefix = config.redis.prefix;
  const commandQueue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: redis, prefix });
  commandQueue.on('error', (err) => logger.warn({ err }, 'command queue error'));
  const inventory = new InventoryStore(redis, prefix, config);
  const audit = buildAuditLog(config, processName, logger, url, options, key);
  return {
    config,
    log: logger,
    metrics: createMetrics(processName === 'cli' ? 'demo' : processName),
    redis,
    connect,
    commandQueue,
    audit: audit.log,
    inventory,
    syncStates: inventory,
    close: async () => {
      await commandQueue.close();
      await audit.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The audit trail gets its own connection that fails fast while Redis is away (no offline queue, a command
 * timeout), so its background writer notices the outage and buffers instead of hanging.
 */
function buildAuditLog(
  config: Config,
  processName: 'bot' | 'worker' | 'cli' | 'demo',
  log: Logger,
  url: string | undefined,
  base: RedisOptions,
  { key, development }: { key: string; development: boolean },
): { log: AuditLog; close: () => Promise<void> } {
  const options: RedisOptions = {
    ...base,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 3000,
    connectionName: 'scope-audit',
  };
  const redis = url ? new Redis(url, options) : new Redis(options);
  redis.on('error', () => {}); // the audit writer logs outages itself, once per outage
  const a = config.audit;
  const auditLog = new AuditLog(redis, config.redis.prefix, {
    key,
    developmentKey: development && processName !== 'cli',
    bufferMax: a.bufferMax,
    witnesses: a.witnessFile && processName !== 'cli' ? [new FileWitness(a.witnessFile, processName)] : [],
    witnessIntervalMs: processName === 'cli' ? 0 : a.witnessIntervalSeconds * 1000,
    log,
  });
  return {
    log: auditLog,
    close: async () => {
      await auditLog.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Only the services must refuse to start without a key; the CLI says what it cannot check instead. */
function cliAuditKey(config: Config): { key: string; development: boolean } {
  try {
    return auditKey(config.audit);
  } catch {
    return auditKey({ ...config.audit, requireKey: false }, {});
  }
}
