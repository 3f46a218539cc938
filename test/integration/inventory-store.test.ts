import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../src/config.ts';
import { parseDigestQuery } from '../../src/domain/inventory/image-ref.ts';
import type { PodRecord, ReadStats } from '../../src/domain/inventory/inventory.ts';
import { digestQuery, whereQuery } from '../../src/jobs/inventory-queries.ts';
import { InventoryStore } from '../../src/store/inventory/inventory-store.ts';
import { fakeDigest } from '../../src/testing/kube-fixtures.ts';
import { testRedis } from '../support/redis.ts';

const A = fakeDigest('store/a');
const B = fakeDigest('store/b');
const B2 = fakeDigest('store/b-v2');
const CLUSTER = 'prod-eu';

function pod(workload: string, i: number, digest: string): PodRecord {
  return {
    cluster: CLUSTER,
    environment: 'prod',
    namespace: 'shop',
    name: `${workload}-${i}`,
    uid: `uid-${workload}-${i}`,
    node: 'node-1',
    phase: 'Running',
    startTime: '2026-11-20T10:00:00Z',
    workload: { kind: 'Deployment', name: workload },
    containers: [
      {
        name: 'app',
        type: 'container',
        image: `registry.example.com/shop/${workload}:1.0`,
        repository: `registry.example.com/shop/${workload}`,
        tag: '1.0',
        digest,
        imageID: `registry.example.com/shop/${workload}@${digest}`,
        startedAt: '2026-11-20T10:00:05Z',
      },
    ],
  };
}

/** 10 pods of `a` (digest A) and 10 of `b` (digest B, or `bDigest`). */
function fleet(bDigest = B, aPods = 10): PodRecord[] {
  return [
    ...Array.from({ length: aPods }, (_, i) => pod('a', i, A)),
    ...Array.from({ length: 10 }, (_, i) => pod('b', i, bDigest)),
  ];
}

async function relist(store: InventoryStore, pods: readonly PodRecord[], at: Date, pageSize = 7) {
  const r = store.beginRelist(CLUSTER, 'prod');
  for (let i = 0; i < pods.length; i += pageSize) await r.writePage(pods.slice(i, i + pageSize), at);
  return r.finish(at);
}

