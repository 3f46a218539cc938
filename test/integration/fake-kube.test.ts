import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RequestContext, ResponseContext } from '@kubernetes/client-node';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeKube, KubeObject } from '../../src/testing/fake-kube.ts';
import { multiKubeconfigYaml, startFakeKube, writeMultiKubeconfig } from '../../src/testing/fake-kube.ts';
import {
  defaultImageID,
  makeCronJobChain,
  makeDaemonSetChain,
  makeDeploymentChain,
  makeFleet,
  makePod,
  makeStatefulSetChain,
} from '../../src/testing/kube-fixtures.ts';

const execFileP = promisify(execFile);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

function kubeConfigFor(fake: FakeKube, token?: string): KubeConfig {
  const kc = new KubeConfig();
  const yaml = fake.kubeconfigYaml();
  kc.loadFromString(
    token === undefined ? yaml : yaml.replace(JSON.stringify(fake.token), JSON.stringify(token)),
  );
  return kc;
}

function numberedPods(count: number, namespaces: number): KubeObject[] {
  const pods: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const name = `pod-${String(i).padStart(5, '0')}`;
    pods.push(
      makePod({
        namespace: `ns-${i % namespaces}`,
        name,
        containers: [{ name: 'app', image: `ghcr.io/acme/app-${i % 7}:1.0.${i % 3}` }],
      }),
    );
  }
  return pods;
}

/** ConfigurationOptions that abort the call after `ms` (client-node has no per-call timeout of its own). */
function abortAfter(ms: number) {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
}

