import type { ClusterSyncState } from '../../jobs/status.ts';
import type { HistoryEntry } from '../../store/inventory/inventory-store.ts';
import { type ClusterCaveat, type Coverage, caveatsFor, coverageOf, dataAsOf } from './completeness.ts';
import { type ContainerRecord, environmentRank, type PodRecord, type WorkloadRef } from './inventory.ts';
import { mergeHistory, usesFromPods, type WorkloadUse } from './workload-use.ts';

export type { ClusterCaveat, Completeness, Coverage } from './completeness.ts';
export { caveatsFor, coverageOf, dataAsOf } from './completeness.ts';
export { mergeHistory, usesFromPods, type WorkloadUse } from './workload-use.ts';

/** Answer to `/scope digest`: where a digest runs and ran, grouped by environment (production first). */
export type DigestReport = {
  digest: string;
  /** `config`: the id asked about is an image config id (`docker images` IMAGE ID), matched against those. */
  idKind: 'manifest' | 'config';
  totals: { clusters: number; namespaces: number; workloads: number; pods: number };
  environments: Array<{ environment: string; earliest?: string; uses: WorkloadUse[] }>;
  caveats: ClusterCaveat[];
  dataAsOf?: string;
  /** Stored records the answer had to leave out because they were malformed (absent when none). */
  unreadable?: number;
} & Coverage;

/** Answer to `/scope image`: which digests a repository/tag runs as, and where the same tag means different bytes. */
export type ImageReport = {
  repository: string;
  tag?: string;
  tags: Array<{ tag: string; digests: Array<{ digest: string; firstSeen?: string; uses: WorkloadUse[] }> }>;
  drift: Array<{
    tag: string;
    digests: string[];
    environments: Record<string, string[]>;
    kind: 'tag' | 'environment';
  }>;
  unpinned: number;
  caveats: ClusterCaveat[];
  dataAsOf?: string;
  /** Stored records the answer had to leave out because they were malformed (absent when none). */
  unreadable?: number;
} & Coverage;

/** Answer to `/scope where`: what a cluster/namespace/workload runs now and ran before. */
export type WhereReport = {
  target: string;
  current: WorkloadUse[];
  history: WorkloadUse[];
  unknownDigest: Array<{ namespace: string; workload: WorkloadRef; image: string; configId?: string }>;
  caveats: ClusterCaveat[];
  dataAsOf?: string;
  /** Stored records the answer had to leave out because they were malformed (absent when none). */
  unreadable?: number;
} & Coverage;

function sortUses(uses: WorkloadUse[]): WorkloadUse[] {
  return uses.sort(
    (a, b) =>
      environmentRank(a.environment) - environmentRank(b.environment) ||
      a.environment.localeCompare(b.environment) ||
      a.cluster.localeCompare(b.cluster) ||
      Number(b.running) - Number(a.running) ||
      a.namespace.localeCompare(b.namespace) ||
      a.workload.name.localeCompare(b.workload.name),
  );
}

export function buildDigestReport(
  digest: string,
  pods: readonly PodRecord[],
  history: readonly HistoryEntry[],
  states: readonly ClusterSyncState[],
  now: Date,
  idKind: DigestReport['idKind'] = 'manifest',
): DigestReport {
  const byConfig = (c: ContainerRecord) => (c.configId === digest ? digest : undefined);
  const uses = sortUses(
    mergeHistory(usesFromPods(pods, idKind === 'config' ? byConfig : undefined), history),
  );
  const running = uses.filter((u) => u.running);
  const envs = new Map<string, WorkloadUse[]>();
  for (const u of uses) envs.set(u.environment, [...(envs.get(u.environment) ?? []), u]);
  const caveats = caveatsFor(states, now);
  const asOf = dataAsOf(states);
  return {
    digest,
    idKind,
    totals: {
      clusters: new Set(running.map((u) => u.cluster)).size,
      namespaces: new Set(running.map((u) => `${u.cluster}/${u.namespace}`)).size,
      workloads: running.length,
      pods: running.reduce((n, u) => n + u.pods, 0),
    },
    environments: [...envs.entries()].map(([environment, list]) => {
      const earliest = list
        .map((u) => u.firstSeen)
        .filter((x): x is string => !!x)
        .sort()[0];
      return { environment, ...(earliest ? { earliest } : {}), uses: list };
    }),
    caveats,
    ...coverageOf(states, caveats),
    ...(asOf ? { dataAsOf: asOf } : {}),
  };
}

export function buildImageReport(
  repository: string,
  tag: string | undefined,
  pods: readonly PodRecord[],
  firstSeen: ReadonlyMap<string, string>,
  states: readonly ClusterSyncState[],
  now: Date,
): ImageReport {
  const byTag = new Map<string, PodRecord[]>();
  let unpinned = 0;
  for (const p of pods) {
    for (const c of p.containers) {
      if (!c.digest) {
        unpinned++;
        continue;
      }
      const t = c.tag ?? '(digest only)';
      byTag.set(t, [...(byTag.get(t) ?? []), { ...p, containers: [c] }]);
    }
  }
  const tags: ImageReport['tags'] = [];
  const drift: ImageReport['drift'] = [];
  for (const [t, tagPods] of [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const uses = sortUses(usesFromPods(tagPods));
    const digests = [...new Set(uses.map((u) => u.digest))];
    tags.push({
      tag: t,
      digests: digests.map((d) => {
        const fs = firstSeen.get(d);
        return { digest: d, ...(fs ? { firstSeen: fs } : {}), uses: uses.filter((u) => u.digest === d) };
      }),
    });
    if (digests.length > 1 && t !== '(digest only)') {
      const environments: Record<string, string[]> = {};
      for (const u of uses)
        environments[u.environment] = [...new Set([...(environments[u.environment] ?? []), u.digest])];
      const envDigestSets = Object.values(environments).map((ds) => ds.slice().sort().join(','));
      const kind = Object.values(environments).some((ds) => ds.length > 1)
        ? 'tag'
        : new Set(envDigestSets).size > 1
          ? 'environment'
          : 'tag';
      drift.push({ tag: t, digests, environments, kind });
    }
  }
  const caveats = caveatsFor(states, now);
  const asOf = dataAsOf(states);
  return {
    repository,
    ...(tag ? { tag } : {}),
    tags,
    drift,
    unpinned,
    caveats,
    ...coverageOf(states, caveats),
    ...(asOf ? { dataAsOf: asOf } : {}),
  };
}

export function buildWhereReport(
  target: string,
  pods: readonly PodRecord[],
  history: readonly HistoryEntry[],
  states: readonly ClusterSyncState[],
  now: Date,
): WhereReport {
  const uses = sortUses(mergeHistory(usesFromPods(pods), history));
  const unknownDigest: WhereReport['unknownDigest'] = [];
  for (const p of pods) {
    for (const c of p.containers) {
      if (!c.digest) {
        unknownDigest.push({
          namespace: p.namespace,
          workload: p.workload,
          image: c.image,
          ...(c.configId ? { configId: c.configId } : {}),
        });
      }
    }
  }
  const caveats = caveatsFor(states, now);
  const asOf = dataAsOf(states);
  return {
    target,
    current: uses.filter((u) => u.running),
    history: uses
      .filter((u) => !u.running)
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '')),
    unknownDigest,
    caveats,
    ...coverageOf(states, caveats),
    ...(asOf ? { dataAsOf: asOf } : {}),
  };
}