describe('InventoryStore: re-lists written page by page, fingerprints, mark and sweep', () => {
  let redis: Redis;
  let prefix: string;
  let config: Config;
  let store: InventoryStore;
  const k = (...parts: string[]) => [`${prefix}:inv`, ...parts].join(':');

  beforeEach(() => {
    const r = testRedis();
    prefix = r.prefix;
    redis = r.connect();
    config = parseConfig({
      redis: { url: r.url, prefix },
      clusters: [{ name: CLUSTER, environment: 'prod', kubeconfig: '/dev/null' }],
    });
    store = new InventoryStore(redis, prefix, config);
  });
  afterEach(async () => {
    await redis.quit();
  });

  it('tells the start observer about digests a pod newly runs, before the write: a failing observer leaves the old record', async () => {
    const t1 = new Date('2026-11-25T10:00:00Z');
    const seen: string[] = [];
    let fail = false;
    store.observeStarts((started) => {
      for (const s of started) seen.push(`${s.pod.name}:${s.digests.map((d) => d.slice(7, 12)).join(',')}`);
      if (fail) throw new Error('queue down');
    });
    await relist(store, fleet(), t1);
    expect(seen).toHaveLength(20);
    seen.length = 0;
    // Unchanged pods and changed pods without a new digest say nothing.
    await relist(store, fleet(), t1);
    await store.upsertPod({ ...pod('a', 0, A), node: 'node-2' }, t1);
    expect(seen).toEqual([]);
    // A container that restarts on another digest is a start; when the observer fails, nothing is stored and
    // the same change is reported again on the next write.
    fail = true;
    await expect(store.upsertPod(pod('a', 0, B2), t1)).rejects.toThrow('queue down');
    expect(await store.podsRunningDigest(B2)).toEqual([]);
    fail = false;
    expect(await store.upsertPod(pod('a', 0, B2), t1)).toBe(true);
    expect(seen).toEqual([`a-0:${B2.slice(7, 12)}`, `a-0:${B2.slice(7, 12)}`]);
    expect((await store.podsRunningDigest(B2)).map((p) => p.name)).toEqual(['a-0']);
    store.observeStarts(undefined);
  });

  it('writes an unchanged re-list as nothing: same fingerprints, no record rewritten', async () => {
    const t1 = new Date('2026-11-25T10:00:00Z');
    expect(await relist(store, fleet(), t1)).toEqual({ pods: 20, written: 20, unchanged: 0, removed: 0 });
    // Mark one stored record (a field scope ignores): a rewrite would drop the mark.
    const stored = JSON.parse((await redis.hget(k('pods', CLUSTER), 'shop/a-3')) as string);
    await redis.hset(k('pods', CLUSTER), 'shop/a-3', JSON.stringify({ ...stored, mark: 1 }));

    const t2 = new Date('2026-11-25T10:30:00Z');
    expect(await relist(store, fleet(), t2)).toEqual({ pods: 20, written: 0, unchanged: 20, removed: 0 });
    expect(await redis.hget(k('pods', CLUSTER), 'shop/a-3')).toContain('"mark":1');
    expect(await store.upsertPod(pod('a', 3, A), t2)).toBe(false);
    expect((await store.podsRunningDigest(A)).length).toBe(10);
    expect(await redis.hget(k('pairs', CLUSTER), `shop|Deployment/a|${A}`)).toBe('10');
  });

  it('sweeps the pods a re-list did not see, and records when the image stopped running', async () => {
    const t1 = new Date('2026-11-25T10:00:00Z');
    await relist(store, fleet(), t1);
    // Five pods of `a` vanished between the lists; `b` rolled out a new digest.
    const t2 = new Date('2026-11-25T11:00:00Z');
    expect(await relist(store, fleet(B2, 5), t2)).toEqual({
      pods: 15,
      written: 10,
      unchanged: 5,
      removed: 5,
    });

    expect((await store.podsRunningDigest(A)).map((p) => p.name).sort()).toEqual(
      ['a-0', 'a-1', 'a-2', 'a-3', 'a-4'].sort(),
    );
    expect(await store.podsRunningDigest(B)).toEqual([]);
    expect((await store.podsRunningDigest(B2)).length).toBe(10);
    expect(await redis.hlen(k('pods', CLUSTER))).toBe(15);
    expect(await redis.hlen(k('fp', CLUSTER))).toBe(15);
    expect(await redis.scard(k('digest', A))).toBe(5);
    expect(await redis.scard(k('digest', B))).toBe(0);

    const past = await digestQuery(store, parseDigestQuery(B), t2);
    expect(past.totals.pods).toBe(0);
    expect(past.environments[0]?.uses[0]).toMatchObject({
      running: false,
      firstSeen: '2026-11-20T10:00:05Z',
      lastSeen: t2.toISOString(),
    });
    const now = await digestQuery(store, parseDigestQuery(A), t2);
    expect(now.totals).toMatchObject({ workloads: 1, pods: 5 });
    expect(await redis.hget(k('pairs', CLUSTER), `shop|Deployment/a|${A}`)).toBe('5');
    expect(await redis.hexists(k('pairs', CLUSTER), `shop|Deployment/b|${B}`)).toBe(0);
  });

  it('removes nothing when a re-list is not finished (a LIST that failed half-way)', async () => {
    await relist(store, fleet(), new Date('2026-11-25T10:00:00Z'));
    const r = store.beginRelist(CLUSTER, 'prod');
    await r.writePage(fleet().slice(0, 4), new Date('2026-11-25T11:00:00Z'));
    expect(await redis.hlen(k('pods', CLUSTER))).toBe(20);
    expect((await store.podsRunningDigest(B)).length).toBe(10);
  });

  it('re-counts running pods per workload and renews the history expiry even when nothing changed', async () => {
    await relist(store, fleet(), new Date('2026-11-25T10:00:00Z'));
    await redis.hset(k('pairs', CLUSTER), `shop|Deployment/a|${A}`, '99', `shop|Deployment/gone|${B}`, '3');
    await redis.expire(k('dfirst', A), 5);
    await relist(store, fleet(), new Date('2026-11-25T10:30:00Z'));
    expect(await redis.hget(k('pairs', CLUSTER), `shop|Deployment/a|${A}`)).toBe('10');
    expect(await redis.hexists(k('pairs', CLUSTER), `shop|Deployment/gone|${B}`)).toBe(0);
    expect(await redis.ttl(k('dfirst', A))).toBeGreaterThan(86_400);
  });

  it('rewrites a pod at the next re-list once a read found its record unreadable', async () => {
    await relist(store, fleet(), new Date('2026-11-25T10:00:00Z'));
    await redis.hset(k('pods', CLUSTER), 'shop/a-1', '{"cluster":"prod-eu","containers":"nope"}');
    const reads: ReadStats = { unreadable: 0 };
    expect((await store.podsRunningDigest(A, reads)).length).toBe(9);
    expect(reads.unreadable).toBe(1);
    const r = await relist(store, fleet(), new Date('2026-11-25T10:30:00Z'));
    expect(r).toMatchObject({ written: 1, unchanged: 19 });
    expect((await store.podsRunningDigest(A)).length).toBe(10);
  });
});

