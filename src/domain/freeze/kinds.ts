/**
 * How each kind's update path is frozen: which field, what "frozen" looks like, the merge patch that freezes
 * it, the exact prior value to record, and the merge patch that restores that prior value. Pure data.
 */

export type RawObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
};

export type FreezableKind =
  | 'Deployment'
  | 'Rollout'
  | 'CronJob'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Kustomization'
  | 'HelmRelease'
  | 'ImageUpdateAutomation'
  | 'Application';

export type KindSpec = {
  kind: FreezableKind;
  group: string;
  version: string;
  plural: string;
  /** The spec field the freeze changes, for the card. */
  field: string;
  isFrozen: (obj: RawObject) => boolean;
  /** The exact prior value of the touched field (null when absent). */
  prior: (obj: RawObject) => unknown;
  /** Whether a value read back from an object's annotation can be a prior value of this field. */
  isPrior: (value: unknown) => boolean;
  freezePatch: () => Record<string, unknown>;
  restorePatch: (prior: unknown) => Record<string, unknown>;
  describe: (obj: RawObject) => string;
};

const flag = (field: 'paused' | 'suspend') => ({
  field: `spec.${field}`,
  isFrozen: (o: RawObject) => o.spec?.[field] === true,
  prior: (o: RawObject) => o.spec?.[field] ?? null,
  isPrior: (v: unknown) => v === null || typeof v === 'boolean',
  freezePatch: () => ({ spec: { [field]: true } }),
  restorePatch: (prior: unknown) => ({ spec: { [field]: prior ?? null } }),
  describe: (o: RawObject) => `spec.${field}: ${show(o.spec?.[field])} → true`,
});

const updateStrategy = {
  field: 'spec.updateStrategy',
  isFrozen: (o: RawObject) => strategyOf(o)?.type === 'OnDelete',
  prior: (o: RawObject) => o.spec?.updateStrategy ?? null,
  isPrior: (v: unknown) => v === null || isRecord(v),
  // The API server rejects OnDelete while rollingUpdate is set (422): remove it in the same patch.
  freezePatch: () => ({ spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } }),
  restorePatch: (prior: unknown) => ({ spec: { updateStrategy: prior ?? null } }),
  describe: (o: RawObject) => `spec.updateStrategy: ${showStrategy(strategyOf(o))} → OnDelete`,
};

const argoSync = {
  field: 'spec.syncPolicy.automated',
  isFrozen: (o: RawObject) => !isRecord(syncPolicyOf(o)?.automated),
  prior: (o: RawObject) => o.spec?.syncPolicy ?? null,
  isPrior: (v: unknown) => v === null || isRecord(v),
  freezePatch: () => ({ spec: { syncPolicy: { automated: null } } }),
  restorePatch: (prior: unknown) => ({ spec: { syncPolicy: prior ?? null } }),
  describe: (o: RawObject) =>
    `spec.syncPolicy.automated: ${JSON.stringify(syncPolicyOf(o)?.automated ?? null)} → (removed)`,
};

export const KINDS: Record<FreezableKind, KindSpec> = {
  Deployment: { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', ...flag('paused') },
  Rollout: {
    kind: 'Rollout',
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'rollouts',
    ...flag('paused'),
  },
  CronJob: { kind: 'CronJob', group: 'batch', version: 'v1', plural: 'cronjobs', ...flag('suspend') },
  StatefulSet: {
    kind: 'StatefulSet',
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    ...updateStrategy,
  },
  DaemonSet: { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', ...updateStrategy },
  Kustomization: {
    kind: 'Kustomization',
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'kustomizations',
    ...flag('suspend'),
  },
  HelmRelease: {
    kind: 'HelmRelease',
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    plural: 'helmreleases',
    ...flag('suspend'),
  },
  ImageUpdateAutomation: {
    kind: 'ImageUpdateAutomation',
    group: 'image.toolkit.fluxcd.io',
    version: 'v1beta2',
    plural: 'imageupdateautomations',
    ...flag('suspend'),
  },
  Application: {
    kind: 'Application',
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'applications',
    ...argoSync,
  },
};

/** Workload kinds a freeze targets directly (the rest are GitOps owners). */
export const WORKLOAD_KINDS: readonly FreezableKind[] = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'Rollout',
];

export function isFreezableKind(kind: string): kind is FreezableKind {
  return Object.hasOwn(KINDS, kind);
}

/** API path of one object or (without a name) of a collection. */
export function apiPath(spec: KindSpec, namespace: string | undefined, name?: string): string {
  const base = spec.group ? `/apis/${spec.group}/${spec.version}` : `/api/${spec.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${spec.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Annotations scope writes on every object it changes: who, when, which request and step, the prior value. */
export const ANNOTATIONS = {
  by: 'scope.dev/frozen-by',
  at: 'scope.dev/frozen-at',
  request: 'scope.dev/freeze-request',
  reason: 'scope.dev/freeze-reason',
  /** `<requestId>/<stepKey>`: the idempotency marker a resumed execution recognises. */
  step: 'scope.dev/freeze-step',
  prior: 'scope.dev/freeze-prior',
  /** Set by an unfreeze, same role as `step`. */
  unfreezeStep: 'scope.dev/unfreeze-step',
} as const;

export function stepMarker(requestId: string, stepKey: string): string {
  return `${requestId}/${stepKey}`;
}

function strategyOf(o: RawObject): { type?: unknown; rollingUpdate?: unknown } | undefined {
  const s = o.spec?.updateStrategy;
  return isRecord(s) ? s : undefined;
}

function syncPolicyOf(o: RawObject): Record<string, unknown> | undefined {
  const s = o.spec?.syncPolicy;
  return isRecord(s) ? s : undefined;
}

function showStrategy(s: { type?: unknown; rollingUpdate?: unknown } | undefined): string {
  if (!s) return '(default RollingUpdate)';
  const type = typeof s.type === 'string' ? s.type : '(default RollingUpdate)';
  return isRecord(s.rollingUpdate) ? `${type} ${JSON.stringify(s.rollingUpdate)}` : type;
}

function show(v: unknown): string {
  return v === undefined || v === null ? '(unset)' : JSON.stringify(v);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