/** client-node 2.0.1 puts the raw response text (not parsed JSON) in ApiException.body, except for 401 (undefined). */
function statusBody(err: unknown): {
  kind?: string;
  reason?: string;
  code?: number;
  metadata?: { continue?: string };
} {
  const body = (err as ApiException<unknown>).body;
  return typeof body === 'string' ? JSON.parse(body) : {};
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

type SeenEvent = {
  type: string;
  obj: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
};

function startWatch(
  kc: KubeConfig,
  path: string,
  params: Record<string, string | number | boolean | undefined>,
): { events: SeenEvent[]; done: Promise<unknown>; controller: Promise<AbortController> } {
  const events: SeenEvent[] = [];
  let resolveDone: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((r) => {
    resolveDone = r;
  });
  const controller = new Watch(kc).watch(
    path,
    params,
    (type, obj) => {
      events.push({ type, obj: obj as SeenEvent['obj'] });
    },
    (err) => resolveDone(err ?? null),
  );
  return { events, done, controller };
}

describe('fake kube API server', () => {
  let alpha: FakeKube;
  let beta: FakeKube;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-kube-'));
    alpha = await startFakeKube({ name: 'alpha' });
    beta = await startFakeKube({ name: 'beta' });
  });

  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    alpha.clearFaults();
    beta.clearFaults();
  });

  it('pages through 1,234 pods with limit 500 and continue tokens via client-node', async () => {
    const fake = await startFakeKube({ name: 'paging' });
    try {
      fake.load(numberedPods(1234, 9));
      const core = kubeConfigFor(fake).makeApiClient(CoreV1Api);
      const pages: number[] = [];
      const names: string[] = [];
      const rvs = new Set<string | undefined>();
      let cont: string | undefined;
      let firstRemaining: number | undefined;
      do {
        const page = await core.listPodForAllNamespaces({ limit: 500, _continue: cont });
        pages.push(page.items.length);
        if (pages.length === 1) firstRemaining = page.metadata?.remainingItemCount;
        rvs.add(page.metadata?.resourceVersion);
        for (const p of page.items) names.push(`${p.metadata?.namespace}/${p.metadata?.name}`);
        cont = page.metadata?._continue;
      } while (cont);

      expect(pages).toEqual([500, 500, 234]);
      expect(firstRemaining).toBe(734);
      expect(new Set(names).size).toBe(1234);
      const sorted = [...names].sort((a, b) => {
        const [an, ax] = a.split('/') as [string, string];
        const [bn, bx] = b.split('/') as [string, string];
        return an === bn ? (ax < bx ? -1 : 1) : an < bn ? -1 : 1;
      });
      expect(names).toEqual(sorted);
      expect(rvs.size).toBe(1);
      const listCalls = fake.requests.filter((r) => r.path === '/api/v1/pods');
      expect(listCalls.map((r) => [r.query.limit, r.query.continue !== undefined])).toEqual([
        ['500', false],
        ['500', true],
        ['500', true],
      ]);

      const ns3 = await core.listNamespacedPod({ namespace: 'ns-3', limit: 50 });
      expect(ns3.items).toHaveLength(50);
      expect(ns3.items.every((p) => p.metadata?.namespace === 'ns-3')).toBe(true);
      expect(ns3.metadata?.remainingItemCount).toBe(137 - 50);
    } finally {
      await fake.close();
    }
  });

  it('answers 410 Expired for a continue token whose snapshot was compacted', async () => {
    const fake = await startFakeKube({ name: 'expiry' });
    try {
      fake.load(numberedPods(30, 2));
      const core = kubeConfigFor(fake).makeApiClient(CoreV1Api);
      const first = await core.listPodForAllNamespaces({ limit: 10 });
      expect(first.metadata?._continue).toBeTruthy();
      fake.create(
        makePod({ namespace: 'ns-0', name: 'late', containers: [{ name: 'c', image: 'busybox:1' }] }),
      );
      fake.compact();
      const err = await core
        .listPodForAllNamespaces({ limit: 10, _continue: first.metadata?._continue })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ApiException);
      expect((err as ApiException<unknown>).code).toBe(410);
      expect(typeof (err as ApiException<unknown>).body).toBe('string');
      expect(statusBody(err).reason).toBe('Expired');
      expect(statusBody(err).metadata?.continue).toBeTruthy();
    } finally {
      await fake.close();
    }
  });

  it('serves apps/v1 and batch/v1 lists with workload chains whose ownerReferences resolve', async () => {
    const dep = makeDeploymentChain({
      namespace: 'shop',
      deployment: 'web',
      replicaSetHash: '5d9c8b7f6d',
      replicas: 3,
      containers: [{ name: 'web', image: 'nginx:1.27' }],
      initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:4' }],
    });
    const sts = makeStatefulSetChain({
      namespace: 'shop',
      statefulSet: 'db',
      replicas: 2,
      containers: [{ name: 'pg', image: 'postgres:16' }],
    });
    const ds = makeDaemonSetChain({
      namespace: 'kube-system',
      daemonSet: 'node-agent',
      nodes: ['node-a', 'node-b'],
      containers: [{ name: 'agent', image: 'quay.io/acme/agent:2' }],
    });
    const cron = makeCronJobChain({
      namespace: 'batch',
      cronJob: 'nightly',
      scheduledTime: '2025-03-01T02:00:00Z',
      containers: [{ name: 'job', image: 'ghcr.io/acme/report@sha256:'.concat('ab'.repeat(32)) }],
    });
    alpha.load([...dep.objects, ...sts.objects, ...ds.objects, ...cron.objects]);

    const kc = kubeConfigFor(alpha);
    const apps = kc.makeApiClient(AppsV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    const core = kc.makeApiClient(CoreV1Api);

    const deployments = await apps.listDeploymentForAllNamespaces();
    expect(deployments.kind).toBe('DeploymentList');
    expect(deployments.items.map((d) => d.metadata?.name)).toEqual(['web']);
    expect(deployments.items[0]?.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.27');
    expect((await apps.listStatefulSetForAllNamespaces()).items.map((s) => s.metadata?.name)).toEqual(['db']);
    expect((await apps.listDaemonSetForAllNamespaces()).items.map((s) => s.metadata?.name)).toEqual([
      'node-agent',
    ]);

    const cronJobs = await batch.listCronJobForAllNamespaces();
    expect(cronJobs.items.map((c) => c.metadata?.name)).toEqual(['nightly']);
    const jobs = await batch.listJobForAllNamespaces();
    expect(jobs.items.map((j) => j.metadata?.name)).toEqual([
      `nightly-${Date.parse('2025-03-01T02:00:00Z') / 60_000}`,
    ]);
    expect(jobs.items[0]?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'CronJob',
      name: 'nightly',
      uid: cronJobs.items[0]?.metadata?.uid,
      controller: true,
    });

    const webPods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
    expect(webPods.items).toHaveLength(3);
    const pod = webPods.items[0]!;
    expect(pod.metadata?.name).toMatch(/^web-5d9c8b7f6d-[a-z0-9]{5}$/);
    const podOwner = pod.metadata?.ownerReferences?.[0];
    expect(podOwner).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web-5d9c8b7f6d',
      controller: true,
    });
    const rs = await apps.readNamespacedReplicaSet({ namespace: 'shop', name: podOwner!.name });
    expect(rs.metadata?.uid).toBe(podOwner?.uid);
    expect(rs.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      uid: deployments.items[0]?.metadata?.uid,
    });
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({
      name: 'web',
      image: 'nginx:1.27',
      imageID: defaultImageID('nginx:1.27'),
      ready: true,
    });
    expect(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
    expect(pod.status?.initContainerStatuses?.[0]).toMatchObject({
      name: 'migrate',
      state: { terminated: { reason: 'Completed' } },
    });

    const cronPod = (await core.listNamespacedPod({ namespace: 'batch' })).items[0];
    expect(cronPod?.status?.containerStatuses?.[0]?.imageID).toBe(
      `ghcr.io/acme/report@sha256:${'ab'.repeat(32)}`,
    );
    const agents = await core.listNamespacedPod({
      namespace: 'kube-system',
      fieldSelector: 'spec.nodeName=node-b',
    });
    expect(agents.items.map((p) => p.spec?.nodeName)).toEqual(['node-b']);
  });

  it('streams live ADDED/MODIFIED/DELETED and bookmarks to a client-node Watch', async () => {
    const kc = kubeConfigFor(beta);
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listPodForAllNamespaces();
    const rv = list.metadata?.resourceVersion;
    expect(rv).toBeTruthy();

    const w = startWatch(kc, '/api/v1/pods', { resourceVersion: rv, allowWatchBookmarks: true });
    const controller = await w.controller;
    await waitFor(() => beta.activeWatches === 1);

    const pod = makePod({ namespace: 'live', name: 'p1', containers: [{ name: 'c', image: 'redis:7' }] });
    beta.create(pod);
    const stored = beta.get('v1', 'Pod', 'live', 'p1')!;
    stored.metadata.labels = { touched: 'yes' };
    beta.update(stored);
    beta.sendBookmark();
    beta.remove('v1', 'Pod', 'live', 'p1');

    await waitFor(() => w.events.length >= 4);
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'DELETED']);
    expect(w.events.filter((e) => e.type !== 'BOOKMARK').every((e) => e.obj.metadata?.name === 'p1')).toBe(
      true,
    );
    const versions = w.events.map((e) => Number(e.obj.metadata?.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBeGreaterThan(Number(rv));
    expect(w.events[3]?.obj.metadata?.resourceVersion).toBe(beta.resourceVersion);

    controller.abort();
    await w.done;
    await waitFor(() => beta.activeWatches === 0);
  });

  it('replays history for a watch started from an older resourceVersion and honours timeoutSeconds', async () => {
    const kc = kubeConfigFor(beta);
    const from = beta.resourceVersion;
    beta.create(makePod({ namespace: 'replay', name: 'a', containers: [{ name: 'c', image: 'redis:7' }] }));
    beta.create(makePod({ namespace: 'other', name: 'b', containers: [{ name: 'c', image: 'redis:7' }] }));
    const w = startWatch(kc, '/api/v1/namespaces/replay/pods', { resourceVersion: from, timeoutSeconds: 1 });
    const err = await w.done;
    expect(err).toBeNull();
    expect(w.events.map((e) => [e.type, e.obj.metadata?.name])).toEqual([['ADDED', 'a']]);
  });

  it('sends a 410 Expired ERROR event to a watch from a compacted resourceVersion', async () => {
    const kc = kubeConfigFor(beta);
    const old = beta.resourceVersion;
    beta.create(makePod({ namespace: 'gone', name: 'x', containers: [{ name: 'c', image: 'redis:7' }] }));
    beta.compact();
    const w = startWatch(kc, '/api/v1/pods', { resourceVersion: old, allowWatchBookmarks: true });
    await w.done;
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.type).toBe('ERROR');
    expect(w.events[0]?.obj).toMatchObject({ code: 410, reason: 'Expired' });

    const current = startWatch(kc, '/api/v1/pods', {
      resourceVersion: beta.resourceVersion,
      timeoutSeconds: 1,
    });
    await current.done;
    expect(current.events).toEqual([]);
  });

  it('applies merge, JSON and strategic merge patches to a Deployment and bumps resourceVersion', async () => {
    const chain = makeDeploymentChain({
      namespace: 'patching',
      deployment: 'api',
      replicas: 4,
      containers: [
        { name: 'api', image: 'ghcr.io/acme/api:1' },
        { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
      ],
    });
    alpha.load(chain.objects);
    const apps = kubeConfigFor(alpha).makeApiClient(AppsV1Api);
    const before = alpha.get('apps/v1', 'Deployment', 'patching', 'api')!;

    const merged = await apps.patchNamespacedDeployment(
      {
        namespace: 'patching',
        name: 'api',
        body: { spec: { replicas: 0 }, metadata: { annotations: { 'scope/quarantined': 'true' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.spec?.replicas).toBe(0);
    expect(Number(merged.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(merged.metadata?.generation).toBe(2);
    expect(merged.metadata?.annotations).toMatchObject({
      'scope/quarantined': 'true',
      'deployment.kubernetes.io/revision': '1',
    });
    const stored = alpha.get('apps/v1', 'Deployment', 'patching', 'api')!;
    expect((stored.spec as { replicas: number }).replicas).toBe(0);
    expect(stored.metadata.resourceVersion).toBe(merged.metadata?.resourceVersion);
    expect(stored.metadata.uid).toBe(before.metadata.uid);

    const jsonPatched = await apps.patchNamespacedDeployment({
      namespace: 'patching',
      name: 'api',
      body: [
        { op: 'add', path: '/metadata/labels/quarantine', value: 'on' },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'ghcr.io/acme/api:2' },
      ],
    });
    expect(jsonPatched.metadata?.labels?.quarantine).toBe('on');
    expect(jsonPatched.spec?.template.spec?.containers.map((c) => c.image)).toEqual([
      'ghcr.io/acme/api:2',
      'envoyproxy/envoy:v1.31',
    ]);

    const strategic = await apps.patchNamespacedDeployment(
      {
        namespace: 'patching',
        name: 'api',
        body: {
          spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.32' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.template.spec?.containers.map((c) => [c.name, c.image])).toEqual([
      ['api', 'ghcr.io/acme/api:2'],
      ['proxy', 'envoyproxy/envoy:v1.32'],
    ]);

    const conflict = await apps
      .patchNamespacedDeployment(
        {
          namespace: 'patching',
          name: 'api',
          body: { metadata: { resourceVersion: '1' }, spec: { replicas: 9 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((conflict as ApiException<unknown>).code).toBe(409);

    const scale = await apps.replaceNamespacedDeploymentScale({
      namespace: 'patching',
      name: 'api',
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'api', namespace: 'patching' },
        spec: { replicas: 2 },
      },
    });
    expect(scale.spec?.replicas).toBe(2);
    expect(
      (alpha.get('apps/v1', 'Deployment', 'patching', 'api')!.spec as { replicas: number }).replicas,
    ).toBe(2);

    const core = kubeConfigFor(alpha).makeApiClient(CoreV1Api);
    const victim = chain.pods[0]!.metadata.name;
    await core.deleteNamespacedPod({ namespace: 'patching', name: victim });
    expect(alpha.get('v1', 'Pod', 'patching', victim)).toBeUndefined();
  });

  it('serves custom resources registered at runtime', async () => {
    alpha.registerCustomResource({
      group: 'wgpolicyk8s.io',
      version: 'v1alpha2',
      plural: 'policyreports',
      kind: 'PolicyReport',
      namespaced: true,
      shortNames: ['polr'],
    });
    alpha.create({
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: { name: 'cpol-verify-images', namespace: 'shop' },
      results: [{ policy: 'verify-images', result: 'fail' }],
    });
    const custom = kubeConfigFor(alpha).makeApiClient(CustomObjectsApi);
    const list = (await custom.listCustomObjectForAllNamespaces({
      group: 'wgpolicyk8s.io',
      version: 'v1alpha2',
      resourcePlural: 'policyreports',
    })) as { kind: string; items: { metadata: { name: string }; results: unknown[] }[] };
    expect(list.kind).toBe('PolicyReportList');
    expect(list.items[0]?.metadata.name).toBe('cpol-verify-images');
    expect(list.items[0]?.results).toEqual([{ policy: 'verify-images', result: 'fail' }]);
  });

  it('rejects a wrong token with 401 and surfaces injected 403/500 as ApiException', async () => {
    const bad = kubeConfigFor(alpha, 'not-the-token').makeApiClient(CoreV1Api);
    const unauthorized = await bad.listPodForAllNamespaces().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(unauthorized).toBeInstanceOf(ApiException);
    expect((unauthorized as ApiException<unknown>).code).toBe(401);
    expect((unauthorized as ApiException<unknown>).body).toBeUndefined();
    expect(alpha.requests.at(-1)?.status).toBe(401);

    const core = kubeConfigFor(alpha).makeApiClient(CoreV1Api);
    alpha.setFault({ status: 403, times: 1 });
    const forbidden = await core.listPodForAllNamespaces().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((forbidden as ApiException<unknown>).code).toBe(403);
    expect(statusBody(forbidden)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
    });
    await expect(core.listPodForAllNamespaces({ limit: 1 })).resolves.toBeTruthy();

    alpha.setFault({ status: 500, pathIncludes: '/apis/apps/' });
    const apps = kubeConfigFor(alpha).makeApiClient(AppsV1Api);
    const broken = await apps.listDeploymentForAllNamespaces().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((broken as ApiException<unknown>).code).toBe(500);
    expect(statusBody(broken)).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    await expect(core.listPodForAllNamespaces({ limit: 1 })).resolves.toBeTruthy();
    expect(alpha.counters.faults).toBeGreaterThanOrEqual(2);
  });

  it('does not hang the caller on a hang fault, and close() tears down hanging requests and watches', async () => {
    const fake = await startFakeKube({ name: 'hanging' });
    const kc = kubeConfigFor(fake);
    const core = kc.makeApiClient(CoreV1Api);
    fake.setFault({ hang: true, pathIncludes: '/api/v1/pods' });
    const aborted = await core.listPodForAllNamespaces({}, abortAfter(200)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(aborted).toBeInstanceOf(Error);

    const pending = core.listPodForAllNamespaces().then(
      () => 'answered',
      () => 'failed',
    );
    const w = startWatch(kc, '/api/v1/namespaces', { resourceVersion: fake.resourceVersion });
    await waitFor(() => fake.activeWatches === 1);
    await waitFor(() => fake.requests.filter((r) => r.path === '/api/v1/pods').length === 2);
    // Both settle only because close() tears them down (a hang fault never answers).
    await fake.close();
    expect(await pending).toBe('failed');
    await w.done;
  });

  it('delays answers with a delayMs fault', async () => {
    const core = kubeConfigFor(beta).makeApiClient(CoreV1Api);
    beta.setFault({ delayMs: 150, times: 1 });
    const t0 = Date.now();
    await core.listNamespace();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  // How fast the load is, is a benchmark figure (`npm run bench`, phase 0), not an assertion.
  it('bulk-loads 10,000 pods and serves them all in pages', async () => {
    const fake = await startFakeKube({ name: 'bulk' });
    try {
      fake.load(makeFleet({ pods: 10_000, seed: 'bench' }));
      expect(fake.count('v1', 'Pod')).toBe(10_000);
      const core = kubeConfigFor(fake).makeApiClient(CoreV1Api);
      let seen = 0;
      let cont: string | undefined;
      do {
        const page = await core.listPodForAllNamespaces({ limit: 500, _continue: cont });
        seen += page.items.length;
        cont = page.metadata?._continue;
      } while (cont);
      expect(seen).toBe(10_000);
    } finally {
      await fake.close();
    }
  }, 60_000);

  it.skipIf(!hasKubectl)(
    'works with real kubectl get pods -A -o jsonpath across a 2-context kubeconfig',
    async () => {
      const k1 = await startFakeKube({ name: 'kctl-one' });
      const k2 = await startFakeKube({ name: 'kctl-two' });
      try {
        k1.load(numberedPods(620, 4));
        const two = makeDeploymentChain({
          namespace: 'prod',
          deployment: 'checkout',
          replicas: 2,
          containers: [
            {
              name: 'app',
              image: 'ghcr.io/acme/checkout:3',
              imageID: `ghcr.io/acme/checkout@sha256:${'cd'.repeat(32)}`,
            },
          ],
        });
        k2.load(two.objects);
        const kubeconfig = await writeMultiKubeconfig(join(dir, 'multi.kubeconfig'), [k1, k2]);
        expect(multiKubeconfigYaml([k1, k2])).toContain('name: "kctl-two"');
        const jsonpath = '{range .items[*]}{.status.containerStatuses[*].imageID}{"\\n"}{end}';
        const run = (context: string) =>
          execFileP(
            'kubectl',
            [
              '--kubeconfig',
              kubeconfig,
              '--context',
              context,
              '--cache-dir',
              join(dir, 'kube-cache'),
              'get',
              'pods',
              '-A',
              '-o',
              `jsonpath=${jsonpath}`,
            ],
            { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 },
          );

        const one = await run('kctl-one');
        const lines = one.stdout.trim().split('\n');
        expect(lines).toHaveLength(620);
        const expected = k1
          .list('v1', 'Pod')
          .map((p) =>
            (p.status as { containerStatuses: { imageID: string }[] }).containerStatuses
              .map((c) => c.imageID)
              .join(' '),
          );
        expect(lines).toEqual(expected);
        expect(new Set(lines).size).toBe(21);
        expect(k1.requests.filter((r) => r.path === '/api/v1/pods').map((r) => r.query.limit)).toEqual([
          '500',
          '500',
        ]);

        const second = await run('kctl-two');
        expect(second.stdout.trim().split('\n')).toEqual([
          `ghcr.io/acme/checkout@sha256:${'cd'.repeat(32)}`,
          `ghcr.io/acme/checkout@sha256:${'cd'.repeat(32)}`,
        ]);
        expect(k1.counters.unauthorized + k2.counters.unauthorized).toBe(0);
      } finally {
        await k1.close();
        await k2.close();
      }
    },
  );
});
