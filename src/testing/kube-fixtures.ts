import { createHash } from 'node:crypto';
import type { KubeObject, OwnerReference } from './fake-kube.ts';

/** One container of a fixture pod; status fields default to a healthy, running container. */
export type ContainerFixture = {
  name: string;
  image: string;
  /** Defaults to `<canonical repo>@sha256:<digest of image>` (or the pinned digest); '' while waiting. */
  imageID?: string;
  /** What the kubelet reports as `status.*ContainerStatuses[].image` (runtimes often canonicalize it). */
  statusImage?: string;
  state?: 'running' | 'waiting' | 'terminated';
  ready?: boolean;
  restartCount?: number;
  /** `Always` on an init container makes it a native sidecar (it keeps running). */
  restartPolicy?: 'Always';
};

/** An ephemeral (debug) container, as attached by `kubectl debug`. */
export type EphemeralContainerFixture = ContainerFixture & { targetContainerName?: string };

/** Pod phase values as the API reports them. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** Everything a test can vary on a fixture pod; the rest is filled in realistically and deterministically. */
export type PodFixture = {
  namespace: string;
  name: string;
  containers: ContainerFixture[];
  initContainers?: ContainerFixture[];
  ephemeralContainers?: EphemeralContainerFixture[];
  ownerReferences?: OwnerReference[];
  nodeName?: string;
  startTime?: string;
  phase?: PodPhase;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
};

/** Shared inputs of the workload-chain builders. */
export type ChainBase = {
  namespace: string;
  containers: ContainerFixture[];
  initContainers?: ContainerFixture[];
  labels?: Record<string, string>;
  startTime?: string;
  nodeName?: string;
};

/** Deployment → ReplicaSet → Pods, as the deployment controller creates them. */
export type DeploymentChainSpec = ChainBase & {
  deployment: string;
  replicaSetHash?: string;
  replicas?: number;
  revision?: number;
};

/** StatefulSet → Pods named `<name>-<ordinal>`. */
export type StatefulSetChainSpec = ChainBase & {
  statefulSet: string;
  replicas?: number;
  revisionHash?: string;
};

/** DaemonSet → one Pod per node. */
export type DaemonSetChainSpec = ChainBase & { daemonSet: string; nodes: string[]; revisionHash?: string };

/** CronJob → Job → Pod (one scheduled run). */
export type CronJobChainSpec = ChainBase & {
  cronJob: string;
  schedule?: string;
  /** The run's scheduled time; the Job name suffix is its minutes since the epoch, as the controller does. */
  scheduledTime?: string;
  podPhase?: PodPhase;
};

/** Bare Job → Pods (no CronJob). */
export type JobChainSpec = ChainBase & { job: string; completions?: number; podPhase?: PodPhase };

/** Any single workload chain, discriminated by the top-level kind. */
export type WorkloadChainSpec =
  | ({ kind: 'Deployment' } & DeploymentChainSpec)
  | ({ kind: 'StatefulSet' } & StatefulSetChainSpec)
  | ({ kind: 'DaemonSet' } & DaemonSetChainSpec)
  | ({ kind: 'CronJob' } & CronJobChainSpec)
  | ({ kind: 'Job' } & JobChainSpec);

/** The objects of one chain: `top` is the user-facing workload, `objects` is everything in load order. */
export type WorkloadChain = {
  top: KubeObject;
  intermediate: KubeObject | undefined;
  pods: KubeObject[];
  objects: KubeObject[];
};

/** Inputs for a synthetic fleet of Deployments sized for benchmarks. */
export type FleetSpec = {
  pods: number;
  namespaces?: number;
  podsPerDeployment?: number;
  /** Image references to spread over the fleet (round-robin per deployment). */
  images?: string[];
  /** Distinguishes fleets (e.g. per cluster) so uids and names differ. */
  seed?: string;
};

export const DEFAULT_START_TIME = '2025-01-01T00:00:00Z';
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** `sha256:<hex>` derived from a seed, so fixtures have stable, realistic digests. */
export function fakeDigest(seed: string): string {
  return `sha256:${sha256Hex(seed)}`;
}

