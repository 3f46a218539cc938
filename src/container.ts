import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { buildProvenance, type Provenance } from './adapters/provenance.ts';
import type { Config } from './config.ts';
import { ACTION_QUEUE, type ActionJobData } from './jobs/actions/definitions.ts';
import { ADVISORY_QUEUE, type AdvisoryJobData } from './jobs/advisories/queue.ts';
import { COMMAND_QUEUE, type CommandJobData } from './jobs/definitions.ts';
import type { SyncStateReader } from './jobs/status.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './observability.ts';
import { ActionStore } from './store/actions/action-store.ts';
import { AdvisoryStore } from './store/advisories/advisory-store.ts';
import { NotificationStore } from './store/advisories/notification-store.ts';
import { auditKey } from './store/audit/audit-config.ts';
import { AuditLog } from './store/audit/audit-log.ts';
import { FileWitness } from './store/audit/file-witness.ts';
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
  /** Approval engine queue (plan, execute, card, expire, recheck) and its server-side state. */
  actionQueue: Queue<ActionJobData>;
  actions: ActionStore;
  inventory: InventoryStore;
  syncStates: SyncStateReader;
  /** Feed polling and re-matching (job schedulers). */
  advisoryQueue: Queue<AdvisoryJobData>;
  advisories: AdvisoryStore;
  advisoryNotes: NotificationStore;
  /** Registry client, verifier and policy for `/scope verify`; built (and validated) at start when configured. */
  provenance?: Provenance;
  close: () => Promise<void>;
};

export function buildContainer(
  config: Config,
  processName: 'bot' | 'worker' | 'cli' | 'demo',
  log?: Logger,
): Container {
  // Before any connection is opened: a missing audit key must stop start-up cleanly, not leave sockets behind.
  const key = processName === 'cli' ? cliAuditKey(config) : auditKey(config.audit);
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
  const audit = buildAuditLog(config, processName, logger, url, options, key);
  const actionQueue = new Queue<ActionJobData>(ACTION_QUEUE, { connection: redis, prefix });
  actionQueue.on('error', (err) => logger.warn({ err }, 'action queue error'));
  const p = config.provenance;
  const provenance = p.rules.length || p.registries.length ? buildProvenance(p) : undefined;
  return {
    ...(provenance ? { provenance } : {}),
    config,
    log: logger,
    metrics: createMetrics(processName === 'cli' ? 'demo' : processName),
    redis,
    connect,
    commandConnection,
    commandQueue,
    audit: audit.log,
    actionQueue,
    actions: new ActionStore(redis, prefix),
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
      await actionQueue.close().catch(() => undefined);
      await audit.close();
      for (const conn of [commandConnection, redis]) {
        if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      }
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
