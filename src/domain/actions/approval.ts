import type { ActionsConfig, ApproverRule } from './approval-config.ts';
import type { ActionKind } from './contract.ts';

/** Who may approve one request and how many approvals it needs; derived from configuration, never stored. */
export type ApprovalPolicy = {
  /** Per environment the plan touches: an approver must be allowed in every one of them. */
  perEnvironment: Array<{ environment: string; users: string[]; usergroups: string[] }>;
  required: number;
  twoPersonRule: boolean;
};

/** A person clicking a button, with the user groups they belong to (resolved by the Slack adapter). */
export type Actor = { userId: string; usergroups: readonly string[] };

/** Fallback approvers when no rule matches: `access.approvers` with one approval. */
export type DefaultApprovers = { users: readonly string[]; usergroups: readonly string[] };

function covers(list: readonly string[], value: string): 'exact' | 'wildcard' | undefined {
  if (list.includes(value)) return 'exact';
  return list.includes('*') ? 'wildcard' : undefined;
}

/** The rules for one kind in one environment: the most specific match (environment first, then kind). */
export function rulesFor(
  rules: readonly ApproverRule[],
  kind: ActionKind,
  environment: string,
): ApproverRule[] {
  let best: ApproverRule[] = [];
  let bestScore = -1;
  for (const r of rules) {
    const k = covers(r.kinds, kind);
    const e = covers(r.environments, environment);
    if (!k || !e) continue;
    const score = (e === 'exact' ? 2 : 0) + (k === 'exact' ? 1 : 0);
    if (score > bestScore) {
      best = [r];
      bestScore = score;
    } else if (score === bestScore) best.push(r);
  }
  return best;
}

/** The policy for a plan: the strictest rule among the environments it touches applies. */
export function approvalPolicy(
  config: Pick<ActionsConfig, 'approvers' | 'twoPersonRule'>,
  fallback: DefaultApprovers,
  kind: ActionKind,
  environments: readonly string[],
): ApprovalPolicy {
  const envs = environments.length > 0 ? [...new Set(environments)] : ['unknown'];
  let required = 1;
  const perEnvironment = envs.map((environment) => {
    const matched = rulesFor(config.approvers, kind, environment);
    if (matched.length === 0) {
      return { environment, users: [...fallback.users], usergroups: [...fallback.usergroups] };
    }
    required = Math.max(required, ...matched.map((r) => r.required));
    return {
      environment,
      users: [...new Set(matched.flatMap((r) => r.users))],
      usergroups: [...new Set(matched.flatMap((r) => r.usergroups))],
    };
  });
  return { perEnvironment, required, twoPersonRule: config.twoPersonRule };
}

/** Whether this person may approve (or deny) under the policy, in every environment of the plan. */
export function isApprover(policy: ApprovalPolicy, actor: Actor): boolean {
  return policy.perEnvironment.every(
    (e) => e.users.includes(actor.userId) || actor.usergroups.some((g) => e.usergroups.includes(g)),
  );
}

/** Usergroups the policy mentions, so the adapter resolves only those. */
export function usergroupsOf(policy: ApprovalPolicy): string[] {
  return [...new Set(policy.perEnvironment.flatMap((e) => e.usergroups))];
}

/** Whether anybody at all could approve (an empty policy is reported on the card, not discovered later). */
export function hasApprovers(policy: ApprovalPolicy): boolean {
  return policy.perEnvironment.every((e) => e.users.length + e.usergroups.length > 0);
}