/** Deterministic UUID-shaped uid for (kind, namespace, name). */
export function fixtureUid(kind: string, namespace: string, name: string): string {
  const h = createHash('sha1').update(`${kind}/${namespace}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function suffix(seed: string, length: number): string {
  const h = createHash('sha1').update(seed).digest();
  let s = '';
  for (let i = 0; i < length; i++) s += SUFFIX_ALPHABET[h[i]! % SUFFIX_ALPHABET.length];
  return s;
}

/** Fully qualified repository the runtime reports for an image reference (`nginx:1` → `docker.io/library/nginx`). */
export function canonicalRepo(image: string): string {
  let ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const first = ref.split('/')[0]!;
  const hasRegistry =
    ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** The imageID a kubelet would report for `image`: the pinned digest if any, else a stable fake one. */
export function defaultImageID(image: string): string {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : fakeDigest(image);
  return `${canonicalRepo(image)}@${digest}`;
}

function ownerRef(obj: KubeObject): OwnerReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    uid: obj.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function containerSpec(c: ContainerFixture): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    name: c.name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  if (c.restartPolicy) spec.restartPolicy = c.restartPolicy;
  return spec;
}

function containerStatus(
  c: ContainerFixture,
  podKey: string,
  startedAt: string,
  fallback: 'running' | 'waiting' | 'terminated',
): Record<string, unknown> {
  const state = c.state ?? fallback;
  const containerID = `containerd://${sha256Hex(`${podKey}/${c.name}`)}`;
  const base: Record<string, unknown> = {
    name: c.name,
    image: c.statusImage ?? c.image,
    imageID: c.imageID ?? (state === 'waiting' ? '' : defaultImageID(c.image)),
    restartCount: c.restartCount ?? 0,
  };
  if (state === 'running') {
    return {
      ...base,
      ready: c.ready ?? true,
      started: true,
      containerID,
      state: { running: { startedAt } },
    };
  }
  if (state === 'terminated') {
    return {
      ...base,
      ready: c.ready ?? false,
      started: false,
      containerID,
      state: {
        terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt, containerID },
      },
    };
  }
  return {
    ...base,
    ready: c.ready ?? false,
    started: false,
    state: {
      waiting: {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${c.image}"`,
      },
    },
  };
}

/** A v1 Pod with spec and kubelet-style status for every container list (regular, init, ephemeral). */
export function makePod(p: PodFixture): KubeObject {
  const startTime = p.startTime ?? DEFAULT_START_TIME;
  const phase = p.phase ?? 'Running';
  const podKey = `${p.namespace}/${p.name}`;
  const mainState = phase === 'Running' ? 'running' : phase === 'Pending' ? 'waiting' : 'terminated';
  const initState = phase === 'Pending' ? 'waiting' : 'terminated';
  const statuses = p.containers.map((c) => containerStatus(c, podKey, startTime, mainState));
  const ready = phase === 'Running' && statuses.every((s) => s.ready === true);
  const cond = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: startTime,
  });
  const spec: Record<string, unknown> = {
    containers: p.containers.map(containerSpec),
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: p.serviceAccountName ?? 'default',
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
  };
  if (p.nodeName) spec.nodeName = p.nodeName;
  if (p.imagePullSecrets) spec.imagePullSecrets = p.imagePullSecrets.map((name) => ({ name }));
  const status: Record<string, unknown> = {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', phase !== 'Pending'),
      cond('Initialized', phase !== 'Pending'),
      cond('Ready', ready),
      cond('ContainersReady', ready),
      cond('PodScheduled', p.nodeName !== undefined || phase !== 'Pending'),
    ],
    qosClass: 'BestEffort',
    startTime,
    containerStatuses: statuses,
  };
  if (p.initContainers && p.initContainers.length > 0) {
    spec.initContainers = p.initContainers.map(containerSpec);
    status.initContainerStatuses = p.initContainers.map((c) =>
      containerStatus(c, podKey, startTime, c.restartPolicy === 'Always' ? mainState : initState),
    );
  }
  if (p.ephemeralContainers && p.ephemeralContainers.length > 0) {
    spec.ephemeralContainers = p.ephemeralContainers.map((c) => {
      const s: Record<string, unknown> = {
        name: c.name,
        image: c.image,
        imagePullPolicy: 'IfNotPresent',
        resources: {},
        terminationMessagePolicy: 'File',
        stdin: true,
        tty: true,
      };
      if (c.targetContainerName) s.targetContainerName = c.targetContainerName;
      return s;
    });
    status.ephemeralContainerStatuses = p.ephemeralContainers.map((c) =>
      containerStatus(c, podKey, startTime, 'running'),
    );
  }
  const metadata: KubeObject['metadata'] = {
    name: p.name,
    namespace: p.namespace,
    uid: p.uid ?? fixtureUid('Pod', p.namespace, p.name),
    creationTimestamp: startTime,
  };
  if (p.labels) metadata.labels = p.labels;
  if (p.annotations) metadata.annotations = p.annotations;
  if (p.ownerReferences) metadata.ownerReferences = p.ownerReferences;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status };
}

