import { describe, expect, it } from 'vitest';
import {
  addOwners,
  controllerOf,
  hasUnknownOwner,
  type OwnerIndex,
  type OwnerLink,
  ownerKey,
  resolveWorkload,
  toPodRecord,
} from '../../src/domain/inventory/pod-record.ts';

const HEX_A = 'a'.repeat(64);
const HEX_B = 'b'.repeat(64);
const HEX_C = 'c'.repeat(64);

function ref(kind: string, name: string, controller = true) {
  return { apiVersion: 'apps/v1', kind, name, uid: `${kind}-${name}-uid`, controller };
}

function index(entries: Array<[string, string, string, OwnerLink | null]>): OwnerIndex {
  return new Map(entries.map(([ns, kind, name, owner]) => [ownerKey(ns, kind, name), owner]));
}

function pod(overrides: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7d4b9c-x2x9q', namespace: 'shop', uid: 'uid-1', ...meta },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: 'nginx:1.25' }],
    },
    status: {
      phase: 'Running',
      startTime: '2025-01-01T00:00:00Z',
      containerStatuses: [
        {
          name: 'app',
          image: 'docker.io/library/nginx:1.25',
          imageID: `docker.io/library/nginx@sha256:${HEX_A}`,
          state: { running: { startedAt: '2025-01-01T00:00:05Z' } },
        },
      ],
    },
    ...overrides,
  };
}

const EMPTY: OwnerIndex = new Map();

describe('resolveWorkload', () => {
  const podId = { name: 'p', labels: { 'pod-template-hash': '7d4b9c' } };

  it('follows Pod → ReplicaSet → Deployment through the index', () => {
    const owners = index([['shop', 'ReplicaSet', 'web-7d4b9c', { kind: 'Deployment', name: 'web' }]]);
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], owners, podId)).toEqual({
      kind: 'Deployment',
      name: 'web',
    });
  });

  it('follows Pod → Job → CronJob through the index', () => {
    const owners = index([['ops', 'Job', 'backup-28901234', { kind: 'CronJob', name: 'backup' }]]);
    expect(resolveWorkload('ops', [ref('Job', 'backup-28901234')], owners, { name: 'p' })).toEqual({
      kind: 'CronJob',
      name: 'backup',
    });
  });

  it('keeps a Job without owner as Job', () => {
    const owners = index([['ops', 'Job', 'migrate', null]]);
    expect(resolveWorkload('ops', [ref('Job', 'migrate')], owners, { name: 'p' })).toEqual({
      kind: 'Job',
      name: 'migrate',
    });
  });

  it('keeps a ReplicaSet without owner as ReplicaSet, even when the hash label matches', () => {
    const owners = index([['shop', 'ReplicaSet', 'web-7d4b9c', null]]);
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], owners, podId)).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d4b9c',
    });
  });

  it('reports StatefulSet and DaemonSet owners directly', () => {
    expect(resolveWorkload('db', [ref('StatefulSet', 'pg')], EMPTY, { name: 'pg-0' })).toEqual({
      kind: 'StatefulSet',
      name: 'pg',
    });
    expect(resolveWorkload('kube-system', [ref('DaemonSet', 'fluentbit')], EMPTY, { name: 'x' })).toEqual({
      kind: 'DaemonSet',
      name: 'fluentbit',
    });
  });

  it('reports a bare pod as kind Pod named after the pod', () => {
    expect(resolveWorkload('shop', undefined, EMPTY, { name: 'debug' })).toEqual({
      kind: 'Pod',
      name: 'debug',
    });
    expect(resolveWorkload('shop', [], EMPTY, { name: 'debug' })).toEqual({ kind: 'Pod', name: 'debug' });
  });

  it('reports unknown controller kinds (CRDs) as that kind, also above a ReplicaSet', () => {
    expect(resolveWorkload('shop', [ref('Workflow', 'nightly')], EMPTY, { name: 'x' })).toEqual({
      kind: 'Workflow',
      name: 'nightly',
    });
    const owners = index([['shop', 'ReplicaSet', 'web-6f8d', { kind: 'Rollout', name: 'web' }]]);
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-6f8d')], owners, { name: 'x' })).toEqual({
      kind: 'Rollout',
      name: 'web',
    });
  });

  it('derives the Deployment from the pod-template-hash when the ReplicaSet is not indexed yet', () => {
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], EMPTY, podId)).toEqual({
      kind: 'Deployment',
      name: 'web',
    });
  });

  it('keeps ReplicaSet when the hash label is absent or does not match the name suffix', () => {
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], EMPTY, { name: 'p' })).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d4b9c',
    });
    const other = { name: 'p', labels: { 'pod-template-hash': 'ffff' } };
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], EMPTY, other)).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d4b9c',
    });
    const whole = { name: 'p', labels: { 'pod-template-hash': '7d4b9c' } };
    expect(resolveWorkload('shop', [ref('ReplicaSet', '-7d4b9c')], EMPTY, whole)).toEqual({
      kind: 'ReplicaSet',
      name: '-7d4b9c',
    });
  });

  it('does not look up owners across namespaces', () => {
    const owners = index([['other', 'ReplicaSet', 'web-7d4b9c', { kind: 'Deployment', name: 'elsewhere' }]]);
    expect(resolveWorkload('shop', [ref('ReplicaSet', 'web-7d4b9c')], owners, podId)).toEqual({
      kind: 'Deployment',
      name: 'web',
    });
  });

  it('prefers the controller reference over other owners', () => {
    const refs = [ref('ConfigMap', 'cm', false), ref('StatefulSet', 'pg')];
    expect(controllerOf(refs)).toEqual({ kind: 'StatefulSet', name: 'pg' });
    expect(controllerOf([ref('StatefulSet', 'pg', false)])).toEqual({ kind: 'StatefulSet', name: 'pg' });
    expect(controllerOf([{ kind: 'X' }, 'junk', null])).toBeUndefined();
    expect(controllerOf('junk')).toBeUndefined();
  });
});

