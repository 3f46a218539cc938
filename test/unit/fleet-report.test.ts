import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildDigestReport,
  buildImageReport,
  buildWhereReport,
  caveatsFor,
  dataAsOf,
  mergeHistory,
  usesFromPods,
} from '../../src/domain/inventory/fleet-report.ts';
import type { ContainerRecord, PodRecord } from '../../src/domain/inventory/inventory.ts';
import type { ClusterSyncState } from '../../src/jobs/status.ts';
import type { HistoryEntry } from '../../src/store/inventory/inventory-store.ts';

const digestOf = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const DA = digestOf('api 2.14.1 build a');
const DB = digestOf('api 2.14.1 build b');
const DC = digestOf('api 2.15.0');
const REPO = 'registry.example.com/payments/api';
const NOW = new Date('2026-11-25T03:12:00Z');

let uid = 0;
function container(digest: string | undefined, over: Partial<ContainerRecord> = {}): ContainerRecord {
  const tag = over.tag ?? '2.14.1';
  return {
    name: 'api',
    type: 'container',
    image: `${REPO}:${tag}`,
    repository: REPO,
    tag,
    ...(digest ? { digest } : {}),
    startedAt: '2026-11-24T10:00:00Z',
    ...over,
  };
}

function pod(over: Partial<PodRecord> & { containers: ContainerRecord[] }): PodRecord {
  uid++;
  return {
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'payments',
    name: `api-7d4b9c-${uid}`,
    uid: `uid-${uid}`,
    node: 'node-1',
    phase: 'Running',
    startTime: '2026-11-24T09:59:00Z',
    workload: { kind: 'Deployment', name: 'api' },
    ...over,
  };
}

function history(over: Partial<HistoryEntry>): HistoryEntry {
  return {
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'payments',
    workload: { kind: 'Deployment', name: 'api' },
    digest: DA,
    image: `${REPO}:2.14.1`,
    firstSeen: '2026-11-20T00:00:00Z',
    running: false,
    ...over,
  };
}

function ok(cluster: string, environment: string, lastSuccessAt = '2026-11-25T03:00:00Z'): ClusterSyncState {
  return { cluster, environment, state: 'ok', lastSuccessAt, lastAttemptAt: lastSuccessAt };
}

describe('usesFromPods', () => {
  it('groups pods of one workload into one use, counting distinct pods and nodes', () => {
    const uses = usesFromPods([
      pod({ node: 'node-1', containers: [container(DA, { startedAt: '2026-11-24T12:00:00Z' })] }),
      pod({ node: 'node-1', containers: [container(DA, { startedAt: '2026-11-24T08:00:00Z' })] }),
      pod({ node: 'node-2', containers: [container(DA, { startedAt: '2026-11-24T10:00:00Z' })] }),
    ]);
    expect(uses).toEqual([
      {
        cluster: 'prod-eu',
        environment: 'prod',
        namespace: 'payments',
        workload: { kind: 'Deployment', name: 'api' },
        digest: DA,
        images: [`${REPO}:2.14.1`],
        containers: ['api'],
        roles: { api: 'app' },
        pods: 3,
        nodes: 2,
        running: true,
        firstSeen: '2026-11-24T08:00:00Z',
      },
    ]);
  });

  it('lists every distinct image as written and every container name', () => {
    const uses = usesFromPods([
      pod({ containers: [container(DA)] }),
      pod({ containers: [container(DA, { image: `${REPO}@${DA}`, tag: undefined })] }),
      pod({ containers: [container(DA, { name: 'migrate', type: 'init' })] }),
    ]);
    expect(uses).toHaveLength(1);
    expect(uses[0]?.images).toEqual([`${REPO}:2.14.1`, `${REPO}@${DA}`]);
    expect(uses[0]?.containers).toEqual(['api', 'migrate']);
    expect(uses[0]?.pods).toBe(3);
  });

  it('counts a pod once even when two of its containers run the digest', () => {
    const uses = usesFromPods([pod({ containers: [container(DA), container(DA, { name: 'worker' })] })]);
    expect(uses[0]).toMatchObject({ pods: 1, nodes: 1, containers: ['api', 'worker'] });
  });

  it('keeps workloads, clusters and digests apart', () => {
    const uses = usesFromPods([
      pod({ containers: [container(DA)] }),
      pod({ containers: [container(DB)] }),
      pod({ cluster: 'prod-us', containers: [container(DA)] }),
      pod({ workload: { kind: 'StatefulSet', name: 'api' }, containers: [container(DA)] }),
      pod({ namespace: 'payments-canary', containers: [container(DA)] }),
    ]);
    expect(uses).toHaveLength(5);
    for (const u of uses) expect(u.pods).toBe(1);
  });

  it('skips containers with no known digest, and counts no nodes for unscheduled pods', () => {
    const uses = usesFromPods([
      pod({ containers: [container(undefined, { configId: digestOf('config') })] }),
      pod({ node: undefined, containers: [container(DA)] }),
    ]);
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({ pods: 1, nodes: 0 });
  });

  it('falls back to the pod start time, and leaves firstSeen out when nothing is known', () => {
    const [a] = usesFromPods([pod({ containers: [container(DA, { startedAt: undefined })] })]);
    expect(a?.firstSeen).toBe('2026-11-24T09:59:00Z');
    const [b] = usesFromPods([
      pod({ startTime: undefined, containers: [container(DA, { startedAt: undefined })] }),
    ]);
    expect(b).not.toHaveProperty('firstSeen');
  });
});