describe('InventoryStore: Redis is a trust boundary', () => {
  let redis: Redis;
  let prefix: string;
  let store: InventoryStore;
  const k = (...parts: string[]) => [`${prefix}:inv`, ...parts].join(':');
  const at = new Date('2026-11-25T10:00:00Z');

  beforeEach(async () => {
    const r = testRedis();
    prefix = r.prefix;
    redis = r.connect();
    const config = parseConfig({
      redis: { url: r.url, prefix },
      clusters: [{ name: CLUSTER, environment: 'prod', kubeconfig: '/dev/null' }],
    });
    store = new InventoryStore(redis, prefix, config);
    await relist(store, fleet(), at);
  });
  afterEach(async () => {
    await redis.quit();
  });

  it('leaves out and counts malformed, misplaced and non-JSON pod records; answers from the rest', async () => {
    const ref = (key: string) => `${CLUSTER}|${key}`;
    const other = { ...pod('a', 1, A), cluster: 'prod-us' };
    await redis.hset(
      k('pods', CLUSTER),
      'shop/a-1',
      JSON.stringify({ ...pod('a', 1, A), containers: 'not-an-array' }),
      'shop/a-2',
      JSON.stringify(other),
      'shop/a-3',
      '{not json',
      'shop/a-4',
      JSON.stringify({ ...pod('a', 4, A), containers: [{ name: 'app', type: 'container', image: 1 }] }),
    );
    await redis.sadd(k('digest', A), ref('shop/a-1'), 'no-separator');
    const r = await digestQuery(store, parseDigestQuery(A), at);
    expect(r.totals.pods).toBe(6);
    expect(r.unreadable).toBe(5);

    const where = await whereQuery(store, { cluster: CLUSTER, namespace: 'shop' }, at);
    expect(where.unreadable).toBe(4);
    expect(where.current.find((u) => u.workload.name === 'a')?.pods).toBe(6);
  });

  it('leaves out and counts history entries of the wrong shape, never shows them', async () => {
    await redis.hset(
      k('dfirst', A),
      'forged-field-without-separators',
      `${'2026-01-01T00:00:00Z'.padEnd(24)}\tevil/image:1\tprod`,
      `${CLUSTER}|shop|Deployment/ghost`,
      'yesterday\tevil/image:1\tprod',
    );
    await redis.hset(k('wfirst', CLUSTER), 'shop|Deployment/ghost', 'x');
    const r = await digestQuery(store, parseDigestQuery(A), at);
    expect(r.unreadable).toBe(2);
    expect(r.environments.flatMap((e) => e.uses).map((u) => u.workload.name)).toEqual(['a']);
    const where = await whereQuery(store, { cluster: CLUSTER }, at);
    expect(where.unreadable).toBe(1);
    expect(where.history).toEqual([]);
  });

  it('reads an unreadable sync state as an error of that cluster, never as synced', async () => {
    await redis.hset(k('sync'), CLUSTER, '{"cluster":"prod-eu","state":"ok"');
    expect(await store.syncStates()).toEqual([
      expect.objectContaining({
        cluster: CLUSTER,
        state: 'error',
        lastError: expect.stringMatching(/unreadable/),
      }),
    ]);
    const r = await digestQuery(store, parseDigestQuery(A), at);
    expect(r.caveats).toEqual([expect.objectContaining({ cluster: CLUSTER, state: 'error' })]);
  });

  it('says nothing about unreadable records when every record is well-formed', async () => {
    const r = await digestQuery(store, parseDigestQuery(A), at);
    expect(r.totals.pods).toBe(10);
    expect(r).not.toHaveProperty('unreadable');
  });
});
