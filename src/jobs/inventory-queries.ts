import type { WhereTarget } from '../domain/command.ts';
import { caveatsFor } from '../domain/inventory/completeness.ts';
import {
  buildDigestReport,
  buildImageReport,
  buildWhereReport,
  type DigestReport,
  type ImageReport,
  type WhereReport,
} from '../domain/inventory/fleet-report.ts';
import {
  type Digest,
  type DigestQuery,
  type ImageQuery,
  repositoryKey,
  shortDigest,
} from '../domain/inventory/image-ref.ts';
import type { PodRecord } from '../domain/inventory/inventory.ts';
import { UserFacingError } from '../errors.ts';
import type { HistoryEntry } from '../store/inventory/inventory-store.ts';
import type { ClusterSyncState } from './status.ts';

/** What the inventory queries read; the Redis store implements it. */
export type InventoryReader = {
  podsRunningDigest(digest: string): Promise<PodRecord[]>;
  podsRunningRepository(repository: string, tag?: string): Promise<PodRecord[]>;
  digestsWithPrefix(prefix: string, limit?: number): Promise<string[]>;
  digestHistory(digest: string, now: Date): Promise<HistoryEntry[]>;
  podsInCluster(cluster: string, namespace?: string): Promise<PodRecord[]>;
  workloadHistory(cluster: string, now: Date, namespace?: string): Promise<HistoryEntry[]>;
  syncStates(): Promise<ClusterSyncState[]>;
};

/** Turns what the user typed after `/scope digest` into one full digest, or says why it cannot. */
export async function resolveDigest(inv: InventoryReader, query: DigestQuery): Promise<string> {
  if (query.kind === 'digest') return query.digest;
  if (query.kind === 'config') return query.configId;
  if (query.kind === 'image') return query.ref.digest;
  const matches = await inv.digestsWithPrefix(query.prefix, 6);
  if (matches.length === 0) {
    const states = await inv.syncStates();
    const missing = caveatsFor(states, new Date()).map((c) => c.cluster);
    const answered = states.length - missing.length;
    throw new UserFacingError(
      'NOT_FOUND',
      missing.length === 0
        ? `No digest starting with ${query.prefix} has been seen in any cluster (within the look-back window).`
        : `No digest starting with ${query.prefix} has been seen in the ${answered} cluster${answered === 1 ? '' : 's'} that answered; ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} did not answer, so scope cannot rule it out there.`,
      'Check the digest, or give the full sha256:… value (the answer then says which clusters it covers); `/scope status` shows which clusters are synced.',
    );
  }
  if (matches.length > 1) {
    throw new UserFacingError(
      'BAD_INPUT',
      `${query.prefix} matches several digests: ${matches
        .slice(0, 5)
        .map((d) => shortDigest(d as Digest))
        .join(', ')}${matches.length > 5 ? ', …' : ''}.`,
      'Give more hex digits, or the full sha256:… digest.',
    );
  }
  return matches[0] as string;
}

export async function digestQuery(
  inv: InventoryReader,
  query: DigestQuery,
  now: Date,
): Promise<DigestReport> {
  const digest = await resolveDigest(inv, query);
  if (query.kind === 'config') {
    const states = await inv.syncStates();
    return buildDigestReport(digest, await podsWithConfigId(inv, states, digest), [], states, now, 'config');
  }
  const [pods, history, states] = await Promise.all([
    inv.podsRunningDigest(digest),
    inv.digestHistory(digest, now),
    inv.syncStates(),
  ]);
  if (query.kind === 'digest' && pods.length === 0 && history.length === 0) {
    // A bare sha256 that no manifest matches may be an image config id (`docker images`, `crictl images`).
    const byConfig = await podsWithConfigId(inv, states, digest);
    if (byConfig.length > 0) return buildDigestReport(digest, byConfig, [], states, now, 'config');
  }
  return buildDigestReport(digest, pods, history, states, now);
}

/**
 * Pods running an image whose config id is `configId`. Config ids are kept on each pod record, not indexed,
 * so this reads the pods cluster by cluster (one cluster in memory at a time); config-id questions are rare.
 */
export async function podsWithConfigId(
  inv: InventoryReader,
  states: readonly ClusterSyncState[],
  configId: string,
): Promise<PodRecord[]> {
  const out: PodRecord[] = [];
  for (const s of states) {
    for (const p of await inv.podsInCluster(s.cluster)) {
      const containers = p.containers.filter((c) => c.configId === configId);
      if (containers.length) out.push({ ...p, containers });
    }
  }
  return out;
}

export async function imageQuery(inv: InventoryReader, query: ImageQuery, now: Date): Promise<ImageReport> {
  const repo = repositoryKey(query);
  const [pods, states] = await Promise.all([inv.podsRunningRepository(repo, query.tag), inv.syncStates()]);
  const digests = [
    ...new Set(pods.flatMap((p) => p.containers.map((c) => c.digest).filter((d): d is string => !!d))),
  ];
  const firstSeen = new Map<string, string>();
  await Promise.all(
    digests.map(async (d) => {
      const earliest = (await inv.digestHistory(d, now))
        .map((h) => h.firstSeen)
        .filter(Boolean)
        .sort()[0];
      if (earliest) firstSeen.set(d, earliest);
    }),
  );
  return buildImageReport(repo, query.tag, pods, firstSeen, states, now);
}

export async function whereQuery(inv: InventoryReader, target: WhereTarget, now: Date): Promise<WhereReport> {
  const states = await inv.syncStates();
  const state = states.find((s) => s.cluster === target.cluster);
  if (!state) {
    throw new UserFacingError(
      'NOT_FOUND',
      `There is no cluster named ${target.cluster}.`,
      `Known clusters: ${states.map((s) => s.cluster).join(', ') || 'none configured'}.`,
    );
  }
  const [pods, history] = await Promise.all([
    inv.podsInCluster(target.cluster, target.namespace),
    inv.workloadHistory(target.cluster, now, target.namespace),
  ]);
  const matches = (w: { kind: string; name: string }) =>
    target.workload === undefined ||
    (w.name === target.workload && (target.kind === undefined || w.kind.toLowerCase() === target.kind));
  const label = [target.cluster, target.namespace, target.kind, target.workload].filter(Boolean).join('/');
  return buildWhereReport(
    label,
    pods.filter((p) => matches(p.workload)),
    history.filter((h) => matches(h.workload)),
    [state],
    now,
  );
}