describe('mergeHistory', () => {
  it('takes first-seen from history when it is earlier than any pod start', () => {
    const uses = usesFromPods([pod({ containers: [container(DA)] })]);
    const merged = mergeHistory(uses, [history({ firstSeen: '2026-11-18T06:30:00Z', running: true })]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ firstSeen: '2026-11-18T06:30:00Z', running: true, pods: 1 });
  });

  it('keeps the pod start when history is later', () => {
    const uses = usesFromPods([pod({ containers: [container(DA)] })]);
    const merged = mergeHistory(uses, [history({ firstSeen: '2026-11-24T23:00:00Z', running: true })]);
    expect(merged[0]?.firstSeen).toBe('2026-11-24T10:00:00Z');
  });

  it('adds workloads that ran only in the past, as not running with no pods', () => {
    const uses = usesFromPods([pod({ containers: [container(DA)] })]);
    const merged = mergeHistory(uses, [
      history({
        workload: { kind: 'Deployment', name: 'api-canary' },
        firstSeen: '2026-11-20T08:00:00Z',
        lastSeen: '2026-11-22T17:45:00Z',
      }),
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[1]).toEqual({
      cluster: 'prod-eu',
      environment: 'prod',
      namespace: 'payments',
      workload: { kind: 'Deployment', name: 'api-canary' },
      digest: DA,
      images: [`${REPO}:2.14.1`],
      containers: [],
      roles: {},
      pods: 0,
      nodes: 0,
      running: false,
      firstSeen: '2026-11-20T08:00:00Z',
      lastSeen: '2026-11-22T17:45:00Z',
    });
  });

  it('matches history by cluster, namespace, kind, name and digest', () => {
    const uses = usesFromPods([pod({ containers: [container(DA)] })]);
    const merged = mergeHistory(uses, [
      history({ cluster: 'prod-us' }),
      history({ namespace: 'other' }),
      history({ workload: { kind: 'StatefulSet', name: 'api' } }),
      history({ digest: DB }),
    ]);
    expect(merged).toHaveLength(5);
    expect(merged[0]?.firstSeen).toBe('2026-11-24T10:00:00Z');
  });
});

describe('caveatsFor', () => {
  it('flags clusters that never synced or are failing, with what is known', () => {
    const caveats = caveatsFor(
      [
        { cluster: 'new', environment: 'dev', state: 'never' },
        {
          cluster: 'prod-us',
          environment: 'prod',
          state: 'error',
          lastSuccessAt: '2026-11-24T21:40:00Z',
          lastError: 'connect ECONNREFUSED 10.0.4.12:443',
        },
        ok('prod-eu', 'prod'),
      ],
      NOW,
    );
    expect(caveats).toEqual([
      { cluster: 'new', environment: 'dev', state: 'never' },
      {
        cluster: 'prod-us',
        environment: 'prod',
        state: 'error',
        lastSuccessAt: '2026-11-24T21:40:00Z',
        lastError: 'connect ECONNREFUSED 10.0.4.12:443',
      },
    ]);
  });

  it('calls an ok cluster stale once its last sync is more than two hours old', () => {
    const twoHours = new Date(NOW.getTime() - 2 * 3600_000).toISOString();
    const justOver = new Date(NOW.getTime() - 2 * 3600_000 - 1000).toISOString();
    expect(caveatsFor([ok('a', 'prod', twoHours)], NOW)).toEqual([]);
    expect(caveatsFor([ok('a', 'prod', justOver)], NOW)).toEqual([
      { cluster: 'a', environment: 'prod', state: 'stale', lastSuccessAt: justOver },
    ]);
  });
});

