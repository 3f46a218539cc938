import type { FakeKube, KubeObject } from './fake-kube.ts';

/** Serves the GitOps and rollout CRDs the freeze path touches (Argo Rollouts, Flux, Argo CD). */
export function registerGitopsCrds(fake: FakeKube): void {
  fake.registerCustomResource({
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'rollouts',
    kind: 'Rollout',
    namespaced: true,
  });
  fake.registerCustomResource({
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'applications',
    kind: 'Application',
    namespaced: true,
  });
  fake.registerCustomResource({
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'kustomizations',
    kind: 'Kustomization',
    namespaced: true,
  });
  fake.registerCustomResource({
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    plural: 'helmreleases',
    kind: 'HelmRelease',
    namespaced: true,
  });
  fake.registerCustomResource({
    group: 'image.toolkit.fluxcd.io',
    version: 'v1beta2',
    plural: 'imageupdateautomations',
    kind: 'ImageUpdateAutomation',
    namespaced: true,
  });
}

type Meta = { labels?: Record<string, string>; annotations?: Record<string, string> };

/** A Deployment (optionally already paused) as the freeze planner sees it. */
export function deployment(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  meta: Meta = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...meta },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, ...spec },
  };
}

export function statefulSet(
  namespace: string,
  name: string,
  updateStrategy?: Record<string, unknown>,
  meta: Meta = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, ...meta },
    spec: { replicas: 3, serviceName: name, ...(updateStrategy ? { updateStrategy } : {}) },
  };
}

export function daemonSet(
  namespace: string,
  name: string,
  updateStrategy?: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace },
    spec: { ...(updateStrategy ? { updateStrategy } : {}) },
  };
}

export function cronJob(namespace: string, name: string, suspend?: boolean): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace },
    spec: { schedule: '*/5 * * * *', ...(suspend !== undefined ? { suspend } : {}) },
  };
}

export function kustomization(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  meta: Meta = {},
): KubeObject {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name, namespace, ...meta },
    spec: {
      interval: '5m',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'fleet' },
      path: `./apps/${name}`,
      ...spec,
    },
  };
}

export function imageUpdateAutomation(
  namespace: string,
  name: string,
  path: string,
  repo = 'fleet',
): KubeObject {
  return {
    apiVersion: 'image.toolkit.fluxcd.io/v1beta2',
    kind: 'ImageUpdateAutomation',
    metadata: { name, namespace },
    spec: {
      interval: '5m',
      sourceRef: { kind: 'GitRepository', name: repo },
      update: { path, strategy: 'Setters' },
    },
  };
}

export function argoApplication(
  name: string,
  syncPolicy?: Record<string, unknown>,
  meta: Meta = {},
): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', ...meta },
    spec: { project: 'default', ...(syncPolicy ? { syncPolicy } : {}) },
  };
}

/** Labels Flux's kustomize-controller puts on what a Kustomization applies. */
export function fluxLabels(name: string, namespace = 'flux-system'): Record<string, string> {
  return { 'kustomize.toolkit.fluxcd.io/name': name, 'kustomize.toolkit.fluxcd.io/namespace': namespace };
}