describe('addOwners', () => {
  it('indexes ReplicaSets and Jobs by namespace/kind/name with their controller or null', () => {
    const owners = new Map<string, OwnerLink | null>();
    addOwners(
      owners,
      [
        { metadata: { name: 'web-1', namespace: 'shop', ownerReferences: [ref('Deployment', 'web')] } },
        { kind: 'ReplicaSet', metadata: { name: 'solo', namespace: 'shop' } },
        { metadata: { name: 'nameless' } },
        'junk',
        null,
      ],
      'ReplicaSet',
    );
    addOwners(
      owners,
      [{ metadata: { name: 'b-1', namespace: 'ops', ownerReferences: [ref('CronJob', 'b')] } }],
      'Job',
    );
    expect([...owners]).toEqual([
      ['shop/ReplicaSet/web-1', { kind: 'Deployment', name: 'web' }],
      ['shop/ReplicaSet/solo', null],
      ['ops/Job/b-1', { kind: 'CronJob', name: 'b' }],
    ]);
  });

  it('tells when a pod references a ReplicaSet or Job the index lacks', () => {
    const owners = index([['shop', 'ReplicaSet', 'known', null]]);
    const withOwner = (kind: string, name: string) => pod({}, { ownerReferences: [ref(kind, name)] });
    expect(hasUnknownOwner(withOwner('ReplicaSet', 'known'), owners)).toBe(false);
    expect(hasUnknownOwner(withOwner('ReplicaSet', 'new'), owners)).toBe(true);
    expect(hasUnknownOwner(withOwner('Job', 'new'), owners)).toBe(true);
    expect(hasUnknownOwner(withOwner('StatefulSet', 'db'), owners)).toBe(false);
    expect(hasUnknownOwner(pod(), owners)).toBe(false);
    expect(hasUnknownOwner('junk', owners)).toBe(false);
  });
});

