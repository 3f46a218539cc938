import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster, ResourceExpiredError } from '../../src/adapters/kubernetes/client.ts';
import { ClusterCollector, FleetCollector, scanFleet } from '../../src/adapters/kubernetes/collector.ts';
import type { ClusterConfig } from '../../src/config.ts';
import type {
  ClusterRelist,
  ClusterSync,
  InventoryWriter,
  PodRecord,
} from '../../src/domain/inventory/inventory.ts';
import { podKey } from '../../src/domain/inventory/inventory.ts';
import { ScopeError } from '../../src/errors.ts';
import type { FakeKube, KubeObject } from '../../src/testing/fake-kube.ts';
import { startFakeKube, writeMultiKubeconfig } from '../../src/testing/fake-kube.ts';
import {
  defaultImageID,
  fixtureUid,
  makeCronJobChain,
  makeDaemonSetChain,
  makeDeploymentChain,
  makeFleet,
  makeJobChain,
  makePod,
  makeStatefulSetChain,
} from '../../src/testing/kube-fixtures.ts';

/**
 * Records every call and keeps the resulting per-cluster pod map, like the Redis store would: a re-list's
 * pages are applied as they arrive, and its finish removes what no page contained.
 */
class MemoryWriter implements InventoryWriter {
  /** Finished re-lists, with every pod their pages held. */
  readonly replaced: Array<{ cluster: string; environment: string; pods: PodRecord[] }> = [];
  /** Sizes of the pages written, per cluster, in order. */
  readonly pages = new Map<string, number[]>();
  readonly upserts: PodRecord[] = [];
  readonly removes: Array<{ cluster: string; namespace: string; name: string }> = [];
  readonly syncs: ClusterSync[] = [];
  readonly state = new Map<string, Map<string, PodRecord>>();
  failWrites = false;
  onPage: ((cluster: string) => void | Promise<void>) | undefined;

  beginRelist(cluster: string, environment: string): ClusterRelist {
    const listed: PodRecord[] = [];
    return {
      writePage: async (pods) => {
        if (this.failWrites) throw new Error('redis down');
        await this.onPage?.(cluster);
        this.pages.set(cluster, [...(this.pages.get(cluster) ?? []), pods.length]);
        for (const p of pods) this.cluster(cluster).set(podKey(p), p);
        listed.push(...pods);
      },
      finish: async () => {
        if (this.failWrites) throw new Error('redis down');
        const keep = new Set(listed.map((p) => podKey(p)));
        const state = this.cluster(cluster);
        let removed = 0;
        for (const key of [...state.keys()]) {
          if (keep.has(key)) continue;
          state.delete(key);
          removed += 1;
        }
        this.replaced.push({ cluster, environment, pods: listed });
        return { pods: listed.length, written: listed.length, unchanged: 0, removed };
      },
    };
  }

  async upsertPod(pod: PodRecord): Promise<boolean> {
    if (this.failWrites) throw new Error('redis down');
    this.upserts.push(pod);
    this.cluster(pod.cluster).set(podKey(pod), pod);
    return true;
  }

  async removePod(cluster: string, namespace: string, name: string): Promise<void> {
    this.removes.push({ cluster, namespace, name });
    this.cluster(cluster).delete(podKey({ namespace, name }));
  }

  async recordSync(sync: ClusterSync): Promise<void> {
    this.syncs.push(sync);
  }

  pods(cluster: string): PodRecord[] {
    return [...this.cluster(cluster).values()];
  }

  pod(cluster: string, namespace: string, name: string): PodRecord | undefined {
    return this.cluster(cluster).get(podKey({ namespace, name }));
  }

  syncsOf(cluster: string): ClusterSync[] {
    return this.syncs.filter((s) => s.cluster === cluster);
  }

  replacesOf(cluster: string): number {
    return this.replaced.filter((r) => r.cluster === cluster).length;
  }

