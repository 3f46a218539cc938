import type { HistoryEntry } from '../../store/inventory/inventory-store.ts';
import {
  type ContainerRecord,
  type ContainerRole,
  containerRole,
  type PodRecord,
  type WorkloadRef,
  workloadKey,
} from './inventory.ts';

/** One workload's use of an image: how many pods, which images as written, since when, still running or not. */
export type WorkloadUse = {
  cluster: string;
  environment: string;
  namespace: string;
  workload: WorkloadRef;
  digest: string;
  images: string[];
  containers: string[];
  /** How each container runs the image (app, init, sidecar, ephemeral); empty when only history knows the use. */
  roles: Record<string, ContainerRole>;
  /** Ephemeral (debug) containers among the uses: pod, container, the container they target, when started. */
  debug?: Array<{ pod: string; container: string; target?: string; startedAt?: string }>;
  pods: number;
  nodes: number;
  running: boolean;
  firstSeen?: string;
  lastSeen?: string;
};

/**
 * Groups pods (already narrowed to the relevant containers) into per-workload uses, keyed by the manifest
 * digest unless `idOf` picks another id (the config id, for a config-id answer).
 */
export function usesFromPods(
  pods: readonly PodRecord[],
  idOf: (c: ContainerRecord) => string | undefined = (c) => c.digest,
): WorkloadUse[] {
  const byKey = new Map<string, { use: WorkloadUse; pods: Set<string>; nodes: Set<string> }>();
  for (const p of pods) {
    for (const c of p.containers) {
      const id = idOf(c);
      if (!id) continue;
      const key = `${p.cluster}|${workloadKey(p)}|${id}`;
      let entry = byKey.get(key);
      if (!entry) {
        const use: WorkloadUse = {
          cluster: p.cluster,
          environment: p.environment,
          namespace: p.namespace,
          workload: p.workload,
          digest: id,
          images: [],
          containers: [],
          roles: {},
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
      const role = containerRole(c);
      u.roles[c.name] = role;
      if (role === 'ephemeral') {
        u.debug ??= [];
        u.debug.push({
          pod: p.name,
          container: c.name,
          ...(c.target ? { target: c.target } : {}),
          ...(c.startedAt ? { startedAt: c.startedAt } : {}),
        });
      }
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
      roles: {},
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
