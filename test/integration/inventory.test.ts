import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { type Config, parseConfig } from '../../src/config.ts';
import { parseDigestQuery, parseImageQuery } from '../../src/domain/inventory/image-ref.ts';
import { digestQuery, imageQuery, whereQuery } from '../../src/jobs/inventory-queries.ts';
import { InventoryStore } from '../../src/store/inventory/inventory-store.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { testRedis } from '../support/redis.ts';

const hex = (d: string) => d.slice(7);
const BAD = fakeDigest('compromised-base');
const GOOD = fakeDigest('good-base');

type Env = {
  fakes: FakeKube[];
  config: Config;
  store: InventoryStore;
  redis: Redis;
  fleet: FleetCollector;
  dir: string;
};

function deployment(
  namespace: string,
  name: string,
  digest: string,
  opts: { replicas?: number; hash?: string; startTime?: string; tag?: string } = {},
) {
  const tag = opts.tag ?? '1.0';
  return makeDeploymentChain({
    namespace,
    deployment: name,
    replicas: opts.replicas ?? 2,
    ...(opts.hash ? { replicaSetHash: opts.hash } : {}),
    startTime: opts.startTime ?? '2026-11-20T10:00:00Z',
    containers: [
      {
        name: 'app',
        image: `registry.example.com/acme/${name}:${tag}`,
        imageID: `registry.example.com/acme/${name}@sha256:${hex(digest)}`,
      },
    ],
  }).objects;
}

async function setup(
  clusters: Array<{ name: string; environment: string; objects: ReturnType<typeof deployment> }>,
  inventory: Record<string, unknown> = {},
): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-inv-'));
  const fakes: FakeKube[] = [];
  const cfgClusters = [];
  for (const c of clusters) {
    const fake = await startFakeKube({ name: c.name });
    fake.load([makeNamespace('payments'), ...c.objects]);
    fakes.push(fake);
    cfgClusters.push({
      name: c.name,
      environment: c.environment,
      kubeconfig: await fake.writeKubeconfig(dir),
      context: c.name,
      timeoutSeconds: 2,
    });
  }
  const r = testRedis();
  const config = parseConfig({
    redis: { url: r.url, prefix: r.prefix },
    clusters: cfgClusters,
    inventory: { pageSize: 50, ...inventory },
  });
  const redis = r.connect();
  const store = new InventoryStore(redis, r.prefix, config);
  const fleet = FleetCollector.fromConfig(config, store);
  return { fakes, config, store, redis, fleet, dir };
}

