import type { WhereTarget } from '../domain/command.ts';
import { type Completeness, caveatsFor } from '../domain/inventory/completeness.ts';
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
import type { PodRecord, ReadStats } from '../domain/inventory/inventory.ts';
import { UserFacingError } from '../errors.ts';
import type { HistoryEntry } from '../store/inventory/inventory-store.ts';
import type { ClusterSyncState } from './status.ts';

/**
 * What the inventory queries read; the Redis store implements it. Readers leave out stored records that are
 * malformed and count them in `reads`, which the query turns into the report's `unreadable` count.
 */
export type InventoryReader = {
  podsRunningDigest(digest: string, reads?: ReadStats): Promise<PodRecord[]>;
  podsRunningRepository(repository: string, tag?: string, reads?: ReadStats): Promise<PodRecord[]>;
  digestsWithPrefix(prefix: string, limit?: number): Promise<string[]>;
  digestHistory(digest: string, now: Date, reads?: ReadStats): Promise<HistoryEntry[]>;
  podsInCluster(cluster: string, namespace?: string, reads?: ReadStats): Promise<PodRecord[]>;
  workloadHistory(cluster: string, now: Date, namespace?: string, reads?: ReadStats): Promise<HistoryEntry[]>;
  syncStates(): Promise<ClusterSyncState[]>;
};

/** The report with the number of stored records its reads had to leave out, when there were any. */
function withUnreadable<R extends { unreadable?: number; completeness: Completeness }>(
  report: R,
  reads: ReadStats,
): R {
  if (reads.unreadable > 0) {
    report.unreadable = reads.unreadable;
    // Records were left out: never a full all-clear, whatever the clusters said.
    if (report.completeness === 'complete') report.completeness = 'partial';
  }
  return report;
}

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
  const reads: ReadStats = { unreadable: 0 };
  if (query.kind === 'config') {
    const states = await inv.syncStates();
    return withUnreadable(
      buildDigestReport(
        digest,
        await podsWithConfigId(inv, states, digest, reads),
        [],
        states,
        now,
        'config',
      ),
      reads,
    );
  }
  const [pods, history, states] = await Promise.all([
    inv.podsRunningDigest(digest, reads),
    inv.digestHistory(digest, now, reads),
    inv.syncStates(),
  ]);
  if (query.kind === 'digest' && pods.length === 0 && history.length === 0) {
    // A bare sha256 that no manifest matches may be an image config id (`docker images`, `crictl images`).
    const byConfig = await podsWithConfigId(inv, states, digest, reads);
    if (byConfig.length > 0) {
      return withUnreadable(buildDigestReport(digest, byConfig, [], states, now, 'config'), reads);
    }
  }
  return withUnreadable(buildDigestReport(digest, pods, history, states, now), reads);
}

/**
 * Pods running an image whose config id is `configId`. Config ids are kept on each pod record, not indexed,
 * so this reads the pods cluster by cluster (one cluster in memory at a time); config-id questions are rare.
 */
export async function podsWithConfigId(
  inv: InventoryReader,
  states: readonly ClusterSyncState[],
  configId: string,
  reads?: ReadStats,
): Promise<PodRecord[]> {
  const out: PodRecord[] = [];
  for (const s of states) {
    for (const p of await inv.podsInCluster(s.cluster, undefined, reads)) {
      const containers = p.containers.filter((c) => c.configId === configId);
      if (containers.length) out.push({ ...p, containers });
    }
  }
  return out;
}

export async function imageQuery(inv: InventoryReader, query: ImageQuery, now: Date): Promise<ImageReport> {
  const repo = repositoryKey(query);
  const reads: ReadStats = { unreadable: 0 };
  const [pods, states] = await Promise.all([
    inv.podsRunningRepository(repo, query.tag, reads),
    inv.syncStates(),
  ]);
  const digests = [
    ...new Set(pods.flatMap((p) => p.containers.map((c) => c.digest).filter((d): d is string => !!d))),
  ];
  const firstSeen = new Map<string, string>();
  await Promise.all(
    digests.map(async (d) => {
      const earliest = (await inv.digestHistory(d, now, reads))
        .map((h) => h.firstSeen)
        .filter(Boolean)
        .sort()[0];
      if (earliest) firstSeen.set(d, earliest);
    }),
  );
  return withUnreadable(buildImageReport(repo, query.tag, pods, firstSeen, states, now), reads);
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
  const reads: ReadStats = { unreadable: 0 };
  const [pods, history] = await Promise.all([
    inv.podsInCluster(target.cluster, target.namespace, reads),
    inv.workloadHistory(target.cluster, now, target.namespace, reads),
  ]);
  const matches = (w: { kind: string; name: string }) =>
    target.workload === undefined ||
    (w.name === target.workload && (target.kind === undefined || w.kind.toLowerCase() === target.kind));
  const label = [target.cluster, target.namespace, target.kind, target.workload].filter(Boolean).join('/');
  return withUnreadable(
    buildWhereReport(
      label,
      pods.filter((p) => matches(p.workload)),
      history.filter((h) => matches(h.workload)),
      [state],
      now,
    ),
    reads,
  );
}
