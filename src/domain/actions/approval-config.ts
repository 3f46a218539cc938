import { z } from 'zod';

const ACTION_KINDS = ['freeze', 'unfreeze', 'quarantine', 'release', 'rotate', 'rotate-finish'] as const;

const approverRule = z
  .object({
    /** Action kinds this rule covers; "*" for all. */
    kinds: z
      .array(z.enum([...ACTION_KINDS, '*']))
      .min(1)
      .default(['*']),
    /** Cluster environments this rule covers; "*" for all. */
    environments: z.array(z.string().min(1)).min(1).default(['*']),
    users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'a user id such as U0123ABCD')).default([]),
    usergroups: z.array(z.string().regex(/^S[A-Z0-9]+$/, 'a user group id such as S0123ABCD')).default([]),
    /** Approvals needed (M of N); prod usually wants 2. */
    required: z.number().int().min(1).max(10).default(1),
  })
  .strict()
  .refine((r) => r.users.length + r.usergroups.length > 0, {
    message: 'name at least one user or usergroup',
  });

/** The `actions` section: who may approve which change where, and how long a request stays open. */
export const actionsConfigSchema = z
  .object({
    requestTtlMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(30),
    /** The requester cannot approve their own request. */
    twoPersonRule: z.boolean().default(true),
    approvers: z.array(approverRule).default([]),
    /** Re-read changed objects this long after execution and report any that were reverted. */
    recheckSeconds: z.number().int().min(1).max(3600).default(120),
    /** Objects changed at the same time during one execution. */
    parallelism: z.number().int().min(1).max(256).default(32),
    gitops: z
      .object({
        /** Namespace of Argo CD Applications. */
        argoNamespace: z.string().min(1).default('argocd'),
        /** Extra root sync objects never to suspend, as kind/namespace/name (flux-system is always one). */
        roots: z
          .array(z.string().regex(/^(Kustomization|HelmRelease|Application)\/[^/]+\/[^/]+$/))
          .default([]),
      })
      .strict()
      .default({ argoNamespace: 'argocd', roots: [] }),
  })
  .strict()
  .default({
    requestTtlMinutes: 30,
    twoPersonRule: true,
    approvers: [],
    recheckSeconds: 120,
    parallelism: 32,
    gitops: { argoNamespace: 'argocd', roots: [] },
  });

export type ActionsConfig = z.infer<typeof actionsConfigSchema>;
export type ApproverRule = ActionsConfig['approvers'][number];
