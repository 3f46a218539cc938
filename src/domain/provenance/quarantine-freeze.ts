import type { ActionPlan, PlanStep, StepRecord } from '../actions/contract.ts';

/**
 * "Quarantine + freeze" as one request: the Freeze plan of the workloads that run the digest is appended to the
 * Quarantine plan with its step keys prefixed, so the Quarantine executor can hand those steps to the Freeze
 * executor (and Release's to the Unfreeze executor) with their own keys — the markers Freeze writes on objects
 * and the prior values Unfreeze restores are exactly those of a plain Freeze. Pure.
 */

/** Steps of a Quarantine plan that freeze a workload (delegated to the Freeze executor) carry this key prefix. */
export const FREEZE_PREFIX = 'freeze:';
/** … and the steps of its Release that restore them (delegated to the Unfreeze executor). */
export const UNFREEZE_PREFIX = 'unfreeze:';

const prefixed = (step: PlanStep, prefix: string): PlanStep => ({
  ...step,
  key: `${prefix}${step.key}`,
  ...(step.ownerOf ? { ownerOf: `${prefix}${step.ownerOf}` } : {}),
});

/** A delegated step as its own executor knows it: the prefix taken off its key (and its owner's). */
export const unprefixed = (step: PlanStep, prefix: string): PlanStep => ({
  ...step,
  key: step.key.slice(prefix.length),
  ...(step.ownerOf?.startsWith(prefix) ? { ownerOf: step.ownerOf.slice(prefix.length) } : {}),
});

export function withNote(plan: ActionPlan, note: string): ActionPlan {
  return { ...plan, notes: [...plan.notes, note] };
}

/** The quarantine plan followed by the freeze plan (policies first: admission stops new pods, then rollouts). */
export function withFreezeSteps(quarantine: ActionPlan, freeze: ActionPlan, workloads: number): ActionPlan {
  return {
    ...quarantine,
    title: `${quarantine.title} and freeze deploys of ${workloads} workload(s)`,
    steps: [...quarantine.steps, ...freeze.steps.map((s) => prefixed(s, FREEZE_PREFIX))],
    environments: [...new Set([...quarantine.environments, ...freeze.environments])].sort(),
    notes: [...quarantine.notes, ...freeze.notes],
  };
}

/** The freeze steps of a stored Quarantine plan and their records, with their own keys. */
export function freezePart(
  plan: ActionPlan,
  records: readonly StepRecord[],
): { steps: PlanStep[]; records: StepRecord[] } {
  return {
    steps: plan.steps.filter((s) => s.key.startsWith(FREEZE_PREFIX)).map((s) => unprefixed(s, FREEZE_PREFIX)),
    records: records
      .filter((r) => r.key.startsWith(FREEZE_PREFIX))
      .map((r) => ({ ...r, key: r.key.slice(FREEZE_PREFIX.length) })),
  };
}

/** Release: the policy deletions, then the unfreeze of what the quarantine froze. */
export function withUnfreezeSteps(release: ActionPlan, unfreeze: ActionPlan): ActionPlan {
  return {
    ...release,
    title: `${release.title.replace(/ and freeze deploys of .*$/, '')} and unfreeze what it froze`,
    steps: [...release.steps, ...unfreeze.steps.map((s) => prefixed(s, UNFREEZE_PREFIX))],
    environments: [...new Set([...release.environments, ...unfreeze.environments])].sort(),
    notes: [...release.notes, ...unfreeze.notes],
  };
}
