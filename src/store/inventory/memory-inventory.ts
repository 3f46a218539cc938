import type { ClusterSync, PodRecord } from '../../domain/inventory/inventory.ts';
import type { InventoryReader } from '../../jobs/inventory-queries.ts';
import type { ClusterSyncState } from '../../jobs/status.ts';
import type { HistoryEntry } from './inventory-store.ts';

/**
 * The inventory read straight from one scan of the clusters, held in memory: the cold path (CLI `--live`)
 * when there is no index, and a port implementation for unit tests. It knows what runs now, not what ran.
 */
export class MemoryInventory implements InventoryReader {
  readonly #pods: readonly PodRecord[];
  readonly #states: ClusterSyncState[];

  constructor(pods: readonly PodRecord[], syncs: readonly ClusterSync[]) {
    this.#pods = pods;
    this.#states = syncs.map((s) => ({
      cluster: s.cluster,
      environment: s.environment,
      state: s.ok ? 'ok' : 'error',
      lastAttemptAt: s.finishedAt,
      ...(s.ok
        ? { lastSuccessAt: s.finishedAt, pods: s.pods }
        : { lastError: s.error ?? s.errorCode ?? 'error' }),
    }));
  }

  async podsRunningDigest(digest: string): Promise<PodRecord[]> {
    return this.#narrow((c) => c.digest === digest);
  }

  async podsRunningRepository(repository: string, tag?: string): Promise<PodRecord[]> {
    return this.#narrow((c) => c.repository === repository && (tag === undefined || c.tag === tag));
  }

  async digestsWithPrefix(prefix: string, limit = 10): Promise<string[]> {
    const p = prefix.startsWith('sha256:') ? prefix : `sha256:${prefix}`;
    const found = new Set<string>();
    for (const pod of this.#pods)
      for (const c of pod.containers) if (c.digest?.startsWith(p)) found.add(c.digest);
    return [...found].sort().slice(0, limit);
  }

  async digestHistory(): Promise<HistoryEntry[]> {
    return [];
  }

  async podsInCluster(cluster: string, namespace?: string): Promise<PodRecord[]> {
    return this.#pods.filter(
      (p) => p.cluster === cluster && (namespace === undefined || p.namespace === namespace),
    );
  }

  async workloadHistory(): Promise<HistoryEntry[]> {
    return [];
  }

  async syncStates(): Promise<ClusterSyncState[]> {
    return this.#states;
  }

  #narrow(keep: (c: PodRecord['containers'][number]) => boolean): PodRecord[] {
    const out: PodRecord[] = [];
    for (const p of this.#pods) {
      const containers = p.containers.filter(keep);
      if (containers.length) out.push({ ...p, containers });
    }
    return out;
  }
}