  private cluster(name: string): Map<string, PodRecord> {
    let m = this.state.get(name);
    if (!m) {
      m = new Map();
      this.state.set(name, m);
    }
    return m;
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir: string;
const fakes: FakeKube[] = [];
const fleets: FleetCollector[] = [];

async function fake(name: string): Promise<FakeKube> {
  const f = await startFakeKube({ name });
  fakes.push(f);
  return f;
}

async function configFor(f: FakeKube, overrides: Partial<ClusterConfig> = {}): Promise<ClusterConfig> {
  return {
    name: f.name,
    environment: 'production',
    kubeconfig: await f.writeKubeconfig(dir),
    inCluster: false,
    timeoutSeconds: 5,
    ...overrides,
  };
}

function fleet(
  clusters: ClusterConfig[],
  writer: InventoryWriter,
  extra: Partial<ConstructorParameters<typeof FleetCollector>[2]> = {},
) {
  const f = new FleetCollector(clusters, writer, {
    pageSize: 100,
    clusterParallelism: 4,
    backoff: { initialMs: 50, maxMs: 200 },
    ...extra,
  });
  fleets.push(f);
  return f;
}

function podListRequests(f: FakeKube) {
  return f.requests.filter((r) => r.path === '/api/v1/pods' && r.query.watch !== 'true');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scope-collector-'));
});

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FleetCollector.syncOnce', () => {
  it('lists several clusters from one multi-context kubeconfig and writes each', async () => {
    const a = await fake('prod-eu');
    const b = await fake('stage-us');
    a.load(
      makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        replicas: 3,
        containers: [{ name: 'app', image: 'nginx:1.27' }],
      }).objects,
    );
    b.load(
      makeStatefulSetChain({
        namespace: 'db',
        statefulSet: 'pg',
        replicas: 2,
        containers: [{ name: 'pg', image: 'postgres:16' }],
      }).objects,
    );
    const path = await writeMultiKubeconfig(join(dir, 'multi.kubeconfig'), [a, b]);
    const writer = new MemoryWriter();
    const syncs = await fleet(
      [
        {
          name: 'prod-eu',
          environment: 'production',
          kubeconfig: path,
          context: 'prod-eu',
          inCluster: false,
          timeoutSeconds: 5,
        },
        {
          name: 'stage-us',
          environment: 'staging',
          kubeconfig: path,
          context: 'stage-us',
          inCluster: false,
          timeoutSeconds: 5,
        },
      ],
      writer,
    ).syncOnce();

