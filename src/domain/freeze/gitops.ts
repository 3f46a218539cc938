import type { RawObject } from './kinds.ts';

/** A GitOps object that (re)applies a workload and would revert a hand-made freeze. */
export type OwnerRef = {
  kind: 'Kustomization' | 'HelmRelease' | 'Application';
  namespace: string;
  name: string;
  /** How it was detected, for the card. */
  via: string;
  /** A guess from a label that many Helm charts also set: only an owner if the Application exists. */
  tentative?: boolean;
};

const FLUX_KS = 'kustomize.toolkit.fluxcd.io';
const FLUX_HELM = 'helm.toolkit.fluxcd.io';
const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';
const INSTANCE = 'app.kubernetes.io/instance';

/**
 * The nearest GitOps owner of an object from its labels and annotations: a Flux HelmRelease before a Flux
 * Kustomization (the release is applied by the Kustomization, the workload by the release), then Argo CD.
 */
export function nearestOwner(obj: RawObject, argoNamespace: string): OwnerRef | undefined {
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  const helm = labels[`${FLUX_HELM}/name`];
  if (helm) {
    return {
      kind: 'HelmRelease',
      name: helm,
      namespace: labels[`${FLUX_HELM}/namespace`] ?? obj.metadata?.namespace ?? 'default',
      via: `label ${FLUX_HELM}/name`,
    };
  }
  const ks = labels[`${FLUX_KS}/name`];
  if (ks) {
    return {
      kind: 'Kustomization',
      name: ks,
      namespace: labels[`${FLUX_KS}/namespace`] ?? obj.metadata?.namespace ?? 'flux-system',
      via: `label ${FLUX_KS}/name`,
    };
  }
  const tracking = annotations[ARGO_TRACKING];
  if (tracking) {
    const app = tracking.split(':')[0] ?? '';
    if (app) {
      // Apps in any namespace are tracked as "<namespace>_<name>".
      const [ns, name] = app.includes('_') ? (app.split('_', 2) as [string, string]) : [argoNamespace, app];
      return { kind: 'Application', namespace: ns, name, via: `annotation ${ARGO_TRACKING}` };
    }
  }
  const instance = labels[INSTANCE];
  if (instance) {
    return {
      kind: 'Application',
      namespace: argoNamespace,
      name: instance,
      via: `label ${INSTANCE}`,
      tentative: true,
    };
  }
  return undefined;
}

/** The objects whose suspension stops GitOps for the whole cluster: never frozen by scope. */
export function isRootSyncObject(
  owner: Pick<OwnerRef, 'kind' | 'namespace' | 'name'>,
  configuredRoots: readonly string[],
  managesApplications: boolean,
): boolean {
  if (owner.kind === 'Kustomization' && owner.name === 'flux-system') return true;
  if (owner.kind === 'Application' && managesApplications) return true;
  return configuredRoots.includes(`${owner.kind}/${owner.namespace}/${owner.name}`);
}

/** Whether an Application is named as the owner of another Application (an app of apps). */
export function ownsApplications(
  appName: string,
  appNamespace: string,
  apps: readonly RawObject[],
  argoNs: string,
) {
  return apps.some((a) => {
    const o = nearestOwner(a, argoNs);
    return o !== undefined && o.kind === 'Application' && o.name === appName && o.namespace === appNamespace;
  });
}

/** Flux ImageUpdateAutomations that write into the source and path a Kustomization applies. */
export function automationsWritingTo(
  kustomization: RawObject,
  automations: readonly RawObject[],
): RawObject[] {
  const ksNs = kustomization.metadata?.namespace ?? 'flux-system';
  const src = record(kustomization.spec?.sourceRef);
  const srcName = str(src?.name);
  if (!srcName || (src?.kind !== undefined && src.kind !== 'GitRepository')) return [];
  const srcNs = str(src?.namespace) ?? ksNs;
  const ksPath = normalizePath(str(kustomization.spec?.path));
  return automations.filter((a) => {
    const aNs = a.metadata?.namespace ?? 'flux-system';
    const ref = record(a.spec?.sourceRef);
    if (str(ref?.name) !== srcName || (str(ref?.namespace) ?? aNs) !== srcNs) return false;
    if (ref?.kind !== undefined && ref.kind !== 'GitRepository') return false;
    const update = record(a.spec?.update);
    const aPath = normalizePath(str(update?.path));
    return overlaps(aPath, ksPath);
  });
}

function normalizePath(p: string | undefined): string[] {
  return (p ?? '').split('/').filter((s) => s !== '' && s !== '.');
}

function overlaps(a: string[], b: string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