/** A v1 Namespace. */
export function makeNamespace(name: string, labels?: Record<string, string>): KubeObject {
  const metadata: KubeObject['metadata'] = {
    name,
    uid: fixtureUid('Namespace', '', name),
    creationTimestamp: DEFAULT_START_TIME,
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
  };
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata,
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function podTemplate(base: ChainBase, labels: Record<string, string>): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    containers: base.containers.map(containerSpec),
    restartPolicy: 'Always',
  };
  if (base.initContainers) spec.initContainers = base.initContainers.map(containerSpec);
  return { metadata: { labels }, spec };
}

function workload(
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  extra: {
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    startTime?: string;
  } = {},
): KubeObject {
  const metadata: KubeObject['metadata'] = {
    name,
    namespace,
    uid: fixtureUid(kind, namespace, name),
    creationTimestamp: extra.startTime ?? DEFAULT_START_TIME,
    generation: 1,
    labels,
  };
  if (extra.annotations) metadata.annotations = extra.annotations;
  if (extra.ownerReferences) metadata.ownerReferences = extra.ownerReferences;
  return { apiVersion, kind, metadata, spec, status };
}

function chainPod(
  base: ChainBase,
  name: string,
  labels: Record<string, string>,
  owner: KubeObject,
  extra: { nodeName?: string; phase?: PodPhase } = {},
): KubeObject {
  const fixture: PodFixture = {
    namespace: base.namespace,
    name,
    containers: base.containers,
    labels,
    ownerReferences: [ownerRef(owner)],
  };
  if (base.initContainers) fixture.initContainers = base.initContainers;
  if (base.startTime) fixture.startTime = base.startTime;
  const node = extra.nodeName ?? base.nodeName;
  if (node) fixture.nodeName = node;
  if (extra.phase) fixture.phase = extra.phase;
  return makePod(fixture);
}

/** Deployment → ReplicaSet `<deploy>-<hash>` → Pods `<deploy>-<hash>-<xxxxx>`, with controller ownerReferences. */
export function makeDeploymentChain(
  s: DeploymentChainSpec,
): WorkloadChain & { deployment: KubeObject; replicaSet: KubeObject } {
  const replicas = s.replicas ?? 1;
  const hash = s.replicaSetHash ?? suffix(`${s.namespace}/${s.deployment}/rs`, 10);
  const selector = { app: s.deployment };
  const labels = { ...selector, ...s.labels };
  const revision = String(s.revision ?? 1);
  const st = s.startTime ? { startTime: s.startTime } : {};
  const counts = { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 };
  const deployment = workload(
    'apps/v1',
    'Deployment',
    s.namespace,
    s.deployment,
    labels,
    {
      replicas,
      selector: { matchLabels: selector },
      template: podTemplate(s, labels),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    { ...counts, updatedReplicas: replicas },
    { annotations: { 'deployment.kubernetes.io/revision': revision }, ...st },
  );
  const rsLabels = { ...labels, 'pod-template-hash': hash };
  const replicaSet = workload(
    'apps/v1',
    'ReplicaSet',
    s.namespace,
    `${s.deployment}-${hash}`,
    rsLabels,
    {
      replicas,
      selector: { matchLabels: { ...selector, 'pod-template-hash': hash } },
      template: podTemplate(s, rsLabels),
    },
    { ...counts, fullyLabeledReplicas: replicas },
    {
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(replicas),
        'deployment.kubernetes.io/max-replicas': String(replicas + Math.ceil(replicas / 4)),
        'deployment.kubernetes.io/revision': revision,
      },
      ownerReferences: [ownerRef(deployment)],
      ...st,
    },
  );
  const pods: KubeObject[] = [];
  for (let i = 0; i < replicas; i++) {
    const name = `${replicaSet.metadata.name}-${suffix(`${s.namespace}/${replicaSet.metadata.name}/${i}`, 5)}`;
    pods.push(chainPod(s, name, rsLabels, replicaSet));
  }
  return {
    top: deployment,
    intermediate: replicaSet,
    deployment,
    replicaSet,
    pods,
    objects: [deployment, replicaSet, ...pods],
  };
}