    expect(syncs.map((s) => [s.cluster, s.environment, s.ok, s.pods])).toEqual([
      ['prod-eu', 'production', true, 3],
      ['stage-us', 'staging', true, 2],
    ]);
    expect(writer.syncs).toHaveLength(2);
    expect(writer.pods('prod-eu').map((p) => p.workload)).toEqual(
      Array(3).fill({ kind: 'Deployment', name: 'web' }),
    );
    expect(writer.pods('stage-us').map((p) => [p.environment, p.name, p.workload.kind])).toEqual([
      ['staging', 'pg-0', 'StatefulSet'],
      ['staging', 'pg-1', 'StatefulSet'],
    ]);
    const pod = writer.pods('stage-us')[0]!;
    expect(pod.containers[0]).toMatchObject({
      name: 'pg',
      repository: 'docker.io/library/postgres',
      tag: '16',
      digest: defaultImageID('postgres:16').split('@')[1],
    });
  });

  it('pages through the pod list (170 pods, pageSize 50) with continue tokens', async () => {
    const f = await fake('paged');
    const pods: KubeObject[] = [];
    for (let i = 0; i < 170; i++) {
      pods.push(
        makePod({
          namespace: `ns-${i % 7}`,
          name: `pod-${i}`,
          containers: [{ name: 'c', image: `ghcr.io/acme/app-${i % 5}:1` }],
        }),
      );
    }
    f.load(pods);
    const writer = new MemoryWriter();
    // Each page reaches the writer before the next one is requested: the collector never holds the list.
    const requestsAtWrite: number[] = [];
    writer.onPage = () => {
      requestsAtWrite.push(podListRequests(f).length);
    };
    const [sync] = await fleet([await configFor(f)], writer, { pageSize: 50 }).syncOnce();

    expect(sync).toMatchObject({ ok: true, pods: 170 });
    const lists = podListRequests(f);
    expect(lists.map((r) => r.query.limit)).toEqual(['50', '50', '50', '50']);
    expect(lists[0]!.query.continue).toBeUndefined();
    expect(lists.slice(1).every((r) => typeof r.query.continue === 'string')).toBe(true);
    expect(new Set(writer.pods('paged').map((p) => p.uid)).size).toBe(170);
    expect(writer.replaced).toHaveLength(1);
    expect(writer.pages.get('paged')).toEqual([50, 50, 50, 20]);
    expect(requestsAtWrite).toEqual([1, 2, 3, 4]);
  });

  it('does not count the time a page spends being written against the cluster deadline', async () => {
    const f = await fake('slow-index');
    f.load(
      Array.from({ length: 25 }, (_, i) =>
        makePod({ namespace: 'a', name: `p-${i}`, containers: [{ name: 'c', image: 'nginx' }] }),
      ),
    );
    const writer = new MemoryWriter();
    // Three pages, each taking 1 s to write: 3 s of writes against a 2-second deadline.
    writer.onPage = () => new Promise((r) => setTimeout(r, 1000));
    const [sync] = await fleet([await configFor(f, { timeoutSeconds: 2 })], writer, {
      pageSize: 10,
    }).syncOnce();
    expect(sync).toMatchObject({ ok: true, pods: 25 });
    expect(writer.pages.get('slow-index')).toEqual([10, 10, 5]);
  });

  it('resolves every owner chain end to end', async () => {
    const f = await fake('owners');
    const c = [{ name: 'app', image: 'ghcr.io/acme/app:1.0' }];
    const orphanRs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'orphan-abc12',
        namespace: 'misc',
        uid: fixtureUid('ReplicaSet', 'misc', 'orphan-abc12'),
      },
      spec: { replicas: 1 },
    };
    const rolloutRs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'canary-5f6d7',
        namespace: 'misc',
        uid: 'rs-rollout-uid',
        ownerReferences: [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Rollout',
            name: 'canary',
            uid: 'ro-uid',
            controller: true,
          },
        ],
      },
      spec: { replicas: 1 },
    };
    const rsRef = (rs: KubeObject) => [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: rs.metadata.name,
        uid: rs.metadata.uid!,
        controller: true,
      },
    ];
    f.load([
      ...makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        replicaSetHash: '7d4b9c6f8d',
        containers: c,
      }).objects,
      ...makeCronJobChain({ namespace: 'ops', cronJob: 'backup', containers: c }).objects,
      ...makeJobChain({ namespace: 'ops', job: 'migrate', containers: c }).objects,
      ...makeStatefulSetChain({ namespace: 'db', statefulSet: 'pg', containers: c }).objects,
      ...makeDaemonSetChain({ namespace: 'kube-system', daemonSet: 'agent', nodes: ['n1'], containers: c })
        .objects,
      makePod({ namespace: 'misc', name: 'debug', containers: c }),
      orphanRs,
      makePod({
        namespace: 'misc',
        name: 'orphan-abc12-x',
        containers: c,
        ownerReferences: rsRef(orphanRs),
        labels: { 'pod-template-hash': 'abc12' },
      }),
      rolloutRs,
      makePod({
        namespace: 'misc',
        name: 'canary-5f6d7-y',
        containers: c,
        ownerReferences: rsRef(rolloutRs),
        labels: { 'rollouts-pod-template-hash': '5f6d7' },
      }),
    ]);
    const writer = new MemoryWriter();
    await fleet([await configFor(f)], writer).syncOnce();

    const byNs = writer
      .pods('owners')
      .map((p) => `${p.namespace} ${p.workload.kind}/${p.workload.name}`)
      .sort();
    expect(byNs).toEqual([
      'db StatefulSet/pg',
      'kube-system DaemonSet/agent',
      'misc Pod/debug',
      'misc ReplicaSet/orphan-abc12',
      'misc Rollout/canary',
      'ops CronJob/backup',
      'ops Job/migrate',
      'shop Deployment/web',
    ]);
    const ownerLists = f.requests.filter(
      (r) => r.path === '/apis/apps/v1/replicasets' || r.path === '/apis/batch/v1/jobs',
    );
    expect(ownerLists).toHaveLength(2);
  });

  it('names Deployments from pod labels when ReplicaSets and Jobs may not be listed', async () => {
    const f = await fake('no-rbac-owners');
    f.load(
      makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        containers: [{ name: 'a', image: 'nginx' }],
      }).objects,
    );
    f.load(
      makeCronJobChain({ namespace: 'ops', cronJob: 'backup', containers: [{ name: 'a', image: 'nginx' }] })
        .objects,
    );
    f.setFault({ status: 403, pathIncludes: '/apis/' });
    const writer = new MemoryWriter();
    const [sync] = await fleet([await configFor(f)], writer).syncOnce();
    expect(sync).toMatchObject({ ok: true, pods: 2 });
    expect(
      writer
        .pods('no-rbac-owners')
        .map((p) => p.workload.kind)
        .sort(),
    ).toEqual(['Deployment', 'Job']);
  });

  it('reports 403, 500, a hanging API server, bad credentials and a dead endpoint per cluster while the others are written', async () => {
    const good = await fake('good');
    const forbidden = await fake('forbidden');
    const broken = await fake('broken');
    const hanging = await fake('hanging');
    const unauthorized = await fake('unauthorized');
    const dead = await fake('dead');
    for (const f of [good, forbidden, broken, hanging, unauthorized]) {
      f.load(
        makeDeploymentChain({
          namespace: 'shop',
          deployment: 'web',
          replicas: 2,
          containers: [{ name: 'a', image: 'nginx' }],
        }).objects,
      );
    }
    forbidden.setFault({
      status: 403,
      message:
        'pods is forbidden: User "system:serviceaccount:scope:scope" cannot list resource "pods" in API group "" at the cluster scope',
    });
    broken.setFault({ status: 500 });
    hanging.setFault({ hang: true });
    const badTokenPath = join(dir, 'unauthorized-bad.kubeconfig');
    const badToken = 'not-the-right-token-0123456789';
    await writeFile(
      badTokenPath,
      unauthorized.kubeconfigYaml().replace(JSON.stringify(unauthorized.token), JSON.stringify(badToken)),
    );
    const deadConfig = await configFor(dead);
    await dead.close();

    const writer = new MemoryWriter();
    const syncs = await fleet(
      [
        await configFor(good),
        await configFor(forbidden),
        await configFor(broken),
        await configFor(hanging, { timeoutSeconds: 1 }),
        { ...(await configFor(unauthorized)), kubeconfig: badTokenPath },
        deadConfig,
      ],
      writer,
      { clusterParallelism: 8 },
    ).syncOnce();

    // The hanging cluster ends on its own 1-second deadline (TIMEOUT), not the others' (how long it takes
    // is a benchmark figure: `npm run bench`, phase 0).
    const summary = Object.fromEntries(syncs.map((s) => [s.cluster, [s.ok, s.errorCode]]));
    expect(summary).toEqual({
      good: [true, undefined],
      forbidden: [false, 'UPSTREAM_FORBIDDEN'],
      broken: [false, 'UPSTREAM_UNAVAILABLE'],
      hanging: [false, 'TIMEOUT'],
      unauthorized: [false, 'UPSTREAM_UNAUTHORIZED'],
      dead: [false, 'UPSTREAM_UNAVAILABLE'],
    });
    expect(writer.replaced.map((r) => r.cluster)).toEqual(['good']);
    expect(writer.pods('good')).toHaveLength(2);
    expect(writer.syncs).toHaveLength(6);

    const message = (name: string) => syncs.find((s) => s.cluster === name)!.error!;
    expect(message('forbidden')).toMatch(/cannot list pods at cluster scope in cluster forbidden/);
    expect(message('forbidden')).toMatch(/grant list and watch on pods, replicasets.apps and jobs.batch/);
    expect(message('forbidden')).toContain('system:serviceaccount:scope:scope');
    expect(message('hanging')).toMatch(/hanging/);
    expect(message('dead')).toMatch(/ECONNREFUSED/);
    for (const s of syncs) {
      for (const secret of [badToken, good.token, forbidden.token, unauthorized.token]) {
        expect(s.error ?? '').not.toContain(secret);
      }
    }
  });

  it('records configuration problems (missing file, unknown context) as failed syncs', async () => {
    const f = await fake('cfg');
    const writer = new MemoryWriter();
    const syncs = await fleet(
      [
        {
          name: 'nofile',
          environment: 'x',
          kubeconfig: join(dir, 'does-not-exist'),
          inCluster: false,
          timeoutSeconds: 1,
        },
        { ...(await configFor(f)), name: 'nocontext', context: 'nope' },
      ],
      writer,
    ).syncOnce();
    expect(syncs.map((s) => s.errorCode)).toEqual(['CONFIG_INVALID', 'CONFIG_INVALID']);
    expect(syncs[0]!.error).toMatch(/ENOENT/);
    expect(syncs[1]!.error).toMatch(/no context "nope".*it has: cfg/);
  });
});

