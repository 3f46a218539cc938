/**
 * The benchmark fleet, deterministic so the fake-fleet server (which serves it) and the benchmark (which
 * looks digests up) agree without talking: N clusters × P pods of Deployments, half of them with a sidecar
 * (so ≈1.5 containers per pod), 2 × IMAGES distinct images (an app image and a sidecar image per index,
 * hence ≈2 × IMAGES distinct digests) spread round-robin over the whole fleet so that a common digest runs
 * in many clusters, and one planted "needle" digest running in a few pods of 3 clusters.
 *
 * SCOPE_BENCH_FLEET picks a preset shape (`standard`, the default, as above; `heavy`: Deployments of 10 pods
 * with one container each, 5,000 images, half of the imageIDs in docker-pullable:// form, as dockershim
 * and cri-dockerd report them); the individual SCOPE_BENCH_* knobs override a preset's values.
 */
import type { KubeObject } from '../src/testing/fake-kube.ts';
import {
  defaultImageID,
  fakeDigest,
  makeDeploymentChain,
  makeNamespace,
} from '../src/testing/kube-fixtures.ts';

export type FleetShape = {
  /** Preset the shape started from. */
  name: FleetPreset;
  clusters: number;
  /** Pods per cluster (needle pods included). */
  podsPerCluster: number;
  /** Distinct app images; as many distinct sidecar images again when `sidecars`. */
  images: number;
  podsPerDeployment: number;
  namespaces: number;
  /** Every other Deployment runs a sidecar container too. */
  sidecars: boolean;
  /** Share of Deployments (in percent) whose imageIDs are reported as `docker-pullable://repo@sha256:…`. */
  pullablePercent: number;
};

export type FleetPreset = 'standard' | 'heavy';

const PRESETS: Record<FleetPreset, Omit<FleetShape, 'name'>> = {
  standard: {
    clusters: 20,
    podsPerCluster: 10_000,
    images: 2_500,
    podsPerDeployment: 5,
    namespaces: 40,
    sidecars: true,
    pullablePercent: 0,
  },
  heavy: {
    clusters: 20,
    podsPerCluster: 10_000,
    images: 5_000,
    podsPerDeployment: 10,
    namespaces: 40,
    sidecars: false,
    pullablePercent: 50,
  },
};

export type BenchCluster = { index: number; name: string; environment: string; needlePods: number };

export const NEEDLE_DIGEST = fakeDigest('bench/needle/payments-api-2.4.0-compromised');
export const NEEDLE_IMAGE = 'registry.example.com/platform/payments-api:2.4.0';
export const NEEDLE_REPLICAS = 2;
const NEEDLE_NAMESPACE = 'payments';

export function shapeFromEnv(env: NodeJS.ProcessEnv = process.env): FleetShape {
  const name = env.SCOPE_BENCH_FLEET || 'standard';
  if (name !== 'standard' && name !== 'heavy') {
    throw new Error(`SCOPE_BENCH_FLEET=${name}: expected standard or heavy`);
  }
  const p = PRESETS[name];
  return {
    name,
    clusters: intEnv(env, 'SCOPE_BENCH_CLUSTERS', p.clusters, 1, 200),
    podsPerCluster: intEnv(env, 'SCOPE_BENCH_PODS', p.podsPerCluster, 10, 200_000),
    images: intEnv(env, 'SCOPE_BENCH_IMAGES', p.images, 1, 100_000),
    podsPerDeployment: intEnv(env, 'SCOPE_BENCH_PODS_PER_DEPLOYMENT', p.podsPerDeployment, 1, 1000),
    namespaces: intEnv(env, 'SCOPE_BENCH_NAMESPACES', p.namespaces, 1, 10_000),
    sidecars: intEnv(env, 'SCOPE_BENCH_SIDECARS', p.sidecars ? 1 : 0, 0, 1) === 1,
    pullablePercent: intEnv(env, 'SCOPE_BENCH_PULLABLE_PERCENT', p.pullablePercent, 0, 100),
  };
}

/** True when the shape is its preset at full scale (the scale the targets are set for). */
export function isFullScale(shape: FleetShape): boolean {
  const p = PRESETS[shape.name];
  return (Object.keys(p) as Array<keyof typeof p>).every((k) => shape[k] === p[k]);
}

export function intEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
  }
  return n;
}

export function appImage(i: number): string {
  return `registry.example.com/team-${i % 50}/app-${i}:1.0`;
}

export function sidecarImage(i: number): string {
  return `registry.example.com/team-${i % 50}/proxy-${i}:1.0`;
}

/** The digest the fake kubelet reports for an image (see defaultImageID in the fixtures). */
export function digestOfImage(image: string): string {
  const id = defaultImageID(image);
  return id.slice(id.indexOf('@') + 1);
}