/** StatefulSet → Pods `<name>-0..n-1`. */
export function makeStatefulSetChain(s: StatefulSetChainSpec): WorkloadChain & { statefulSet: KubeObject } {
  const replicas = s.replicas ?? 1;
  const hash = s.revisionHash ?? suffix(`${s.namespace}/${s.statefulSet}/rev`, 10);
  const selector = { app: s.statefulSet };
  const labels = { ...selector, ...s.labels };
  const revision = `${s.statefulSet}-${hash}`;
  const statefulSet = workload(
    'apps/v1',
    'StatefulSet',
    s.namespace,
    s.statefulSet,
    labels,
    {
      replicas,
      selector: { matchLabels: selector },
      serviceName: s.statefulSet,
      template: podTemplate(s, labels),
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    },
    {
      replicas,
      readyReplicas: replicas,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      availableReplicas: replicas,
      currentRevision: revision,
      updateRevision: revision,
      observedGeneration: 1,
    },
    s.startTime ? { startTime: s.startTime } : {},
  );
  const pods: KubeObject[] = [];
  for (let i = 0; i < replicas; i++) {
    const name = `${s.statefulSet}-${i}`;
    const podLabels = {
      ...labels,
      'apps.kubernetes.io/pod-index': String(i),
      'controller-revision-hash': revision,
      'statefulset.kubernetes.io/pod-name': name,
    };
    pods.push(chainPod(s, name, podLabels, statefulSet));
  }
  return { top: statefulSet, intermediate: undefined, statefulSet, pods, objects: [statefulSet, ...pods] };
}

/** DaemonSet → one Pod per node (with `spec.nodeName`). */
export function makeDaemonSetChain(s: DaemonSetChainSpec): WorkloadChain & { daemonSet: KubeObject } {
  const hash = s.revisionHash ?? suffix(`${s.namespace}/${s.daemonSet}/rev`, 10);
  const selector = { app: s.daemonSet };
  const labels = { ...selector, ...s.labels };
  const n = s.nodes.length;
  const daemonSet = workload(
    'apps/v1',
    'DaemonSet',
    s.namespace,
    s.daemonSet,
    labels,
    {
      selector: { matchLabels: selector },
      template: podTemplate(s, labels),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
    {
      currentNumberScheduled: n,
      desiredNumberScheduled: n,
      numberAvailable: n,
      numberReady: n,
      numberMisscheduled: 0,
      updatedNumberScheduled: n,
      observedGeneration: 1,
    },
    s.startTime ? { startTime: s.startTime } : {},
  );
  const podLabels = { ...labels, 'controller-revision-hash': hash, 'pod-template-generation': '1' };
  const pods = s.nodes.map((node) =>
    chainPod(
      s,
      `${s.daemonSet}-${suffix(`${s.namespace}/${s.daemonSet}/${node}`, 5)}`,
      podLabels,
      daemonSet,
      {
        nodeName: node,
      },
    ),
  );
  return { top: daemonSet, intermediate: undefined, daemonSet, pods, objects: [daemonSet, ...pods] };
}

function jobObject(
  s: ChainBase,
  name: string,
  completions: number,
  phase: PodPhase,
  owner: KubeObject | undefined,
  extraLabels: Record<string, string>,
): { job: KubeObject; pods: KubeObject[] } {
  const uid = fixtureUid('Job', s.namespace, name);
  const jobLabels = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  const templateLabels = { ...s.labels, ...jobLabels };
  const succeeded = phase === 'Succeeded' ? completions : 0;
  const template = podTemplate(s, templateLabels);
  (template.spec as Record<string, unknown>).restartPolicy = 'OnFailure';
  const status: Record<string, unknown> = {
    startTime: s.startTime ?? DEFAULT_START_TIME,
    active: phase === 'Running' || phase === 'Pending' ? completions : 0,
    succeeded,
    ready: phase === 'Running' ? completions : 0,
  };
  if (phase === 'Succeeded') status.completionTime = s.startTime ?? DEFAULT_START_TIME;
  const extra: { ownerReferences?: OwnerReference[]; startTime?: string } = {};
  if (owner) extra.ownerReferences = [ownerRef(owner)];
  if (s.startTime) extra.startTime = s.startTime;
  const job = workload(
    'batch/v1',
    'Job',
    s.namespace,
    name,
    { ...extraLabels, ...s.labels, ...jobLabels },
    {
      parallelism: 1,
      completions,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      suspend: false,
      template,
    },
    status,
    extra,
  );
  const pods: KubeObject[] = [];
  for (let i = 0; i < completions; i++) {
    pods.push(
      chainPod(s, `${name}-${suffix(`${s.namespace}/${name}/${i}`, 5)}`, templateLabels, job, { phase }),
    );
  }
  return { job, pods };
}

/** Job → Pods, without a CronJob. */
export function makeJobChain(s: JobChainSpec): WorkloadChain & { job: KubeObject } {
  const { job, pods } = jobObject(s, s.job, s.completions ?? 1, s.podPhase ?? 'Running', undefined, {});
  return { top: job, intermediate: undefined, job, pods, objects: [job, ...pods] };
}

/** CronJob → Job `<cron>-<minutes since epoch>` → Pod. */
export function makeCronJobChain(
  s: CronJobChainSpec,
): WorkloadChain & { cronJob: KubeObject; job: KubeObject } {
  const scheduled = s.scheduledTime ?? s.startTime ?? DEFAULT_START_TIME;
  const minutes = Math.floor(Date.parse(scheduled) / 60_000);
  const cronJob = workload(
    'batch/v1',
    'CronJob',
    s.namespace,
    s.cronJob,
    { ...s.labels },
    {
      schedule: s.schedule ?? '*/5 * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: {}, spec: { template: podTemplate(s, { ...s.labels }) } },
    },
    { lastScheduleTime: scheduled },
    s.startTime ? { startTime: s.startTime } : {},
  );
  const phase = s.podPhase ?? 'Running';
  const { job, pods } = jobObject(s, `${s.cronJob}-${minutes}`, 1, phase, cronJob, {});
  if (phase === 'Running')
    (cronJob.status as Record<string, unknown>).active = [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: job.metadata.name,
        namespace: s.namespace,
        uid: job.metadata.uid,
      },
    ];
  return { top: cronJob, intermediate: job, cronJob, job, pods, objects: [cronJob, job, ...pods] };
}

