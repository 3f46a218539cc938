import type { ClusterSyncState } from '../../jobs/status.ts';
import type { HistoryEntry } from '../../store/inventory/inventory-store.ts';
import { environmentRank, type PodRecord, type WorkloadRef, workloadKey } from './inventory.ts';

/** One workload's use of an image: how many pods, which images as written, since when, still running or not. */
export type WorkloadUse = {
  cluster: string;
  environment: string;
  namespace: string;
  workload: WorkloadRef;
  digest: string;
  images: string[];
  containers: string[];
  pods: number;
  nodes: number;
  running: boolean;
  firstSeen?: string;
  lastSeen?: string;
};

/** A cluster whose answer may be incomplete: never synced, failing, or not synced recently. */
export type ClusterCaveat = {
  cluster: string;
  environment: string;
  state: ClusterSyncState['state'] | 'stale';
  lastSuccessAt?: string;
  lastError?: string;
};

/** Answer to `/scope digest`: where a digest runs and ran, grouped by environment (production first). */
export type DigestReport = {
  digest: string;
  totals: { clusters: number; namespaces: number; workloads: number; pods: number };
  environments: Array<{ environment: string; earliest?: string; uses: WorkloadUse[] }>;
  caveats: ClusterCaveat[];
  dataAsOf?: string;
  /** Stored records the answer had to leave out because they were malformed (absent when none). */
  unreadable?: number;
};

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
};

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
};

const STALE_AFTER_MS = 2 * 3600 * 1000;

/** Groups pods (already narrowed to the relevant containers) into per-workload uses. */
export function usesFromPods(pods: readonly PodRecord[]): WorkloadUse[] {
  const byKey = new Map<string, { use: WorkloadUse; pods: Set<string>; nodes: Set<string> }>();
  for (const p of pods) {
    for (const c of p.containers) {
      if (!c.digest) continue;
      const key = `${p.cluster}|${workloadKey(p)}|${c.digest}`;
      let entry = byKey.get(key);
      if (!entry) {
        const use: WorkloadUse = {
          cluster: p.cluster,
          environment: p.environment,
          namespace: p.namespace,
          workload: p.workload,
          digest: c.digest,
          images: [],
          containers: [],
          pods: 0,
          nodes: 0,
          running: true,
        };
        entry = { use, pods: new Set(), nodes: new Set() };
        byKey.set(key, entry);
      }
      const u = entry.use;
      if (!u.images.includes(c.image)) u.images.push(c.image);
      if (!u.containers.includes(c.name)) u.containers.push(c.name);
      entry.pods.add(p.name);
      if (p.node) entry.nodes.add(p.node);
      const since = c.startedAt ?? p.startTime;
      if (since && (!u.firstSeen || since < u.firstSeen)) u.firstSeen = since;
    }
  }
  return [...byKey.values()].map(({ use, pods: podSet, nodes }) => ({
    ...use,
    pods: podSet.size,
    nodes: nodes.size,
  }));
}

/** Adds history: first-seen from the index wins over pod start times; workloads that ran only earlier are added. */
export function mergeHistory(uses: WorkloadUse[], history: readonly HistoryEntry[]): WorkloadUse[] {
  const key = (u: { cluster: string; namespace: string; workload: WorkloadRef; digest: string }) =>
    `${u.cluster}|${u.namespace}|${u.workload.kind}/${u.workload.name}|${u.digest}`;
  const byKey = new Map(uses.map((u) => [key(u), u]));
  for (const h of history) {
    const u = byKey.get(key(h));
    if (u) {
      if (h.firstSeen && (!u.firstSeen || h.firstSeen < u.firstSeen)) u.firstSeen = h.firstSeen;
      continue;
    }
    byKey.set(key(h), {
      cluster: h.cluster,
      environment: h.environment,
      namespace: h.namespace,
      workload: h.workload,
      digest: h.digest,
      images: h.image ? [h.image] : [],
      containers: [],
      pods: 0,
      nodes: 0,
      // Not among the pods running now: whatever the history index last said, it does not run now.
      running: false,
      firstSeen: h.firstSeen,
      ...(h.lastSeen ? { lastSeen: h.lastSeen } : {}),
    });
  }
  return [...byKey.values()];
}

export function caveatsFor(states: readonly ClusterSyncState[], now: Date): ClusterCaveat[] {
  const out: ClusterCaveat[] = [];
  for (const s of states) {
    const base = {
      cluster: s.cluster,
      environment: s.environment,
      ...(s.lastSuccessAt ? { lastSuccessAt: s.lastSuccessAt } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
    };
    if (s.state !== 'ok') out.push({ ...base, state: s.state });
    else if (s.lastSuccessAt && now.getTime() - Date.parse(s.lastSuccessAt) > STALE_AFTER_MS) {
      out.push({ ...base, state: 'stale' });
    }
  }
  return out;
}

/** Oldest successful sync among clusters that answered: the age of the data the answer rests on. */
export function dataAsOf(states: readonly ClusterSyncState[]): string | undefined {
  const times = states
    .filter((s) => s.state === 'ok' && s.lastSuccessAt)
    .map((s) => s.lastSuccessAt as string);
  return times.length ? times.sort()[0] : undefined;
}

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
): DigestReport {
  const uses = sortUses(mergeHistory(usesFromPods(pods), history));
  const running = uses.filter((u) => u.running);
  const envs = new Map<string, WorkloadUse[]>();
  for (const u of uses) envs.set(u.environment, [...(envs.get(u.environment) ?? []), u]);
  const asOf = dataAsOf(states);
  return {
    digest,
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
    caveats: caveatsFor(states, now),
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
  const asOf = dataAsOf(states);
  return {
    repository,
    ...(tag ? { tag } : {}),
    tags,
    drift,
    unpinned,
    caveats: caveatsFor(states, now),
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
  const asOf = dataAsOf(states);
  return {
    target,
    current: uses.filter((u) => u.running),
    history: uses
      .filter((u) => !u.running)
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '')),
    unknownDigest,
    caveats: caveatsFor(states, now),
    ...(asOf ? { dataAsOf: asOf } : {}),
  };
}