describe('FleetCollector list + watch', () => {
  it('applies a rollout through the watch (upsert new pods, remove old) without re-listing', async () => {
    const f = await fake('watched');
    const c = [{ name: 'app', image: 'ghcr.io/acme/web:1.0' }];
    const v1 = makeDeploymentChain({
      namespace: 'shop',
      deployment: 'web',
      replicas: 2,
      replicaSetHash: 'aaaa1',
      containers: c,
    });
    f.load(v1.objects);
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(f)], writer);
    collector.start();
    await waitFor('initial sync', () => writer.syncs.some((s) => s.ok));
    await waitFor('watch open', () => f.activeWatches === 1);
    const listsBefore = podListRequests(f).length;

    const v2 = makeDeploymentChain({
      namespace: 'shop',
      deployment: 'web',
      replicas: 2,
      replicaSetHash: 'bbbb2',
      revision: 2,
      containers: [{ name: 'app', image: 'ghcr.io/acme/web:2.0' }],
    });
    f.update(v2.deployment);
    f.create(v2.replicaSet);
    for (const p of v2.pods) f.create(p);
    for (const p of v1.pods) f.remove('v1', 'Pod', 'shop', p.metadata.name);

    await waitFor(
      'rollout applied',
      () => writer.pods('watched').length === 2 && writer.removes.length === 2,
    );
    const pods = writer.pods('watched');
    expect(pods.map((p) => p.name).sort()).toEqual(v2.pods.map((p) => p.metadata.name).sort());
    expect(pods.every((p) => p.workload.kind === 'Deployment' && p.workload.name === 'web')).toBe(true);
    expect(pods.every((p) => p.containers[0]!.tag === '2.0')).toBe(true);
    expect(writer.upserts.map((p) => p.name).sort()).toEqual(v2.pods.map((p) => p.metadata.name).sort());
    expect(writer.replaced).toHaveLength(1);
    expect(podListRequests(f).length).toBe(listsBefore);
  });

  it('re-lists owners when a watched pod references an unknown Job, so CronJob pods are named right', async () => {
    const f = await fake('cron');
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(f)], writer, { ownerRefreshIntervalMs: 0 });
    collector.start();
    await waitFor('initial sync', () => writer.syncs.some((s) => s.ok));
    await waitFor('watch open', () => f.activeWatches === 1);

    const chain = makeCronJobChain({
      namespace: 'ops',
      cronJob: 'nightly',
      containers: [{ name: 'a', image: 'busybox:1.36' }],
    });
    for (const o of chain.objects) f.create(o);
    await waitFor('cron pod', () => writer.pods('cron').length === 1);
    expect(writer.pods('cron')[0]!.workload).toEqual({ kind: 'CronJob', name: 'nightly' });
    expect(writer.replaced).toHaveLength(1);
  });

  it('recovers from 410 Gone by re-listing', async () => {
    const f = await fake('expiring');
    f.load(
      makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        replicas: 2,
        containers: [{ name: 'a', image: 'nginx' }],
      }).objects,
    );
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(f)], writer);
    collector.start();
    await waitFor('initial sync', () => writer.replacesOf('expiring') === 1);
    await waitFor('watch open', () => f.activeWatches === 1);

    // While no watch is open, a pod appears and history is compacted: the reconnecting watch gets 410.
    f.dropWatches();
    f.create(makePod({ namespace: 'shop', name: 'late', containers: [{ name: 'a', image: 'nginx' }] }));
    f.compact();

    await waitFor('re-list', () => writer.replacesOf('expiring') === 2);
    expect(writer.pods('expiring').map((p) => p.name)).toContain('late');
    expect(writer.upserts.map((p) => p.name)).not.toContain('late');
    expect(writer.syncsOf('expiring').every((s) => s.ok)).toBe(true);
    await waitFor('watch reopened', () => f.activeWatches === 1);
  });

  it('records a failed watch, backs off, and re-lists once the cluster answers again', async () => {
    const f = await fake('flaky');
    f.load(
      makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        containers: [{ name: 'a', image: 'nginx' }],
      }).objects,
    );
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(f)], writer);
    collector.start();
    await waitFor('initial sync', () => writer.syncs.some((s) => s.ok));
    await waitFor('watch open', () => f.activeWatches === 1);

    f.setFault({ status: 503 });
    f.dropWatches();
    await waitFor('failures recorded', () => writer.syncsOf('flaky').filter((s) => !s.ok).length >= 2);
    expect(writer.syncsOf('flaky').filter((s) => !s.ok)[0]).toMatchObject({
      errorCode: 'UPSTREAM_UNAVAILABLE',
    });
    f.clearFaults();
    await waitFor('recovered', () => writer.syncs.at(-1)?.ok === true && writer.replacesOf('flaky') === 2);
    await waitFor('watch reopened', () => f.activeWatches === 1);
  });

  it('treats a writer failure during the watch like any failure: recorded, then a fresh list', async () => {
    const f = await fake('redis-down');
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(f)], writer);
    collector.start();
    await waitFor('initial sync', () => writer.syncs.some((s) => s.ok));
    await waitFor('watch open', () => f.activeWatches === 1);
    writer.failWrites = true;
    f.create(makePod({ namespace: 'a', name: 'p', containers: [{ name: 'a', image: 'nginx' }] }));
    await waitFor('failure', () => writer.syncs.some((s) => !s.ok));
    expect(writer.syncs.find((s) => !s.ok)).toMatchObject({
      errorCode: 'INTERNAL',
      error: expect.stringMatching(/redis down/),
    });
    writer.failWrites = false;
    await waitFor('re-listed', () => writer.pod('redis-down', 'a', 'p') !== undefined);
  });

  it('stop() ends promptly even while a cluster hangs, and the others keep being watched until then', async () => {
    const ok = await fake('ok');
    const stuck = await fake('stuck');
    stuck.setFault({ hang: true });
    const writer = new MemoryWriter();
    const collector = fleet([await configFor(ok), await configFor(stuck, { timeoutSeconds: 30 })], writer);
    collector.start();
    await waitFor('ok synced', () => writer.syncsOf('ok').some((s) => s.ok));
    await waitFor('watch open', () => ok.activeWatches === 1);
    ok.create(makePod({ namespace: 'x', name: 'p', containers: [{ name: 'a', image: 'nginx' }] }));
    await waitFor('upsert', () => writer.pod('ok', 'x', 'p') !== undefined);
    expect(writer.syncsOf('stuck')).toEqual([]);

    await collector.stop();
    expect(collector.running).toBe(false);
    // The hanging LIST was aborted by stop(), not ended by its 30-second deadline: no failure was recorded
    // (a deadline records TIMEOUT, and would outlast the test's own timeout).
    expect(writer.syncsOf('stuck')).toEqual([]);
    await waitFor('watch closed', () => ok.activeWatches === 0, 2000);
  });
});

