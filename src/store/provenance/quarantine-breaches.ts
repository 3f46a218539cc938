import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { QuarantineBreach } from '../../domain/provenance/quarantine-watch.ts';
import { withLease } from '../lease.ts';

/**
 * Breaches of a quarantine, grouped into one alert per (request, cluster, namespace, workload): the alert lists
 * every pod of that workload seen running the digest anyway, and is updated in place as more start. The pods are
 * a Redis hash per alert (pod uid → breach JSON); every entry read back is validated.
 */

const RFC3339 = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
const name = z.string().min(1).max(253);
const cause = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('not-in-force'), why: z.string().max(2000) }).strict(),
  z.object({ kind: z.literal('admitted-before'), podStart: RFC3339, since: RFC3339 }).strict(),
  z.object({ kind: z.literal('unknown-reference'), reference: z.string().max(1024) }).strict(),
  z.object({ kind: z.literal('rejected-reference'), reference: z.string().max(1024) }).strict(),
]);

export const breachSchema = z
  .object({
    requestId: z.string().regex(/^[a-f0-9]{32}$/),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    cluster: name,
    environment: name,
    namespace: name,
    workload: z.object({ kind: name, name }).strict(),
    pod: name,
    podUid: z.string().min(1).max(128),
    node: name.optional(),
    containers: z
      .array(
        z
          .object({
            name,
            role: z.enum(['app', 'init', 'sidecar', 'ephemeral']),
            image: z.string().min(1).max(1024),
            startedAt: RFC3339.optional(),
          })
          .strict(),
      )
      .min(1)
      .max(64),
    startedAt: RFC3339,
    cause,
  })
  .strict() satisfies z.ZodType<QuarantineBreach>;

/** The alert a breach belongs to: one per request and workload (`qalert-<request>-<16 hex>`, a BullMQ-safe id). */
export function alertKey(b: Pick<QuarantineBreach, 'requestId' | 'cluster' | 'namespace' | 'workload'>) {
  const where = hash('sha256', `${b.cluster}\n${b.namespace}\n${b.workload.kind}\n${b.workload.name}`);
  return `qalert-${b.requestId}-${where.slice(0, 16)}`;
}

/** The job id of one breach (one pod running the digest): a repeated event maps to the same job. */
export function breachJobId(b: Pick<QuarantineBreach, 'requestId' | 'cluster' | 'podUid' | 'digest'>) {
  const pod = hash('sha256', `${b.cluster}\n${b.podUid}\n${b.digest}`);
  return `qbreach-${b.requestId}-${pod.slice(0, 24)}`;
}

const ALERT_TTL_SECONDS = 30 * 24 * 3600;
/** Pods listed per alert; more are counted, not stored. */
export const MAX_PODS_PER_ALERT = 50;

export class QuarantineBreachStore {
  readonly #redis: Redis;
  readonly #p: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#p = `${prefix}:qalert`;
  }

  /**
   * Adds a breach to its alert (idempotent per pod) and returns every breach of that alert that reads back
   * valid, oldest first, with how many stored entries did not (never shown, counted).
   */
  async add(b: QuarantineBreach): Promise<{
    breaches: QuarantineBreach[];
    more: number;
    unreadable: number;
    /** False when this pod was already part of the alert (a retried job). */
    added: boolean;
  }> {
    const key = `${this.#p}:pods:${alertKey(b)}`;
    const countKey = `${this.#p}:count:${alertKey(b)}`;
    const [size, listed] = await Promise.all([this.#redis.hlen(key), this.#redis.hexists(key, b.podUid)]);
    const tx = this.#redis.multi();
    if (listed || size < MAX_PODS_PER_ALERT) tx.hset(key, b.podUid, JSON.stringify(b));
    else tx.sadd(countKey, b.podUid);
    tx.expire(key, ALERT_TTL_SECONDS).expire(countKey, ALERT_TTL_SECONDS);
    const replies = await tx.exec();
    const added = !listed && Number(replies?.[0]?.[1] ?? 0) > 0;
    const [raw, extra] = await Promise.all([this.#redis.hgetall(key), this.#redis.scard(countKey)]);
    const breaches: QuarantineBreach[] = [];
    let unreadable = 0;
    for (const json of Object.values(raw)) {
      const parsed = safeJson(json);
      const ok = breachSchema.safeParse(parsed);
      if (ok.success && ok.data.requestId === b.requestId && alertKey(ok.data) === alertKey(b))
        breaches.push(ok.data);
      else unreadable++;
    }
    breaches.sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.pod.localeCompare(y.pod));
    return { breaches, more: extra, unreadable, added };
  }

  /** Runs `fn` while holding the alert's lock, so two pods of one workload update its message one at a time. */
  async withAlertLock<T>(alert: string, fn: () => Promise<T>, waitMs = 30_000): Promise<T> {
    return withLease(this.#redis, `${this.#p}:lock:${alert}`, fn, {
      ttlMs: 30_000,
      waitMs,
      busy: () => new Error(`alert ${alert} is busy`),
    });
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
