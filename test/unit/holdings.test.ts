import { describe, expect, it } from 'vitest';
import type { PlanStep, StepRecord, StepTarget } from '../../src/domain/actions/contract.ts';
import { heldTargets, holdersOf, sameTarget } from '../../src/domain/actions/holdings.ts';
import type { ActionRequest } from '../../src/domain/actions/request.ts';

const t = (name: string, extra: Partial<StepTarget> = {}): StepTarget => ({
  system: 'kubernetes',
  location: 'c1',
  environment: 'prod',
  kind: 'Deployment',
  namespace: 'ns',
  name,
  ...extra,
});
const step = (name: string, state: PlanStep['state'] = 'todo'): PlanStep => ({
  key: `c1/Deployment/ns/${name}`,
  target: t(name),
  description: '',
  change: null,
  state,
});
const rec = (name: string, state: StepRecord['state']): [string, StepRecord] => [
  `c1/Deployment/ns/${name}`,
  { key: `c1/Deployment/ns/${name}`, state, at: '' },
];

function request(id: string, steps: PlanStep[], extra: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: id.repeat(32),
    kind: 'freeze',
    rev: 1,
    state: 'done',
    requestedBy: `U${id.toUpperCase()}`,
    reason: 'r',
    channelId: 'C1',
    createdAt: '',
    expiresAt: '',
    plan: { kind: 'freeze', title: '', steps, environments: ['prod'], notes: [] },
    approvals: [],
    executions: 1,
    ...extra,
  };
}

describe('holdings: what an active request counts on', () => {
  it('applied, skipped and already-in-place steps are held; failed, unrecorded and impossible ones are not', () => {
    const r = request('a', [
      step('applied'),
      step('skipped'),
      step('already', 'already-done'),
      step('failed'),
      step('unrun'),
      step('impossible', 'impossible'),
    ]);
    const records = new Map([rec('applied', 'applied'), rec('skipped', 'skipped'), rec('failed', 'failed')]);
    expect(heldTargets(r, records).map((h) => h.target.name)).toEqual(['applied', 'skipped', 'already']);
    expect(heldTargets({ ...r, undoneBy: 'x'.repeat(32) }, records)).toEqual([]);
  });

  it('the same object is cluster, kind, namespace and name; each holder once, in order', () => {
    expect(sameTarget(t('a'), t('a', { environment: 'other' }))).toBe(true);
    expect(sameTarget(t('a'), t('a', { location: 'c2' }))).toBe(false);
    expect(sameTarget(t('a'), t('a', { kind: 'StatefulSet' }))).toBe(false);
    expect(sameTarget(t('a'), t('a', { namespace: 'other' }))).toBe(false);
    const held = [
      ...heldTargets(request('b', [step('a', 'already-done'), step('a', 'already-done')]), new Map()),
      ...heldTargets(request('c', [step('a', 'already-done')]), new Map()),
    ];
    expect(holdersOf(held, t('a')).map((h) => h.requestedBy)).toEqual(['UB', 'UC']);
    expect(holdersOf(held, t('z'))).toEqual([]);
  });
});