describe('ClusterCollector and KubeCluster', () => {
  it('syncOnce rejects only when aborted', async () => {
    const f = await fake('aborted');
    f.setFault({ hang: true });
    const collector = new ClusterCollector(await configFor(f), new MemoryWriter(), { pageSize: 10 });
    const abort = new AbortController();
    const pending = collector.syncOnce(abort.signal);
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('watchPods delivers events in order and rejects with ResourceExpiredError on a compacted version', async () => {
    const f = await fake('raw-watch');
    const cluster = new KubeCluster(await configFor(f));
    const pages = [];
    for await (const page of cluster.listPods({ pageSize: 10, signal: AbortSignal.timeout(5000) }))
      pages.push(page);
    const rv = pages[0]!.resourceVersion;
    const seen: string[] = [];
    const abort = new AbortController();
    const watching = cluster.watchPods(
      rv,
      async (type, obj) => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`${type} ${(obj as KubeObject).metadata.name}`);
      },
      abort.signal,
    );
    await waitFor('watch open', () => f.activeWatches === 1);
    f.create(makePod({ namespace: 'a', name: 'one', containers: [{ name: 'c', image: 'nginx' }] }));
    f.create(makePod({ namespace: 'a', name: 'two', containers: [{ name: 'c', image: 'nginx' }] }));
    f.remove('v1', 'Pod', 'a', 'one');
    f.dropWatches();
    await watching;
    expect(seen).toEqual(['ADDED one', 'ADDED two', 'DELETED one']);

    f.compact();
    const expired = cluster.watchPods(rv, () => undefined, abort.signal);
    await expect(expired).rejects.toBeInstanceOf(ResourceExpiredError);
    await expect(expired).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await cluster.close();
  });

  it('watchPods maps a forbidden watch and settles at once when aborted', async () => {
    const f = await fake('watch-faults');
    const cluster = new KubeCluster(await configFor(f, { timeoutSeconds: 2 }));
    f.setFault({ status: 403, times: 1 });
    const forbidden = cluster.watchPods('1', () => undefined, AbortSignal.timeout(5000));
    await expect(forbidden).rejects.toMatchObject({ code: 'UPSTREAM_FORBIDDEN' });
    await expect(forbidden).rejects.toThrow(/cannot watch pods at cluster scope/);

    f.setFault({ hang: true });
    const abort = new AbortController();
    const hanging = cluster.watchPods('1', () => undefined, abort.signal);
    setTimeout(() => abort.abort(), 50);
    // AbortError, not the TIMEOUT of the 2-second deadline below: the abort ended it.
    await expect(hanging).rejects.toMatchObject({ name: 'AbortError' });

    const timedOut = cluster.watchPods('1', () => undefined, AbortSignal.timeout(10_000));
    await expect(timedOut).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('scanFleet returns every answering cluster’s pods and a sync per cluster', async () => {
    const a = await fake('scan-a');
    const b = await fake('scan-b');
    const c = await fake('scan-c');
    a.load(makeFleet({ pods: 30, seed: 'a' }));
    b.load(makeFleet({ pods: 20, seed: 'b' }));
    c.setFault({ status: 500 });
    const result = await scanFleet(
      [await configFor(a), await configFor(b, { environment: 'staging' }), await configFor(c)],
      AbortSignal.timeout(10_000),
      { pageSize: 7 },
    );
    expect(result.pods).toHaveLength(50);
    expect(result.syncs.map((s) => [s.cluster, s.ok, s.pods, s.errorCode])).toEqual([
      ['scan-a', true, 30, undefined],
      ['scan-b', true, 20, undefined],
      ['scan-c', false, 0, 'UPSTREAM_UNAVAILABLE'],
    ]);
    expect(result.pods.every((p) => p.workload.kind === 'Deployment')).toBe(true);
    expect(result.pods.filter((p) => p.environment === 'staging')).toHaveLength(20);
  });

  it('errors are ScopeErrors with codes (sanity of the exported class)', () => {
    const err = new ResourceExpiredError('gone');
    expect(err).toBeInstanceOf(ScopeError);
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});
