import type { Queue } from 'bullmq';
import { type Coverage, caveatsFor, coverageOf } from '../domain/inventory/completeness.ts';
import type { TrustRootStatus } from '../store/provenance/trust-status.ts';

/** Sync health of one cluster as recorded by the inventory collector. */
export type ClusterSyncState = {
  cluster: string;
  environment: string;
  state: 'never' | 'ok' | 'error';
  lastSuccessAt?: string;
  lastAttemptAt?: string;
  lastError?: string;
  pods?: number;
};

/** What `/scope status` answers. */
export type StatusReport = {
  queues: Array<{
    name: string;
    waiting: number;
    active: number;
    delayed: number;
    failed: number;
    completed: number;
  }>;
  workers: Array<{ name: string; queue: string; idleSeconds?: number; address?: string }>;
  clusters: ClusterSyncState[];
  generatedAt: string;
  /** Job schedulers (advisory feed polling and re-matching) with their next run. */
  schedulers?: Array<{ id: string; everySeconds?: number; next?: string }>;
  /** Advisory feed health. */
  feeds?: Array<{
    feed: string;
    lastSuccessAt?: string;
    lastError?: string;
    records: number;
    problems: number;
    failures: number;
  }>;
  /**
   * The Sigstore trusted root each live worker verifies with (present when provenance is configured): source,
   * fingerprint, last TUF refresh error. `unreadable`: entries in Redis that failed validation.
   */
  trustRoots?: { workers: TrustRootStatus[]; unreadable: number };
} & Coverage;

/** Status of the clusters alone, with how complete the inventory is (the CLI's `--live` status uses it too). */
export function clusterStatus(
  clusters: ClusterSyncState[],
  now: Date,
): Pick<StatusReport, 'clusters' | 'generatedAt' | keyof Coverage> {
  return {
    clusters,
    generatedAt: now.toISOString(),
    ...coverageOf(clusters, caveatsFor(clusters, now)),
  };
}

/** Reads cluster sync health; the inventory store implements it. */
export type SyncStateReader = { syncStates(): Promise<ClusterSyncState[]> };

export async function buildStatus(
  queues: readonly Queue[],
  sync: SyncStateReader,
  now = new Date(),
): Promise<StatusReport> {
  const perQueue = await Promise.all(
    queues.map(async (q) => {
      const [counts, workers] = await Promise.all([
        q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
        q.getWorkers(),
      ]);
      return {
        counts: {
          name: q.name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
          completed: counts.completed ?? 0,
        },
        workers: workers.map((w) => ({
          name: w.rawname ?? w.name ?? 'worker',
          queue: q.name,
          ...(w.idle !== undefined ? { idleSeconds: Number(w.idle) } : {}),
          ...(w.addr ? { address: w.addr } : {}),
        })),
      };
    }),
  );
  return {
    queues: perQueue.map((p) => p.counts),
    workers: perQueue.flatMap((p) => p.workers),
    ...clusterStatus(await sync.syncStates(), now),
  };
}
