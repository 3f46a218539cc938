import { describe, expect, it } from 'vitest';
import {
  automationsWritingTo,
  isRootSyncObject,
  nearestOwner,
  ownsApplications,
} from '../../src/domain/freeze/gitops.ts';
import { KINDS, type RawObject } from '../../src/domain/freeze/kinds.ts';
import { inverseFreezePlan } from '../../src/domain/freeze/plan.ts';

const obj = (
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
  spec = {},
): RawObject => ({
  metadata: { name: 'api', namespace: 'payments', labels, annotations },
  spec,
});

describe('freeze patches per kind', () => {
  it.each([
    ['Deployment', { replicas: 3 }, false, { spec: { paused: true } }, null],
    ['Deployment', { paused: true }, true, { spec: { paused: true } }, true],
    ['CronJob', { suspend: false }, false, { spec: { suspend: true } }, false],
    [
      'StatefulSet',
      { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      false,
      { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } },
      { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
    ],
    [
      'DaemonSet',
      { updateStrategy: { type: 'OnDelete' } },
      true,
      { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } },
      { type: 'OnDelete' },
    ],
    [
      'Application',
      { syncPolicy: { automated: { selfHeal: true }, syncOptions: ['X=1'] } },
      false,
      { spec: { syncPolicy: { automated: null } } },
      { automated: { selfHeal: true }, syncOptions: ['X=1'] },
    ],
    [
      'Application',
      { syncPolicy: { syncOptions: ['X=1'] } },
      true,
      { spec: { syncPolicy: { automated: null } } },
      { syncOptions: ['X=1'] },
    ],
    ['Kustomization', {}, false, { spec: { suspend: true } }, null],
  ] as const)('%s %j: frozen=%s', (kind, spec, frozen, patch, prior) => {
    const k = KINDS[kind];
    const o = obj({}, {}, spec);
    expect(k.isFrozen(o)).toBe(frozen);
    expect(k.freezePatch()).toEqual(patch);
    expect(k.prior(o)).toEqual(prior);
  });

  it('restore patches put back exactly the prior value (null deletes an absent field)', () => {
    expect(KINDS.Deployment.restorePatch(null)).toEqual({ spec: { paused: null } });
    expect(
      KINDS.StatefulSet.restorePatch({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } }),
    ).toEqual({
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
    });
  });
});

describe('GitOps owners', () => {
  it.each([
    [
      {
        'helm.toolkit.fluxcd.io/name': 'api',
        'helm.toolkit.fluxcd.io/namespace': 'flux-apps',
        'kustomize.toolkit.fluxcd.io/name': 'apps',
      },
      {},
      'HelmRelease',
      'flux-apps',
      'api',
      false,
    ],
    [
      {
        'kustomize.toolkit.fluxcd.io/name': 'payments',
        'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
      },
      {},
      'Kustomization',
      'flux-system',
      'payments',
      false,
    ],
    [
      {},
      { 'argocd.argoproj.io/tracking-id': 'payments:apps/Deployment:payments/api' },
      'Application',
      'argocd',
      'payments',
      false,
    ],
    [
      {},
      { 'argocd.argoproj.io/tracking-id': 'team-a_payments:apps/Deployment:payments/api' },
      'Application',
      'team-a',
      'payments',
      false,
    ],
    [{ 'app.kubernetes.io/instance': 'payments' }, {}, 'Application', 'argocd', 'payments', true],
  ])('%j %j → %s %s/%s', (labels, annotations, kind, ns, name, tentative) => {
    const o = nearestOwner(obj(labels, annotations), 'argocd');
    expect(o).toMatchObject({ kind, namespace: ns, name });
    expect(Boolean(o?.tentative)).toBe(tentative);
  });

  it('no labels, no owner', () => expect(nearestOwner(obj(), 'argocd')).toBeUndefined());

  it('root sync objects are recognised', () => {
    expect(
      isRootSyncObject({ kind: 'Kustomization', namespace: 'flux-system', name: 'flux-system' }, [], false),
    ).toBe(true);
    expect(
      isRootSyncObject({ kind: 'Kustomization', namespace: 'flux-system', name: 'apps' }, [], false),
    ).toBe(false);
    expect(
      isRootSyncObject(
        { kind: 'Kustomization', namespace: 'flux-system', name: 'apps' },
        ['Kustomization/flux-system/apps'],
        false,
      ),
    ).toBe(true);
    expect(isRootSyncObject({ kind: 'Application', namespace: 'argocd', name: 'root' }, [], true)).toBe(true);
    const apps = [
      obj({}, { 'argocd.argoproj.io/tracking-id': 'root:argoproj.io/Application:argocd/payments' }),
    ];
    expect(ownsApplications('root', 'argocd', apps, 'argocd')).toBe(true);
    expect(ownsApplications('payments', 'argocd', apps, 'argocd')).toBe(false);
  });

  it('image update automations writing into a Kustomization’s source and path', () => {
    const ks: RawObject = {
      metadata: { name: 'payments', namespace: 'flux-system' },
      spec: { sourceRef: { kind: 'GitRepository', name: 'fleet' }, path: './apps/payments' },
    };
    const iua = (name: string, repo: string, path: string): RawObject => ({
      metadata: { name, namespace: 'flux-system' },
      spec: { sourceRef: { kind: 'GitRepository', name: repo }, update: { path, strategy: 'Setters' } },
    });
    const found = automationsWritingTo(ks, [
      iua('whole-repo', 'fleet', './'),
      iua('payments', 'fleet', './apps/payments'),
      iua('other-app', 'fleet', './apps/orders'),
      iua('other-repo', 'infra', './apps/payments'),
    ]).map((a) => a.metadata?.name);
    expect(found).toEqual(['whole-repo', 'payments']);
  });
});

