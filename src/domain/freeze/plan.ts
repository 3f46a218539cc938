import { z } from 'zod';
import type { ActionPlan, PlanStep, StepRecord } from '../actions/contract.ts';
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
  })
  .strict();
export type UnfreezeChange = z.infer<typeof unfreezeChangeSchema>;

export function stepKey(cluster: string, kind: string, namespace: string | undefined, name: string): string {
  return `${cluster}/${kind}/${namespace ?? '-'}/${name}`;
}

/**
 * The unfreeze plan, from the executed freeze plan and its step records only: every step that was applied is
 * restored to its recorded prior value; objects that were already frozen (skipped) are left alone.
 */
export function inverseFreezePlan(
  freezeRequestId: string,
  plan: ActionPlan,
  records: readonly StepRecord[],
): ActionPlan {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const steps: PlanStep[] = [];
  for (const s of plan.steps) {
    const rec = byKey.get(s.key);
    if (rec?.state !== 'applied') continue;
    const change = freezeChangeSchema.safeParse(s.change);
    if (!change.success || !isFreezableKind(change.data.kind)) continue;
    steps.push({
      key: s.key,
      target: s.target,
      description: `restore ${describePrior(change.data.kind, rec.prior)}`,
      change: {
        kind: change.data.kind,
        path: change.data.path,
        prior: rec.prior ?? null,
        freezeRequestId,
        freezeStepKey: s.key,
      } satisfies UnfreezeChange,
      state: 'todo',
      ...(s.ownerOf ? { ownerOf: s.ownerOf } : {}),
    });
  }
  const left = plan.steps.filter((s) => byKey.get(s.key)?.state === 'skipped').length;
  return {
    kind: 'unfreeze',
    title: `Unfreeze ${steps.length} object${steps.length === 1 ? '' : 's'} frozen by request ${freezeRequestId.slice(0, 8)}`,
    steps,
    environments: [...new Set(steps.map((s) => s.target.environment))],
    notes: left > 0 ? [`${left} object(s) were already frozen before this freeze and stay as they are.`] : [],
  };
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
