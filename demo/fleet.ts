import type { KubeObject } from '../src/testing/fake-kube.ts';
import {
  fakeDigest,
  makeCronJobChain,
  makeDaemonSetChain,
  makeDeploymentChain,
  makeNamespace,
  makeStatefulSetChain,
} from '../src/testing/kube-fixtures.ts';

/** The demo's story: a compromised base image in two clusters, a vendor agent tag that drifted, one cluster down. */
export const COMPROMISED = fakeDigest('demo/base-runtime-2.4-compromised');
export const AGENT_GOOD = fakeDigest('demo/vendor-agent-5.2-build-1187');
export const AGENT_ODD = fakeDigest('demo/vendor-agent-5.2-build-1203');
export const PREVIOUS_API = fakeDigest('demo/payments-api-2.3');

const BASE = 'registry.example.com/platform/payments-api:2.4.0';
const AGENT = 'registry.example.com/vendor/agent:5.2';
const hex = (d: string) => d.slice('sha256:'.length);

/** A cluster of the demo fleet: its name, environment and the objects its fake API server serves. */
export type DemoCluster = { name: string; environment: string; objects: KubeObject[]; unreachable?: boolean };

function agent(nodes: string[], digest: string, startTime: string): KubeObject[] {
  return makeDaemonSetChain({
    namespace: 'vendor-agent',
    daemonSet: 'vendor-agent',
    nodes,
    startTime,
    containers: [
      { name: 'agent', image: AGENT, imageID: `registry.example.com/vendor/agent@sha256:${hex(digest)}` },
    ],
  }).objects;
}

function common(prefix: string): KubeObject[] {
  return [
    makeNamespace('payments'),
    makeNamespace('vendor-agent'),
    makeNamespace('ingress'),
    makeNamespace('data'),
    ...makeDeploymentChain({
      namespace: 'ingress',
      deployment: 'ingress-nginx',
      replicas: 2,
      startTime: '2026-10-02T09:00:00Z',
      containers: [{ name: 'controller', image: 'registry.k8s.io/ingress-nginx/controller:v1.11.3' }],
    }).objects,
    ...makeStatefulSetChain({
      namespace: 'data',
      statefulSet: 'redis',
      replicas: 3,
      startTime: '2026-09-14T12:30:00Z',
      containers: [{ name: 'redis', image: 'redis:7.2' }],
    }).objects,
    ...makeCronJobChain({
      namespace: 'data',
      cronJob: `${prefix}-backup`,
      scheduledTime: '2026-11-25T02:00:00Z',
      startTime: '2026-11-25T02:00:00Z',
      containers: [{ name: 'backup', image: 'ghcr.io/acme/backup:1.4' }],
    }).objects,
  ];
}

function paymentsApi(digest: string, replicas: number, startTime: string, hash: string): KubeObject[] {
  return makeDeploymentChain({
    namespace: 'payments',
    deployment: 'api',
    replicaSetHash: hash,
    replicas,
    startTime,
    containers: [
      {
        name: 'api',
        image: BASE,
        imageID: `registry.example.com/platform/payments-api@sha256:${hex(digest)}`,
      },
    ],
  }).objects;
}

export function demoFleet(): DemoCluster[] {
  return [
    {
      name: 'prod-eu',
      environment: 'prod',
      objects: [
        ...common('prod-eu'),
        ...paymentsApi(COMPROMISED, 4, '2026-11-21T14:05:00Z', '7d9f8c6b5a'),
        ...agent(['eu-node-1', 'eu-node-2', 'eu-node-3'], AGENT_GOOD, '2026-11-10T08:00:00Z'),
      ],
    },
    {
      name: 'prod-us',
      environment: 'prod',
      objects: [
        ...common('prod-us'),
        ...paymentsApi(PREVIOUS_API, 4, '2026-11-02T10:00:00Z', '5c4b3a2d1e'),
        ...agent(['us-node-1', 'us-node-2'], AGENT_ODD, '2026-11-24T03:12:00Z'),
      ],
    },
    {
      name: 'stage-1',
      environment: 'stage',
      objects: [
        ...common('stage-1'),
        ...paymentsApi(COMPROMISED, 2, '2026-11-19T16:40:00Z', '7d9f8c6b5a'),
        ...agent(['st-node-1'], AGENT_GOOD, '2026-11-09T08:00:00Z'),
      ],
    },
    {
      name: 'dev-1',
      environment: 'dev',
      objects: [
        ...common('dev-1'),
        ...paymentsApi(COMPROMISED, 1, '2026-11-18T11:00:00Z', '7d9f8c6b5a'),
        ...agent(['dev-node-1'], AGENT_GOOD, '2026-11-08T08:00:00Z'),
      ],
    },
    { name: 'prod-ap', environment: 'prod', objects: [], unreachable: true },
  ];
}

/** dev-1 rolls payments/api away from the compromised digest after the first sync, so history has something to show. */
export function devRollout(): { remove: Array<{ namespace: string; name: string }>; add: KubeObject[] } {
  const before = paymentsApi(COMPROMISED, 1, '2026-11-18T11:00:00Z', '7d9f8c6b5a');
  const after = paymentsApi(PREVIOUS_API, 1, new Date().toISOString(), '5c4b3a2d1e');
  return {
    remove: before
      .filter((o) => o.kind === 'Pod')
      .map((o) => ({ namespace: o.metadata.namespace ?? '', name: o.metadata.name })),
    add: after.filter((o) => o.kind === 'Pod' || o.kind === 'ReplicaSet'),
  };
}

/** A new payments/api pod in prod-eu on the compromised digest, started now (the demo's quarantine breach). */
export function breachPod(): KubeObject {
  const pods = paymentsApi(COMPROMISED, 5, new Date().toISOString(), '7d9f8c6b5a').filter(
    (o) => o.kind === 'Pod',
  );
  const pod = structuredClone(pods[4] as KubeObject);
  pod.metadata.name = `api-7d9f8c6b5a-breach${Date.now().toString(36).slice(-4)}`;
  pod.metadata.uid = `breach-${Date.now()}`;
  return pod;
}