describe('toPodRecord', () => {
  it('builds a record with workload, node, phase and the running repo digest', () => {
    const owners = index([['shop', 'ReplicaSet', 'web-7d4b9c', { kind: 'Deployment', name: 'web' }]]);
    const record = toPodRecord(
      pod({}, { ownerReferences: [ref('ReplicaSet', 'web-7d4b9c')] }),
      'prod-eu',
      'production',
      owners,
    );
    expect(record).toEqual({
      cluster: 'prod-eu',
      environment: 'production',
      namespace: 'shop',
      name: 'web-7d4b9c-x2x9q',
      uid: 'uid-1',
      node: 'node-1',
      phase: 'Running',
      startTime: '2025-01-01T00:00:00Z',
      workload: { kind: 'Deployment', name: 'web' },
      containers: [
        {
          name: 'app',
          type: 'container',
          image: 'nginx:1.25',
          repository: 'docker.io/library/nginx',
          tag: '1.25',
          digest: `sha256:${HEX_A}`,
          imageID: `docker.io/library/nginx@sha256:${HEX_A}`,
          startedAt: '2025-01-01T00:00:05Z',
        },
      ],
    });
  });

  it('records init, regular and ephemeral containers, each matched to its status by name', () => {
    const record = toPodRecord(
      pod({
        spec: {
          initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:v3' }],
          containers: [
            { name: 'app', image: 'ghcr.io/acme/app:v2' },
            { name: 'sidecar', image: 'envoyproxy/envoy:v1.30.1' },
          ],
          ephemeralContainers: [{ name: 'debugger', image: 'busybox' }],
        },
        status: {
          phase: 'Running',
          // Deliberately out of order: matching is by name, never by position.
          containerStatuses: [
            {
              name: 'sidecar',
              imageID: `docker.io/envoyproxy/envoy@sha256:${HEX_B}`,
              state: { waiting: {} },
            },
            {
              name: 'app',
              imageID: `ghcr.io/acme/app@sha256:${HEX_A}`,
              state: { running: { startedAt: 't1' } },
            },
          ],
          initContainerStatuses: [
            {
              name: 'migrate',
              imageID: `ghcr.io/acme/migrate@sha256:${HEX_C}`,
              state: { terminated: { startedAt: 't0', exitCode: 0 } },
            },
          ],
          ephemeralContainerStatuses: [
            { name: 'debugger', imageID: '', state: { waiting: { reason: 'x' } } },
          ],
        },
      }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.containers).toEqual([
      {
        name: 'migrate',
        type: 'init',
        image: 'ghcr.io/acme/migrate:v3',
        repository: 'ghcr.io/acme/migrate',
        tag: 'v3',
        digest: `sha256:${HEX_C}`,
        imageID: `ghcr.io/acme/migrate@sha256:${HEX_C}`,
        startedAt: 't0',
      },
      {
        name: 'app',
        type: 'container',
        image: 'ghcr.io/acme/app:v2',
        repository: 'ghcr.io/acme/app',
        tag: 'v2',
        digest: `sha256:${HEX_A}`,
        imageID: `ghcr.io/acme/app@sha256:${HEX_A}`,
        startedAt: 't1',
      },
      {
        name: 'sidecar',
        type: 'container',
        image: 'envoyproxy/envoy:v1.30.1',
        repository: 'docker.io/envoyproxy/envoy',
        tag: 'v1.30.1',
        digest: `sha256:${HEX_B}`,
        imageID: `docker.io/envoyproxy/envoy@sha256:${HEX_B}`,
      },
      { name: 'debugger', type: 'ephemeral', image: 'busybox', repository: 'docker.io/library/busybox' },
    ]);
  });

  it('reads Docker repo digests (docker-pullable://) as the manifest digest', () => {
    const record = toPodRecord(
      pod({
        status: { containerStatuses: [{ name: 'app', imageID: `docker-pullable://nginx@sha256:${HEX_A}` }] },
      }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.containers[0]).toMatchObject({ digest: `sha256:${HEX_A}` });
    expect(record?.containers[0]?.configId).toBeUndefined();
  });

  it('keeps a Docker image config id apart from manifest digests', () => {
    const record = toPodRecord(
      pod({ status: { containerStatuses: [{ name: 'app', imageID: `docker://sha256:${HEX_B}` }] } }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.containers[0]).toMatchObject({
      configId: `sha256:${HEX_B}`,
      imageID: `docker://sha256:${HEX_B}`,
    });
    expect(record?.containers[0]?.digest).toBeUndefined();
  });

  it('uses the digest pinned in the spec when the runtime only reports a config id', () => {
    const record = toPodRecord(
      pod({
        spec: { containers: [{ name: 'app', image: `nginx:1.25@sha256:${HEX_A}` }] },
        status: { containerStatuses: [{ name: 'app', imageID: `sha256:${HEX_B}` }] },
      }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.containers[0]).toMatchObject({
      repository: 'docker.io/library/nginx',
      tag: '1.25',
      digest: `sha256:${HEX_A}`,
      configId: `sha256:${HEX_B}`,
    });
  });

  it('leaves digest empty for a pending container whose imageID is still empty', () => {
    const record = toPodRecord(
      pod({
        status: {
          phase: 'Pending',
          containerStatuses: [
            { name: 'app', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } },
          ],
        },
      }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.phase).toBe('Pending');
    expect(record?.containers[0]).toEqual({
      name: 'app',
      type: 'container',
      image: 'nginx:1.25',
      repository: 'docker.io/library/nginx',
      tag: '1.25',
    });
  });

  it('records a pod without status (just scheduled) with spec images only', () => {
    const record = toPodRecord(pod({ status: undefined }), 'c', 'e', EMPTY);
    expect(record?.phase).toBeUndefined();
    expect(record?.containers).toEqual([
      {
        name: 'app',
        type: 'container',
        image: 'nginx:1.25',
        repository: 'docker.io/library/nginx',
        tag: '1.25',
      },
    ]);
  });

  it('still records a container whose image is unparseable, without repository', () => {
    const record = toPodRecord(
      pod({
        spec: {
          containers: [
            { name: 'app', image: 'Not A Valid//Image' },
            { name: 'empty', image: '' },
            { name: 'missing' },
          ],
        },
        status: { containerStatuses: [{ name: 'app', imageID: `docker.io/acme/app@sha256:${HEX_A}` }] },
      }),
      'c',
      'e',
      EMPTY,
    );
    expect(record?.containers).toEqual([
      {
        name: 'app',
        type: 'container',
        image: 'Not A Valid//Image',
        digest: `sha256:${HEX_A}`,
        imageID: `docker.io/acme/app@sha256:${HEX_A}`,
      },
      { name: 'empty', type: 'container', image: '' },
      { name: 'missing', type: 'container', image: '' },
    ]);
  });

  it('returns undefined, without throwing, for objects too malformed to index', () => {
    const malformed: unknown[] = [
      undefined,
      null,
      'pod',
      42,
      [],
      {},
      { metadata: null },
      { metadata: 'x' },
      { metadata: { name: 'a', namespace: 'b' } },
      { metadata: { name: 'a', uid: 'u' } },
      { metadata: { namespace: 'b', uid: 'u' } },
      { metadata: { name: '', namespace: 'b', uid: 'u' } },
      { metadata: { name: 5, namespace: 'b', uid: 'u' } },
    ];
    for (const m of malformed) expect(toPodRecord(m, 'c', 'e', EMPTY)).toBeUndefined();
  });

  it('tolerates junk inside an otherwise indexable pod', () => {
    const record = toPodRecord(
      {
        metadata: { name: 'p', namespace: 'n', uid: 'u', labels: 'junk', ownerReferences: 'junk' },
        spec: { containers: [null, 'x', { name: 7 }, { name: 'ok', image: 'redis:7' }], nodeName: 12 },
        status: { phase: 3, containerStatuses: [null, { name: 'ok', imageID: 99, state: 'junk' }] },
      },
      'c',
      'e',
      EMPTY,
    );
    expect(record).toEqual({
      cluster: 'c',
      environment: 'e',
      namespace: 'n',
      name: 'p',
      uid: 'u',
      workload: { kind: 'Pod', name: 'p' },
      containers: [
        { name: 'ok', type: 'container', image: 'redis:7', repository: 'docker.io/library/redis', tag: '7' },
      ],
    });
    expect(
      toPodRecord({ metadata: { name: 'p', namespace: 'n', uid: 'u' } }, 'c', 'e', EMPTY)?.containers,
    ).toEqual([]);
  });
});
