/**
 * Inventory model: what runs where. The collector turns Kubernetes pods into PodRecords, the store
 * indexes them in Redis, and the queries answer /scope digest, image and where from the index.
 */

/** The workload that owns a pod, resolved through ownerReferences (Pod → ReplicaSet → Deployment, Job → CronJob, …). */
export type WorkloadRef = {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'ReplicaSet' | 'Pod' | string;
  name: string;
};

/** One container of a running pod, with the image as written and the digest actually running. */
export type ContainerRecord = {
  name: string;
  type: 'container' | 'init' | 'ephemeral';
  /** Image exactly as written in the pod spec. */
  image: string;
  /** `registry/repository` of the image, canonical (docker.io/library/nginx); undefined when unparseable. */
  repository?: string;
  tag?: string;
  /** Manifest (repo) digest actually running; undefined when the runtime only reported a config id or nothing. */
  digest?: string;
  /** Image config id when that is all the runtime reported (not comparable to manifest digests). */
  configId?: string;
  /** Raw status.imageID, kept as evidence. */
  imageID?: string;
  startedAt?: string;
  /** An init container with `restartPolicy: Always`: a native sidecar that runs beside the app. */
  sidecar?: true;
  /** Ephemeral (debug) containers: the container they were attached to (`targetContainerName`). */
  target?: string;
};

/** How a container runs in its pod, as results show it: app, init, native sidecar, or ephemeral debug container. */
export type ContainerRole = 'app' | 'init' | 'sidecar' | 'ephemeral';

export function containerRole(c: Pick<ContainerRecord, 'type' | 'sidecar'>): ContainerRole {
  if (c.type === 'ephemeral') return 'ephemeral';
  if (c.type === 'init') return c.sidecar ? 'sidecar' : 'init';
  return 'app';
}

/** A pod as the index keeps it: small, JSON-serialisable, everything the queries need. */
export type PodRecord = {
  cluster: string;
  environment: string;
  namespace: string;
  name: string;
  uid: string;
  node?: string;
  phase?: string;
  startTime?: string;
  workload: WorkloadRef;
  containers: ContainerRecord[];
};

/** Sync outcome of one cluster, reported even when (especially when) it failed. */
export type ClusterSync = {
  cluster: string;
  environment: string;
  ok: boolean;
  pods: number;
  startedAt: string;
  finishedAt: string;
  error?: string;
  errorCode?: string;
};

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** Workload identity within a cluster: `namespace|Kind/name`. */
export function workloadKey(p: { namespace: string; workload: WorkloadRef }): string {
  return `${p.namespace}|${p.workload.kind}/${p.workload.name}`;
}

/** Environments in the order results list them: production first. */
export function environmentRank(env: string): number {
  const e = env.toLowerCase();
  if (e.startsWith('prod')) return 0;
  if (e.startsWith('stag') || e === 'preprod' || e === 'uat') return 1;
  if (e.startsWith('dev') || e === 'test' || e === 'qa') return 3;
  return 2;
}

/** Where the collector writes; the Redis inventory store implements it, tests may read it back through queries. */
export type InventoryWriter = {
  /**
   * Starts a full LIST of one cluster. Each page goes to the index as it arrives (nothing holds the whole
   * list); `finish` then removes the pods this list did not see. A re-list that is never finished (the LIST
   * failed half-way) leaves the pods written so far, which are current, and removes nothing.
   */
  beginRelist(cluster: string, environment: string): ClusterRelist;
  /** Writes one pod seen by the watch; false when its record did not change (nothing written). */
  upsertPod(pod: PodRecord, at: Date): Promise<boolean>;
  removePod(cluster: string, namespace: string, name: string, at: Date): Promise<void>;
  recordSync(sync: ClusterSync): Promise<void>;
};

/** A pod whose stored record gained digests in a write: a new pod, or containers that (re)started on another image. */
export type DigestsStarted = { pod: PodRecord; digests: string[] };

/**
 * Told about every write that makes a pod run a digest it did not run before, *before* that write is stored: an
 * observer that fails (or a crash in between) leaves the old record, so the next event or re-list reports the
 * start again. Must return quickly for digests it does not care about.
 */
export type StartObserver = (started: readonly DigestsStarted[]) => Promise<void> | void;

/** One full LIST of a cluster being written page by page (mark), then swept (finish). */
export type ClusterRelist = {
  writePage(pods: readonly PodRecord[], at: Date): Promise<void>;
  /** Removes every pod of the cluster the pages did not contain; resolves with what the re-list did. */
  finish(at: Date): Promise<RelistResult>;
};

/** What one full re-list changed in the index. */
export type RelistResult = { pods: number; written: number; unchanged: number; removed: number };

/**
 * Counts what a read from the index had to leave out: stored records that are malformed (not what scope
 * writes, e.g. tampered with). Passed to the reader by the query, which tells the user in its answer.
 */
export type ReadStats = { unreadable: number };