/** Dispatches to the builder for `spec.kind`. */
export function makeWorkloadChain(spec: WorkloadChainSpec): WorkloadChain {
  switch (spec.kind) {
    case 'Deployment':
      return makeDeploymentChain(spec);
    case 'StatefulSet':
      return makeStatefulSetChain(spec);
    case 'DaemonSet':
      return makeDaemonSetChain(spec);
    case 'CronJob':
      return makeCronJobChain(spec);
    case 'Job':
      return makeJobChain(spec);
  }
}

/**
 * A deterministic fleet of Deployments (and their namespaces) totalling `pods` pods, for benchmarks.
 * Returns objects ready for `FakeKube.load`.
 */
export function makeFleet(spec: FleetSpec): KubeObject[] {
  const seed = spec.seed ?? 'fleet';
  const nsCount = Math.max(1, spec.namespaces ?? 20);
  const perDeploy = Math.max(1, spec.podsPerDeployment ?? 5);
  const images = spec.images ?? [
    'nginx:1.27',
    'ghcr.io/acme/api:2.3.1',
    'registry.k8s.io/pause:3.10',
    'quay.io/prometheus/node-exporter:v1.8.2',
  ];
  const out: KubeObject[] = [];
  for (let i = 0; i < nsCount; i++) out.push(makeNamespace(`${seed}-ns-${i}`));
  let remaining = spec.pods;
  let d = 0;
  while (remaining > 0) {
    const replicas = Math.min(perDeploy, remaining);
    const image = images[d % images.length]!;
    const chain = makeDeploymentChain({
      namespace: `${seed}-ns-${d % nsCount}`,
      deployment: `${seed}-app-${d}`,
      replicas,
      containers: [
        { name: 'app', image },
        { name: 'sidecar', image: images[(d + 1) % images.length]! },
      ],
    });
    out.push(...chain.objects);
    remaining -= replicas;
    d += 1;
  }
  return out;
}
