import { describe, expect, it } from 'vitest';
import type { ActionPlan, PlanStep, StepRecord } from '../../src/domain/actions/contract.ts';
import {
  FREEZE_PREFIX,
  freezePart,
  UNFREEZE_PREFIX,
  unprefixed,
  withFreezeSteps,
  withNote,
  withUnfreezeSteps,
} from '../../src/domain/provenance/quarantine-freeze.ts';

const step = (key: string, over: Partial<PlanStep> = {}): PlanStep => ({
  key,
  target: { system: 'kubernetes', location: 'prod-eu', environment: 'prod', kind: 'Deployment', name: key },
  description: key,
  change: { key },
  state: 'todo',
  ...over,
});
const plan = (
  kind: ActionPlan['kind'],
  steps: PlanStep[],
  environments: string[],
  notes: string[] = [],
): ActionPlan => ({
  kind,
  title: `${kind} title`,
  steps,
  environments,
  notes,
});

const quarantine = plan('quarantine', [step('prod-eu/VAP/q'), step('prod-eu/VAPB/q')], ['prod'], ['q note']);
const freeze = plan(
  'freeze',
  [
    step('stage-1/Kustomization/flux/apps'),
    step('stage-1/Deployment/shop/api', { ownerOf: 'stage-1/Kustomization/flux/apps' }),
  ],
  ['stage', 'dev'],
  ['f note'],
);

describe('Quarantine + freeze as one plan', () => {
  it('appends the freeze steps after the policies, keys and owners prefixed, environments and notes merged', () => {
    const both = withFreezeSteps(quarantine, freeze, 2);
    expect(both.kind).toBe('quarantine');
    expect(both.title).toBe('quarantine title and freeze deploys of 2 workload(s)');
    expect(both.steps.map((s) => s.key)).toEqual([
      'prod-eu/VAP/q',
      'prod-eu/VAPB/q',
      `${FREEZE_PREFIX}stage-1/Kustomization/flux/apps`,
      `${FREEZE_PREFIX}stage-1/Deployment/shop/api`,
    ]);
    expect(both.steps[3]?.ownerOf).toBe(`${FREEZE_PREFIX}stage-1/Kustomization/flux/apps`);
    expect(both.steps[2]).not.toHaveProperty('ownerOf');
    expect(both.environments).toEqual(['dev', 'prod', 'stage']);
    expect(both.notes).toEqual(['q note', 'f note']);
  });

  it('hands the freeze part back with its own keys and records, and nothing of the policies', () => {
    const both = withFreezeSteps(quarantine, freeze, 2);
    const records: StepRecord[] = [
      { key: 'prod-eu/VAP/q', state: 'applied', at: 't' },
      {
        key: `${FREEZE_PREFIX}stage-1/Deployment/shop/api`,
        state: 'applied',
        prior: { paused: null },
        at: 't',
      },
    ];
    const part = freezePart(both, records);
    expect(part.steps).toEqual(freeze.steps);
    expect(part.records).toEqual([
      { key: 'stage-1/Deployment/shop/api', state: 'applied', prior: { paused: null }, at: 't' },
    ]);
    expect(freezePart(quarantine, records.slice(0, 1))).toEqual({ steps: [], records: [] });
  });

  it('unprefixes only a prefixed owner', () => {
    expect(
      unprefixed(step(`${FREEZE_PREFIX}a`, { ownerOf: `${FREEZE_PREFIX}b` }), FREEZE_PREFIX),
    ).toMatchObject({ key: 'a', ownerOf: 'b' });
    expect(unprefixed(step(`${FREEZE_PREFIX}a`, { ownerOf: 'b' }), FREEZE_PREFIX).ownerOf).toBe('b');
  });

  it('Release: policy deletions first, then the unfreeze steps prefixed; the title says both', () => {
    const release = plan('release', [step('prod-eu/VAPB/q#release')], ['prod'], ['r note']);
    release.title = 'Release quarantine of sha256:x in 1 cluster(s) and freeze deploys of 2 workload(s)';
    const unfreeze = plan(
      'unfreeze',
      [step('stage-1/Deployment/shop/api#unfreeze', { ownerOf: 'x' })],
      ['stage'],
      ['u note'],
    );
    const both = withUnfreezeSteps(release, unfreeze);
    expect(both.title).toBe('Release quarantine of sha256:x in 1 cluster(s) and unfreeze what it froze');
    expect(both.steps.map((s) => s.key)).toEqual([
      'prod-eu/VAPB/q#release',
      `${UNFREEZE_PREFIX}stage-1/Deployment/shop/api#unfreeze`,
    ]);
    expect(both.steps[1]?.ownerOf).toBe(`${UNFREEZE_PREFIX}x`);
    expect(both.environments).toEqual(['prod', 'stage']);
    expect(both.notes).toEqual(['r note', 'u note']);
    expect(both.kind).toBe('release');
  });

  it('a note is added, never replacing the others', () => {
    expect(withNote(quarantine, 'nothing to freeze').notes).toEqual(['q note', 'nothing to freeze']);
    expect(quarantine.notes).toEqual(['q note']);
  });
});