describe('inventory: collection into the Redis index, and the queries', () => {
  let env: Env | undefined;
  afterEach(async () => {
    if (!env) return;
    await env.fleet.stop();
    for (const f of env.fakes) await f.close();
    await env.redis.quit();
    await rm(env.dir, { recursive: true, force: true });
    env = undefined;
  });

  it('finds a digest across clusters, grouped by environment with prod first, with the earliest deployment', async () => {
    env = await setup([
      {
        name: 'stage-1',
        environment: 'stage',
        objects: deployment('payments', 'api', BAD, { startTime: '2026-11-18T09:00:00Z' }),
      },
      {
        name: 'prod-eu',
        environment: 'prod',
        objects: [
          ...deployment('payments', 'api', BAD, { replicas: 3, startTime: '2026-11-21T14:05:00Z' }),
          ...deployment('payments', 'web', GOOD),
        ],
      },
      { name: 'dev-1', environment: 'dev', objects: deployment('payments', 'api', GOOD) },
    ]);
    const syncs = await env.fleet.syncOnce();
    expect(syncs.map((s) => s.ok)).toEqual([true, true, true]);
    const r = await digestQuery(env.store, parseDigestQuery(BAD), new Date('2026-11-25T12:00:00Z'));
    expect(r.totals).toEqual({ clusters: 2, namespaces: 2, workloads: 2, pods: 5 });
    expect(r.environments.map((e) => e.environment)).toEqual(['prod', 'stage']);
    expect(r.environments[0]?.earliest).toBe('2026-11-21T14:05:00Z');
    expect(r.environments[1]?.earliest).toBe('2026-11-18T09:00:00Z');
    const prodUse = r.environments[0]?.uses[0];
    expect(prodUse).toMatchObject({
      cluster: 'prod-eu',
      namespace: 'payments',
      workload: { kind: 'Deployment', name: 'api' },
      pods: 3,
      running: true,
    });
    expect(prodUse?.images).toEqual(['registry.example.com/acme/api:1.0']);
    expect(r.caveats).toEqual([]);
  });

  it('pages through large clusters with limit/continue', async () => {
    const objects = Array.from({ length: 12 }, (_, i) =>
      deployment('payments', `svc-${i}`, fakeDigest(`svc-${i}`), { replicas: 10 }),
    ).flat();
    env = await setup([{ name: 'big', environment: 'prod', objects }]);
    const [sync] = await env.fleet.syncOnce();
    expect(sync?.pods).toBe(120);
    const podLists = env.fakes[0]?.requests.filter((q) => q.path === '/api/v1/pods' && !q.query.watch) ?? [];
    expect(podLists.length).toBe(3);
    expect(podLists.slice(1).every((q) => q.query.continue)).toBe(true);
    expect((await env.store.podsInCluster('big')).length).toBe(120);
  });

  it('picks up a new rollout through the watch without a re-list, and remembers what ran before', async () => {
    env = await setup([
      {
        name: 'prod-eu',
        environment: 'prod',
        objects: deployment('payments', 'api', BAD, { hash: 'aaaaa11111' }),
      },
    ]);
    env.fleet.start();
    const fake = env.fakes[0] as FakeKube;
    const store = env.store;
    await waitUntil(async () => (await store.podsRunningDigest(BAD)).length === 2);
    const listsBefore = fake.requests.filter((q) => q.path === '/api/v1/pods' && !q.query.watch).length;
    for (const p of fake.list('v1', 'Pod', 'payments')) fake.remove('v1', 'Pod', 'payments', p.metadata.name);
    for (const o of deployment('payments', 'api', GOOD, {
      hash: 'bbbbb22222',
      startTime: new Date().toISOString(),
    })) {
      if (o.kind === 'Pod' || o.kind === 'ReplicaSet') fake.upsert(o);
    }
    await waitUntil(
      async () =>
        (await store.podsRunningDigest(GOOD)).length === 2 &&
        (await store.podsRunningDigest(BAD)).length === 0,
    );
    expect(fake.requests.filter((q) => q.path === '/api/v1/pods' && !q.query.watch).length).toBe(listsBefore);

    const now = new Date();
    const past = await digestQuery(store, parseDigestQuery(BAD), now);
    expect(past.totals.pods).toBe(0);
    const use = past.environments[0]?.uses[0];
    expect(use).toMatchObject({
      running: false,
      cluster: 'prod-eu',
      workload: { kind: 'Deployment', name: 'api' },
      firstSeen: '2026-11-20T10:00:00Z',
    });
    expect(Date.parse(use?.lastSeen ?? '')).toBeGreaterThan(now.getTime() - 60_000);

    const where = await whereQuery(
      store,
      { cluster: 'prod-eu', namespace: 'payments', workload: 'api' },
      now,
    );
    expect(where.current.map((u) => u.digest)).toEqual([GOOD]);
    expect(where.history.map((u) => u.digest)).toEqual([BAD]);
  });

  it('recovers from 410 Gone by re-listing, and sees changes made while the watch was gone', async () => {
    env = await setup([
      { name: 'prod-eu', environment: 'prod', objects: deployment('payments', 'api', BAD) },
    ]);
    env.fleet.start();
    const fake = env.fakes[0] as FakeKube;
    const store = env.store;
    await waitUntil(async () => (await store.podsRunningDigest(BAD)).length === 2);
    await waitUntil(async () => fake.activeWatches > 0);
    const listsBefore = fake.requests.filter((q) => q.path === '/api/v1/pods' && !q.query.watch).length;
    fake.dropWatches();
    for (const o of deployment('payments', 'late', GOOD)) fake.upsert(o);
    fake.compact();
    await waitUntil(async () => (await store.podsRunningDigest(GOOD)).length === 2, 10_000);
    expect(fake.requests.filter((q) => q.path === '/api/v1/pods' && !q.query.watch).length).toBeGreaterThan(
      listsBefore,
    );
  });

  it.each([
    { fault: { status: 403 }, code: 'UPSTREAM_FORBIDDEN' },
    { fault: { status: 500 }, code: 'UPSTREAM_UNAVAILABLE' },
    { fault: { hang: true }, code: 'TIMEOUT' },
  ])(
    'answers from the other clusters when one returns $code, and names the failing one',
    async ({ fault, code }) => {
      env = await setup([
        { name: 'prod-eu', environment: 'prod', objects: deployment('payments', 'api', BAD) },
        { name: 'prod-us', environment: 'prod', objects: deployment('payments', 'api', BAD) },
      ]);
      (env.fakes[1] as FakeKube).setFault(fault);
      const syncs = await env.fleet.syncOnce();
      expect(syncs[0]).toMatchObject({ cluster: 'prod-eu', ok: true, pods: 2 });
      expect(syncs[1]).toMatchObject({ cluster: 'prod-us', ok: false, errorCode: code });
      const r = await digestQuery(env.store, parseDigestQuery(BAD), new Date());
      expect(r.totals.clusters).toBe(1);
      expect(r.caveats).toEqual([expect.objectContaining({ cluster: 'prod-us', state: 'error' })]);
      (env.fakes[1] as FakeKube).clearFaults();
    },
  );

  it('calls out tag drift: one tag, different digests in different clusters', async () => {
    env = await setup([
      { name: 'prod-eu', environment: 'prod', objects: deployment('vendor', 'agent', GOOD, { tag: '5.2' }) },
      {
        name: 'prod-us',
        environment: 'prod',
        objects: deployment('vendor', 'agent', BAD, { tag: '5.2', startTime: '2026-11-24T03:12:00Z' }),
      },
      { name: 'stage-1', environment: 'stage', objects: deployment('vendor', 'agent', GOOD, { tag: '5.2' }) },
    ]);
    for (const f of env.fakes) f.upsert(makeNamespace('vendor'));
    await env.fleet.syncOnce();
    const r = await imageQuery(env.store, parseImageQuery('registry.example.com/acme/agent:5.2'), new Date());
    expect(r.drift).toHaveLength(1);
    expect(r.drift[0]?.tag).toBe('5.2');
    expect(new Set(r.drift[0]?.digests)).toEqual(new Set([GOOD, BAD]));
    expect(r.drift[0]?.environments.prod?.sort()).toEqual([GOOD, BAD].sort());
    const odd = r.tags[0]?.digests.find((d) => d.digest === BAD);
    expect(odd?.firstSeen).toBe('2026-11-24T03:12:00Z');
    expect(odd?.uses.map((u) => u.cluster)).toEqual(['prod-us']);
  });

  it('resolves a unique 12-hex prefix, and refuses an unknown one with a clear message', async () => {
    env = await setup([
      { name: 'prod-eu', environment: 'prod', objects: deployment('payments', 'api', BAD) },
    ]);
    await env.fleet.syncOnce();
    const r = await digestQuery(env.store, parseDigestQuery(hex(BAD).slice(0, 12)), new Date());
    expect(r.digest).toBe(BAD);
    await expect(digestQuery(env.store, parseDigestQuery('0123456789ab'), new Date())).rejects.toThrow(
      /No digest starting with 0123456789ab/,
    );
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
