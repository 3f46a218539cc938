import { createHash } from 'node:crypto';
import { type Job, type Queue, type QueueEvents, UnrecoverableError } from 'bullmq';
import pLimit from 'p-limit';
import { z } from 'zod';
import type { DigestVerification } from '../../domain/provenance/outcome.ts';
import type { ProvenancePolicy } from '../../domain/provenance/policy.ts';
import type { ProvenancePorts } from '../../domain/provenance/ports.ts';
import { type VerifyTarget, verifyDigest } from '../../domain/provenance/verify-digest.ts';
import type { SignerRecordWriter } from '../../store/provenance/signer-records.ts';
import type { VerificationCachePort } from '../../store/provenance/verification-cache.ts';

/** BullMQ queue of verification chunks: the child jobs a large `/scope verify` fans out to. */
export const VERIFY_QUEUE = 'scope-verify';

/** A chunk of digests to verify, under the policy version the parent job saw. */
export type VerifyChunkData = { policyVersion: string; now: string; targets: VerifyTarget[] };

const chunkSchema = z.object({
  policyVersion: z.string().min(1),
  now: z.string().datetime(),
  targets: z
    .array(
      z.object({
        registry: z.string().min(1).max(255),
        repository: z.string().min(1).max(255),
        digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
        tag: z.string().max(128).optional(),
      }),
    )
    .min(1)
    .max(1000),
});

/** Verifies the misses of a large scope in child jobs; resolves with their results in input order. */
export type FanOut = (
  targets: readonly VerifyTarget[],
  now: Date,
  signal?: AbortSignal,
  onChunkDone?: (n: number) => void,
  /** The policy version the caller verifies under; default: the fan-out's own. */
  policyVersion?: string,
) => Promise<DigestVerification[]>;

/**
 * The chunk processor: validates the job data read from Redis, refuses a chunk made under another policy
 * version (a worker with a different configuration or trusted root must not answer for it), verifies, caches,
 * returns. `policy` and `ports` may be getters over a swappable view; they are read once per chunk.
 */
export function verifyChunkProcessor(deps: {
  policy: ProvenancePolicy;
  ports: ProvenancePorts;
  cache?: VerificationCachePort;
  signers?: SignerRecordWriter;
  concurrency?: number;
}) {
  return async (
    job: Job<VerifyChunkData>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<DigestVerification[]> => {
    const parsed = chunkSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad verify chunk: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    const { policy, ports } = deps;
    if (data.policyVersion !== policy.version)
      throw new UnrecoverableError(
        `chunk made under policy ${data.policyVersion}, this worker has ${policy.version} (another configuration or trusted root; run the command again)`,
      );
    const limit = pLimit(deps.concurrency ?? 32);
    const now = new Date(data.now);
    const targets = data.targets.map((t) => ({
      registry: t.registry,
      repository: t.repository,
      digest: t.digest,
      ...(t.tag ? { tag: t.tag } : {}),
    }));
    const results = await Promise.all(
      targets.map((t) => limit(() => verifyDigest(ports, policy, t, now, signal))),
    );
    await deps.cache?.putMany(policy.version, results);
    await deps.signers?.record(results);
    return results;
  };
}

/**
 * Fan-out through BullMQ: chunks of `chunkSize` digests as child jobs with ids derived from their content
 * (a retried parent finds the same children instead of adding more), awaited through QueueEvents.
 */
export function queueFanOut(
  queue: Queue<VerifyChunkData, DigestVerification[]>,
  events: QueueEvents,
  defaultVersion: string | (() => string),
  opts: { chunkSize?: number; timeoutMs?: number; attempts?: number } = {},
): FanOut {
  const size = opts.chunkSize ?? 100;
  return async (targets, now, signal, onChunkDone, version) => {
    const policyVersion =
      version ?? (typeof defaultVersion === 'function' ? defaultVersion() : defaultVersion);
    const chunks: VerifyTarget[][] = [];
    for (let i = 0; i < targets.length; i += size) chunks.push(targets.slice(i, i + size));
    await events.waitUntilReady();
    const jobs = await queue.addBulk(
      chunks.map((chunk) => ({
        name: 'verify-chunk',
        data: { policyVersion, now: now.toISOString(), targets: chunk },
        opts: {
          jobId: `vc-${createHash('sha256')
            .update(
              `${policyVersion}\n${chunk.map((t) => `${t.registry}/${t.repository}@${t.digest}`).join('\n')}`,
            )
            .digest('hex')
            .slice(0, 32)}`,
          attempts: opts.attempts ?? 3,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: 600 },
          removeOnFail: { age: 24 * 3600 },
        },
      })),
    );
    const results = await Promise.all(
      jobs.map(async (job, i) => {
        signal?.throwIfAborted();
        const r = (await job.waitUntilFinished(
          events,
          opts.timeoutMs ?? 10 * 60_000,
        )) as DigestVerification[];
        if (!Array.isArray(r) || r.length !== chunks[i]?.length)
          throw new Error(
            `verify chunk ${job.id} returned ${Array.isArray(r) ? r.length : typeof r} results`,
          );
        onChunkDone?.(r.length);
        return r;
      }),
    );
    return results.flat();
  };
}
