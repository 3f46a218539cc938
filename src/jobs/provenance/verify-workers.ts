import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Container } from '../../container.ts';
import type { DigestVerification } from '../../domain/provenance/outcome.ts';
import { SignerRecords } from '../../store/provenance/signer-records.ts';
import { VerificationCache } from '../../store/provenance/verification-cache.ts';
import {
  type FanOut,
  queueFanOut,
  VERIFY_QUEUE,
  type VerifyChunkData,
  verifyChunkProcessor,
} from './verify-chunks.ts';

/**
 * In a worker process: a BullMQ worker for verification chunks (any worker replica takes them) and the
 * fan-out the command jobs use for large scopes. Needs `c.provenance`.
 */
export function startVerifyFanOut(
  c: Container,
  opts: { chunkSize?: number; concurrency?: number } = {},
): { fanOut: FanOut; stop: () => Promise<void> } {
  const p = c.provenance;
  if (!p) throw new Error('startVerifyFanOut needs a provenance configuration');
  const prefix = c.config.redis.prefix;
  const cache = new VerificationCache(c.redis, prefix, c.config.provenance.cacheTtlSeconds);
  const queue = new Queue<VerifyChunkData, DigestVerification[]>(VERIFY_QUEUE, {
    connection: c.redis,
    prefix,
  });
  const eventsConnection = c.connect();
  const events = new QueueEvents(VERIFY_QUEUE, { connection: eventsConnection, prefix });
  const workerConnection = c.connect();
  const worker = new Worker<VerifyChunkData, DigestVerification[]>(
    VERIFY_QUEUE,
    verifyChunkProcessor({
      get policy() {
        return p.policy;
      },
      get ports() {
        return p.ports;
      },
      cache,
      signers: signerRecords(c),
    }),
    {
      connection: workerConnection,
      prefix,
      concurrency: opts.concurrency ?? 2,
      name: `scope-verify-${process.pid}`,
    },
  );
  const warn = (err: Error) => c.log.warn({ err }, 'verify fan-out error');
  queue.on('error', warn);
  events.on('error', warn);
  worker.on('error', warn);
  return {
    fanOut: queueFanOut(
      queue,
      events,
      () => p.policy.version,
      opts.chunkSize ? { chunkSize: opts.chunkSize } : {},
    ),
    stop: async () => {
      await worker.close();
      await events.close();
      await queue.close();
      for (const conn of [eventsConnection, workerConnection])
        await conn.quit().catch(() => conn.disconnect());
    },
  };
}

/** The durable signer records of a container: kept as long as the inventory history window. */
export function signerRecords(c: Container): SignerRecords {
  return new SignerRecords(c.redis, c.config.redis.prefix, c.config.inventory.historyDays * 86_400);
}