describe('dataAsOf', () => {
  it('is the oldest successful sync among clusters that are ok', () => {
    expect(
      dataAsOf([
        ok('a', 'prod', '2026-11-25T03:00:00Z'),
        ok('b', 'prod', '2026-11-25T02:50:00Z'),
        { cluster: 'c', environment: 'dev', state: 'error', lastSuccessAt: '2026-11-20T00:00:00Z' },
      ]),
    ).toBe('2026-11-25T02:50:00Z');
    expect(dataAsOf([{ cluster: 'c', environment: 'dev', state: 'never' }])).toBeUndefined();
  });
});

describe('buildDigestReport', () => {
  const pods = [
    pod({ cluster: 'dev-1', environment: 'dev', containers: [container(DA)] }),
    pod({ cluster: 'lab', environment: 'sandbox', containers: [container(DA)] }),
    pod({ cluster: 'stage-eu', environment: 'staging', containers: [container(DA)] }),
    pod({ cluster: 'prod-eu', environment: 'production', containers: [container(DA)] }),
    pod({ cluster: 'prod-eu', environment: 'production', node: 'node-2', containers: [container(DA)] }),
  ];

  it('orders environments production, staging, other, development', () => {
    const r = buildDigestReport(DA, pods, [], [], NOW);
    expect(r.environments.map((e) => e.environment)).toEqual(['production', 'staging', 'sandbox', 'dev']);
  });

  it('totals only what runs now', () => {
    const r = buildDigestReport(
      DA,
      pods,
      [history({ cluster: 'prod-us', environment: 'production', namespace: 'old' })],
      [],
      NOW,
    );
    expect(r.totals).toEqual({ clusters: 4, namespaces: 4, workloads: 4, pods: 5 });
    const prod = r.environments[0];
    expect(prod?.uses.map((u) => [u.cluster, u.running])).toEqual([
      ['prod-eu', true],
      ['prod-us', false],
    ]);
  });

  it('gives the earliest first-seen per environment, counting past workloads', () => {
    const r = buildDigestReport(
      DA,
      pods,
      [history({ cluster: 'prod-us', environment: 'production', firstSeen: '2026-10-01T00:00:00Z' })],
      [],
      NOW,
    );
    expect(r.environments[0]?.earliest).toBe('2026-10-01T00:00:00Z');
    expect(r.environments[1]?.earliest).toBe('2026-11-24T10:00:00Z');
  });

  it('carries caveats and the data age', () => {
    const r = buildDigestReport(
      DA,
      pods,
      [],
      [
        ok('prod-eu', 'production', '2026-11-25T03:05:00Z'),
        { cluster: 'x', environment: 'dev', state: 'never' },
      ],
      NOW,
    );
    expect(r.caveats).toEqual([{ cluster: 'x', environment: 'dev', state: 'never' }]);
    expect(r.dataAsOf).toBe('2026-11-25T03:05:00Z');
  });

  it('reports nothing running for an unknown digest', () => {
    const r = buildDigestReport(DC, [], [], [], NOW);
    expect(r).toEqual({
      digest: DC,
      idKind: 'manifest',
      totals: { clusters: 0, namespaces: 0, workloads: 0, pods: 0 },
      environments: [],
      caveats: [],
      completeness: 'unknown',
      clustersAnswered: 0,
      clustersTotal: 0,
    });
  });
});