describe('inverse plan', () => {
  it('restores applied steps from their recorded prior; skipped ones only if handed over; names other holders', () => {
    const target = {
      system: 'kubernetes' as const,
      location: 'c1',
      environment: 'prod',
      kind: 'Deployment',
      namespace: 'ns',
      name: 'a',
    };
    const plan = {
      kind: 'freeze' as const,
      title: 't',
      environments: ['prod'],
      notes: [],
      steps: [
        {
          key: 'c1/Deployment/ns/a',
          target,
          description: '',
          change: { kind: 'Deployment', path: '/apis/apps/v1/namespaces/ns/deployments/a' },
          state: 'todo' as const,
        },
        {
          key: 'c1/Deployment/ns/b',
          target: { ...target, name: 'b' },
          description: '',
          change: { kind: 'Deployment', path: '/apis/apps/v1/namespaces/ns/deployments/b' },
          state: 'todo' as const,
        },
        {
          key: 'c1/Deployment/ns/c',
          target: { ...target, name: 'c' },
          description: '',
          change: { kind: 'Deployment', path: '/x' },
          state: 'todo' as const,
        },
      ],
    };
    const inv = inverseFreezePlan('r'.repeat(32), plan, [
      { key: 'c1/Deployment/ns/a', state: 'applied', prior: false, at: '' },
      { key: 'c1/Deployment/ns/b', state: 'skipped', at: '' },
      { key: 'c1/Deployment/ns/c', state: 'failed', error: 'x', at: '' },
    ]);
    expect(inv.kind).toBe('unfreeze');
    // The skipped one is a `held` step: restored only if another freeze hands it over; the failed one is not.
    expect(inv.steps.map((s) => s.key)).toEqual(['c1/Deployment/ns/a', 'c1/Deployment/ns/b']);
    expect(inv.steps[0]?.change).toMatchObject({ prior: false, freezeRequestId: 'r'.repeat(32) });
    expect(inv.steps[0]?.change).not.toHaveProperty('held');
    expect(inv.steps[1]?.change).toMatchObject({ prior: null, held: true });
    expect(inv.title).toMatch(/^Unfreeze 1 object /);
    expect(inv.notes.join(' ')).toMatch(/already frozen/);
    expect(inv.steps.some((s) => s.reason)).toBe(false);

    // Another active freeze holding `a` (not the one undone, not another kind) is named on the plan.
    const held = [
      {
        requestId: 'r'.repeat(32),
        requestedBy: 'U1',
        stepKey: 'c1/Deployment/ns/a',
        kind: 'freeze' as const,
        target,
      },
      {
        requestId: 'q'.repeat(32),
        requestedBy: 'U2',
        stepKey: 'c1/Deployment/ns/a',
        kind: 'quarantine' as const,
        target,
      },
      {
        requestId: 'b'.repeat(32),
        requestedBy: 'U3',
        stepKey: 'c1/Deployment/ns/a',
        kind: 'freeze' as const,
        target,
      },
    ];
    const annotated = inverseFreezePlan(
      'r'.repeat(32),
      plan,
      [{ key: 'c1/Deployment/ns/a', state: 'applied', prior: false, at: '' }],
      held,
    );
    expect(annotated.steps[0]?.reason).toBe(
      `will stay frozen: still frozen by request ${'b'.repeat(32)} (U3)`,
    );
  });
});