/** Indices of the clusters that run the needle: three spread over the fleet (fewer in tiny fleets). */
export function needleClusterIndices(clusters: number): number[] {
  const picks = [Math.floor(clusters * 0.1), Math.floor(clusters * 0.5), Math.floor(clusters * 0.9)];
  return [...new Set(picks.map((i) => Math.min(clusters - 1, i)))];
}

export function benchClusters(shape: FleetShape): BenchCluster[] {
  const needles = new Set(needleClusterIndices(shape.clusters));
  const out: BenchCluster[] = [];
  for (let i = 0; i < shape.clusters; i++) {
    const environment =
      i < shape.clusters * 0.4 ? 'production' : i < shape.clusters * 0.7 ? 'staging' : 'dev';
    out.push({
      index: i,
      name: `bench-${String(i).padStart(2, '0')}`,
      environment,
      needlePods: needles.has(i) ? Math.min(NEEDLE_REPLICAS, shape.podsPerCluster) : 0,
    });
  }
  return out;
}

function deploymentsPerCluster(shape: FleetShape): number {
  return Math.ceil(shape.podsPerCluster / shape.podsPerDeployment);
}

/** Every objects of one cluster (namespaces, Deployments, ReplicaSets, Pods), in load order. */
export function clusterObjects(shape: FleetShape, cluster: BenchCluster): KubeObject[] {
  const out: KubeObject[] = [];
  for (let n = 0; n < shape.namespaces; n++) out.push(makeNamespace(`team-${n}`));
  if (cluster.needlePods > 0) {
    out.push(makeNamespace(NEEDLE_NAMESPACE));
    const hex = NEEDLE_DIGEST.slice('sha256:'.length);
    out.push(
      ...makeDeploymentChain({
        namespace: NEEDLE_NAMESPACE,
        deployment: 'payments-api',
        replicas: cluster.needlePods,
        startTime: '2026-11-20T09:15:00Z',
        containers: [
          {
            name: 'api',
            image: NEEDLE_IMAGE,
            imageID: `registry.example.com/platform/payments-api@sha256:${hex}`,
          },
        ],
      }).objects,
    );
  }
  const perCluster = deploymentsPerCluster(shape);
  let remaining = shape.podsPerCluster - cluster.needlePods;
  for (let d = 0; remaining > 0; d++) {
    const g = cluster.index * perCluster + d;
    const replicas = Math.min(shape.podsPerDeployment, remaining);
    const containers: Array<{ name: string; image: string; imageID?: string }> = [
      { name: 'app', image: appImage(g % shape.images) },
    ];
    if (shape.sidecars && d % 2 === 1)
      containers.push({ name: 'proxy', image: sidecarImage((g >> 1) % shape.images) });
    // Spread evenly: Deployment d reports docker-pullable:// ids when its position crosses a percent step.
    if (Math.floor(((d + 1) * shape.pullablePercent) / 100) > Math.floor((d * shape.pullablePercent) / 100)) {
      for (const c of containers) c.imageID = `docker-pullable://${defaultImageID(c.image)}`;
    }
    out.push(
      ...makeDeploymentChain({
        namespace: `team-${d % shape.namespaces}`,
        deployment: `svc-${d}`,
        replicas,
        containers,
      }).objects,
    );
    remaining -= replicas;
  }
  return out;
}

/** What the fleet holds, counted from the objects (pods, containers, distinct digests). */
export type FleetCounts = { pods: number; containers: number; digests: Set<string> };

export function countObjects(objects: readonly KubeObject[], into: FleetCounts): void {
  for (const o of objects) {
    if (o.kind !== 'Pod') continue;
    into.pods += 1;
    const statuses = (o.status as { containerStatuses?: { imageID?: string }[] } | undefined)
      ?.containerStatuses;
    for (const s of statuses ?? []) {
      into.containers += 1;
      const id = s.imageID ?? '';
      const at = id.indexOf('@');
      if (at >= 0) into.digests.add(id.slice(at + 1));
    }
  }
}

/** The common digests (every app and sidecar image index), for random lookups. */
export function commonDigests(shape: FleetShape): string[] {
  const totalDeployments = shape.clusters * deploymentsPerCluster(shape);
  const out = new Set<string>();
  for (let i = 0; i < Math.min(shape.images, totalDeployments); i++) out.add(digestOfImage(appImage(i)));
  if (shape.sidecars)
    for (let i = 0; i < Math.min(shape.images, Math.floor(totalDeployments / 2)); i++)
      out.add(digestOfImage(sidecarImage(i)));
  return [...out];
}