describe('buildImageReport', () => {
  it('reports no drift when a tag runs as one digest everywhere', () => {
    const r = buildImageReport(
      REPO,
      '2.14.1',
      [
        pod({ containers: [container(DA)] }),
        pod({ cluster: 'stage-eu', environment: 'stage', containers: [container(DA)] }),
      ],
      new Map(),
      [],
      NOW,
    );
    expect(r.drift).toEqual([]);
    expect(r.tags).toHaveLength(1);
    expect(r.tags[0]?.digests.map((d) => d.digest)).toEqual([DA]);
    expect(r.tags[0]?.digests[0]?.uses.map((u) => u.cluster)).toEqual(['prod-eu', 'stage-eu']);
  });

  it("calls two digests for one tag within an environment 'tag' drift", () => {
    const r = buildImageReport(
      REPO,
      undefined,
      [
        pod({ containers: [container(DA)] }),
        pod({ cluster: 'prod-us', containers: [container(DB)] }),
        pod({ cluster: 'stage-eu', environment: 'stage', containers: [container(DA)] }),
      ],
      new Map(),
      [],
      NOW,
    );
    expect(r.drift).toEqual([
      { tag: '2.14.1', digests: [DA, DB], environments: { prod: [DA, DB], stage: [DA] }, kind: 'tag' },
    ]);
  });

  it("calls one different digest per environment 'environment' drift", () => {
    const r = buildImageReport(
      REPO,
      undefined,
      [
        pod({ cluster: 'dev-1', environment: 'dev', containers: [container(DB)] }),
        pod({ cluster: 'stage-eu', environment: 'stage', containers: [container(DB)] }),
        pod({ containers: [container(DA)] }),
        pod({ cluster: 'prod-us', containers: [container(DA)] }),
      ],
      new Map(),
      [],
      NOW,
    );
    expect(r.drift).toEqual([
      {
        tag: '2.14.1',
        digests: [DA, DB],
        environments: { prod: [DA], stage: [DB], dev: [DB] },
        kind: 'environment',
      },
    ]);
    expect(Object.keys(r.drift[0]?.environments ?? {})).toEqual(['prod', 'stage', 'dev']);
  });

  it('groups by tag in order, never calls digest-only references drift, and counts unpinned containers', () => {
    const r = buildImageReport(
      REPO,
      undefined,
      [
        pod({ containers: [container(DC, { tag: '2.15.0' })] }),
        pod({ containers: [container(DA)] }),
        pod({ containers: [container(DA, { tag: undefined, image: `${REPO}@${DA}` })] }),
        pod({ containers: [container(DB, { tag: undefined, image: `${REPO}@${DB}` })] }),
        pod({ containers: [container(undefined, { tag: '2.15.0' })] }),
      ],
      new Map([[DC, '2026-11-01T00:00:00Z']]),
      [],
      NOW,
    );
    expect(r.tags.map((t) => t.tag)).toEqual(['(digest only)', '2.14.1', '2.15.0']);
    expect(r.tags[0]?.digests.map((d) => d.digest)).toEqual([DA, DB]);
    expect(r.drift).toEqual([]);
    expect(r.unpinned).toBe(1);
    expect(r.tags[2]?.digests[0]?.firstSeen).toBe('2026-11-01T00:00:00Z');
    expect(r.tags[1]?.digests[0]).not.toHaveProperty('firstSeen');
    expect(r).not.toHaveProperty('tag');
  });

  it('keeps the asked-for tag', () => {
    expect(buildImageReport(REPO, '2.14.1', [], new Map(), [], NOW).tag).toBe('2.14.1');
  });
});

describe('buildWhereReport', () => {
  it('splits running and past uses, most recently seen past use first, and lists containers without a digest', () => {
    const r = buildWhereReport(
      'prod-eu/payments',
      [
        pod({ containers: [container(DA)] }),
        pod({
          workload: { kind: 'CronJob', name: 'settle' },
          containers: [container(undefined, { name: 'settle', image: 'busybox', configId: digestOf('cfg') })],
        }),
      ],
      [
        history({ digest: DB, firstSeen: '2026-11-01T00:00:00Z', lastSeen: '2026-11-10T00:00:00Z' }),
        history({ digest: DC, firstSeen: '2026-11-11T00:00:00Z', lastSeen: '2026-11-23T00:00:00Z' }),
      ],
      [ok('prod-eu', 'prod')],
      NOW,
    );
    expect(r.current.map((u) => u.digest)).toEqual([DA]);
    expect(r.history.map((u) => u.digest)).toEqual([DC, DB]);
    expect(r.unknownDigest).toEqual([
      {
        namespace: 'payments',
        workload: { kind: 'CronJob', name: 'settle' },
        image: 'busybox',
        configId: digestOf('cfg'),
      },
    ]);
    expect(r.dataAsOf).toBe('2026-11-25T03:00:00Z');
  });
});
