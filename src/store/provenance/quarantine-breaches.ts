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

/** An alert key as `alertKey` makes it, validated when read back from a job. */
export const ALERT_KEY = /^qalert-[a-f0-9]{32}-[a-f0-9]{16}$/;

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
   * Adds a breach to its alert, idempotent per pod: `added` is false when this pod was already part of it (a
   * retried job). `version` counts the pods the alert has had; a render covers the version it read.
   */
  async add(b: QuarantineBreach): Promise<{ added: boolean; version: number }> {
    const alert = alertKey(b);
    const key = `${this.#p}:pods:${alert}`;
    const countKey = `${this.#p}:count:${alert}`;
    const versionKey = `${this.#p}:version:${alert}`;
    const [size, listed, inCount] = await Promise.all([
      this.#redis.hlen(key),
      this.#redis.hexists(key, b.podUid),
      this.#redis.sismember(countKey, b.podUid),
    ]);
    const known = listed === 1 || inCount === 1;
    const tx = this.#redis.multi();
    if (listed || size < MAX_PODS_PER_ALERT) tx.hset(key, b.podUid, JSON.stringify(b));
    else tx.sadd(countKey, b.podUid);
    if (!known) tx.incr(versionKey);
    else tx.get(versionKey);
    tx.expire(key, ALERT_TTL_SECONDS)
      .expire(countKey, ALERT_TTL_SECONDS)
      .expire(versionKey, ALERT_TTL_SECONDS);
    const replies = await tx.exec();
    return { added: !known, version: Number(replies?.[1]?.[1] ?? 0) };
  }

  /**
   * Every breach of an alert that reads back valid (and belongs to it), oldest first; how many more pods were
   * counted but not stored; how many stored entries did not read back (never shown, counted); the version.
   */
  async read(
    alert: string,
    requestId: string,
  ): Promise<{ breaches: QuarantineBreach[]; more: number; unreadable: number; version: number }> {
    const [raw, extra, version] = await Promise.all([
      this.#redis.hgetall(`${this.#p}:pods:${alert}`),
      this.#redis.scard(`${this.#p}:count:${alert}`),
      this.#redis.get(`${this.#p}:version:${alert}`),
    ]);
    const breaches: QuarantineBreach[] = [];
    let unreadable = 0;
    for (const json of Object.values(raw)) {
      const ok = breachSchema.safeParse(safeJson(json));
      if (ok.success && ok.data.requestId === requestId && alertKey(ok.data) === alert)
        breaches.push(ok.data);
      else unreadable++;
    }
    breaches.sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.pod.localeCompare(y.pod));
    return { breaches, more: extra, unreadable, version: toCount(version) };
  }

  /** The version the alert's message last showed (0: never posted). */
  async rendered(alert: string): Promise<number> {
    return toCount(await this.#redis.get(`${this.#p}:rendered:${alert}`));
  }

  async markRendered(alert: string, version: number): Promise<void> {
    await this.#redis.set(`${this.#p}:rendered:${alert}`, String(version), 'EX', ALERT_TTL_SECONDS);
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

/** A counter read back from Redis: a non-negative integer, else 0 (a tampered value renders again, never skips). */
function toCount(raw: string | null): number {
  const n = Number(raw ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
