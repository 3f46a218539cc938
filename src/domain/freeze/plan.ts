import { z } from 'zod';
import type { ActionPlan, HeldTarget, Holding, PlanStep, StepRecord } from '../actions/contract.ts';
import { holdersOf } from '../actions/holdings.ts';
import { type FreezableKind, isFreezableKind } from './kinds.ts';

/** What a Freeze offer stores: which workloads, by cluster/environment/namespace/kind/name. */
export const freezeInputSchema = z
  .object({
    selectors: z
      .array(
        z
          .object({
            cluster: z.string().min(1).max(63).optional(),
            environment: z.string().min(1).max(63).optional(),
            namespace: z.string().min(1).max(253).optional(),
            kind: z.string().min(1).max(63).optional(),
            name: z.string().min(1).max(253).optional(),
          })
          .strict()
          .refine(
            (s) => s.cluster !== undefined || s.environment !== undefined,
            'a cluster or an environment',
          ),
      )
      .min(1)
      .max(5000),
  })
  .strict();
export type FreezeInput = z.infer<typeof freezeInputSchema>;
export type FreezeSelector = FreezeInput['selectors'][number];

/** The capability-specific `change` of a freeze step. */
export const freezeChangeSchema = z.object({ kind: z.string(), path: z.string().startsWith('/') }).strict();

/** The `change` of an unfreeze step: where, and the exact prior value recorded by the freeze. */
export const unfreezeChangeSchema = z
  .object({
    kind: z.string(),
    path: z.string().startsWith('/'),
    prior: z.unknown(),
    freezeRequestId: z.string(),
    freezeStepKey: z.string(),
    /** Already frozen when the freeze ran: restore only what another freeze handed over (prior on the object). */
    held: z.literal(true).optional(),
  })
  .strict();
export type UnfreezeChange = z.infer<typeof unfreezeChangeSchema>;

export function stepKey(cluster: string, kind: string, namespace: string | undefined, name: string): string {
  return `${cluster}/${kind}/${namespace ?? '-'}/${name}`;
}

/**
 * The unfreeze plan, from the executed freeze plan and its step records only. Every step that was applied is
 * restored to its recorded prior value. Objects that were already frozen when this freeze ran (skipped, or
 * already in place at planning) get a `held` step: restored only if another freeze handed them over to this
 * one (the object then carries this request's marker and the original prior value), left alone otherwise.
 * `held` (other active freezes' holdings) only annotates the card: each step asks again when it runs.
 */
export function inverseFreezePlan(
  freezeRequestId: string,
  plan: ActionPlan,
  records: readonly StepRecord[],
  held: readonly HeldTarget[] = [],
): ActionPlan {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const others = held.filter((h) => h.kind === 'freeze' && h.requestId !== freezeRequestId);
  const steps: PlanStep[] = [];
  let restorable = 0;
  for (const s of plan.steps) {
    const rec = byKey.get(s.key);
    const applied = s.state === 'todo' && rec?.state === 'applied';
    const inPlace = s.state === 'already-done' || (s.state === 'todo' && rec?.state === 'skipped');
    if (!applied && !inPlace) continue;
    const change = freezeChangeSchema.safeParse(s.change);
    if (!change.success || !isFreezableKind(change.data.kind)) continue;
    if (applied) restorable++;
    const holder = holdersOf(others, s.target)[0];
    steps.push({
      key: s.key,
      target: s.target,
      description: applied
        ? `restore ${describePrior(change.data.kind, rec?.prior)}`
        : 'was already frozen when this freeze ran: restored only if another freeze hands it over, left alone otherwise',
      change: {
        kind: change.data.kind,
        path: change.data.path,
        prior: applied ? (rec?.prior ?? null) : null,
        freezeRequestId,
        freezeStepKey: s.key,
        ...(applied ? {} : { held: true as const }),
      } satisfies UnfreezeChange,
      state: 'todo',
      ...(holder ? { reason: `will stay frozen: ${stillFrozenBy(holder)}` } : {}),
      ...(s.ownerOf ? { ownerOf: s.ownerOf } : {}),
    });
  }
  const left = steps.length - restorable;
  return {
    kind: 'unfreeze',
    title: `Unfreeze ${restorable} object${restorable === 1 ? '' : 's'} frozen by request ${freezeRequestId.slice(0, 8)}`,
    steps,
    environments: [...new Set(steps.map((s) => s.target.environment))],
    notes:
      left > 0
        ? [
            `${left} object(s) were already frozen before this freeze and stay as they are, unless another freeze handed them over to it.`,
          ]
        : [],
  };
}

/** The reason an unfreeze leaves an object frozen: another active freeze still holds it. */
export function stillFrozenBy(h: Holding): string {
  return `still frozen by request ${h.requestId} (${h.requestedBy})`;
}

function describePrior(kind: FreezableKind, prior: unknown): string {
  const v = prior === null || prior === undefined ? '(unset)' : JSON.stringify(prior);
  switch (kind) {
    case 'Deployment':
    case 'Rollout':
      return `spec.paused: ${v}`;
    case 'StatefulSet':
    case 'DaemonSet':
      return `spec.updateStrategy: ${v}`;
    case 'Application':
      return `spec.syncPolicy: ${v}`;
    default:
      return `spec.suspend: ${v}`;
  }
}

const KIND_NAMES: Record<string, string> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  cronjob: 'CronJob',
  job: 'Job',
  replicaset: 'ReplicaSet',
  pod: 'Pod',
};

/** The offer input for `/scope freeze <target>`. */
export function freezeInputFor(
  target: { environment: string } | { cluster: string; namespace?: string; kind?: string; workload?: string },
): FreezeInput {
  if ('environment' in target) return { selectors: [{ environment: target.environment }] };
  const kind = target.kind ? KIND_NAMES[target.kind] : undefined;
  return {
    selectors: [
      {
        cluster: target.cluster,
        ...(target.namespace ? { namespace: target.namespace } : {}),
        ...(kind ? { kind } : {}),
        ...(target.workload ? { name: target.workload } : {}),
      },
    ],
  };
}

/** One line per active freeze for `/scope frozen`. */
export type ActiveFreeze = {
  requestId: string;
  title: string;
  requestedBy: string;
  approvedBy: string[];
  reason: string;
  createdAt: string;
  finishedAt?: string;
  state: string;
  objects: number;
};
