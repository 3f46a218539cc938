import { type Actor, type ApprovalPolicy, isApprover } from './approval.ts';
import type { ActionKind, ActionPlan, StepRecord } from './contract.ts';

/**
 * pending → approved → executing → done | partial | failed; pending → denied | cancelled | expired.
 * partial → executing again on a retry of the failed steps.
 */
export type RequestState =
  | 'pending'
  | 'approved'
  | 'executing'
  | 'done'
  | 'partial'
  | 'failed'
  | 'denied'
  | 'cancelled'
  | 'expired';

/** A request for a change: the plan as computed at request time, who asked, why, and who approved. */
export type ActionRequest = {
  id: string;
  kind: ActionKind;
  /** Incremented on every transition; the store writes only when the revision it read is still current. */
  rev: number;
  state: RequestState;
  requestedBy: string;
  reason: string;
  channelId: string;
  createdAt: string;
  expiresAt: string;
  plan: ActionPlan;
  approvals: Array<{ userId: string; at: string }>;
  decision?: { by: string; at: string; as: 'denied' | 'cancelled' | 'expired' };
  /** How many times execution started (1 normally; more after retries of failed steps). */
  executions: number;
  finishedAt?: string;
  /** For an inverse request (unfreeze): the request it undoes. */
  inverseOf?: string;
  /** Set on the original once an inverse request finished. */
  undoneBy?: string;
  /** A second, separately approved action offered after this one finished (its offer id and button label). */
  followUp?: { offerId: string; label: string };
};

/** Why a click changed nothing; each has a sentence the user sees ephemerally. */
export type Refusal =
  | 'not-found'
  | 'not-pending'
  | 'expired'
  | 'self-approval'
  | 'not-approver'
  | 'already-approved'
  | 'not-requester'
  | 'not-retryable';

/** A transition result: the next request (when something changed) and whether a refusal applies. */
export type Decision =
  | { ok: true; next: ActionRequest; approvedNow?: boolean }
  | { ok: false; refusal: Refusal; next?: ActionRequest };

const TERMINAL: readonly RequestState[] = ['done', 'failed', 'denied', 'cancelled', 'expired'];

export function isTerminal(state: RequestState): boolean {
  return TERMINAL.includes(state);
}

function bump(r: ActionRequest, patch: Partial<ActionRequest>): ActionRequest {
  return { ...r, ...patch, rev: r.rev + 1 };
}

function expiredAt(r: ActionRequest, now: Date): boolean {
  return r.state === 'pending' && now.getTime() >= Date.parse(r.expiresAt);
}

function expire(r: ActionRequest, now: Date): ActionRequest {
  return bump(r, { state: 'expired', decision: { by: 'scope', at: now.toISOString(), as: 'expired' } });
}

/** An approval click: checks state, expiry, the two-person rule, the approver list and duplicates. */
export function approve(r: ActionRequest, actor: Actor, policy: ApprovalPolicy, now: Date): Decision {
  if (expiredAt(r, now)) return { ok: false, refusal: 'expired', next: expire(r, now) };
  if (r.state === 'expired') return { ok: false, refusal: 'expired' };
  if (r.state !== 'pending') return { ok: false, refusal: 'not-pending' };
  if (policy.twoPersonRule && actor.userId === r.requestedBy) return { ok: false, refusal: 'self-approval' };
  if (!isApprover(policy, actor)) return { ok: false, refusal: 'not-approver' };
  if (r.approvals.some((a) => a.userId === actor.userId)) return { ok: false, refusal: 'already-approved' };
  const approvals = [...r.approvals, { userId: actor.userId, at: now.toISOString() }];
  const counted = policy.twoPersonRule ? approvals.filter((a) => a.userId !== r.requestedBy) : approvals;
  const approvedNow = counted.length >= policy.required;
  return { ok: true, next: bump(r, { approvals, state: approvedNow ? 'approved' : 'pending' }), approvedNow };
}

/** A denial: only an approver (other than the requester, who cancels instead) while the request is open. */
export function deny(r: ActionRequest, actor: Actor, policy: ApprovalPolicy, now: Date): Decision {
  if (expiredAt(r, now)) return { ok: false, refusal: 'expired', next: expire(r, now) };
  if (r.state === 'expired') return { ok: false, refusal: 'expired' };
  if (r.state !== 'pending') return { ok: false, refusal: 'not-pending' };
  if (actor.userId === r.requestedBy) return { ok: false, refusal: 'not-approver' };
  if (!isApprover(policy, actor)) return { ok: false, refusal: 'not-approver' };
  return {
    ok: true,
    next: bump(r, { state: 'denied', decision: { by: actor.userId, at: now.toISOString(), as: 'denied' } }),
  };
}

/** A cancellation: only the requester, before execution starts. */
export function cancel(r: ActionRequest, actor: Actor, now: Date): Decision {
  if (expiredAt(r, now)) return { ok: false, refusal: 'expired', next: expire(r, now) };
  if (r.state === 'expired') return { ok: false, refusal: 'expired' };
  if (r.state !== 'pending' && r.state !== 'approved') return { ok: false, refusal: 'not-pending' };
  if (actor.userId !== r.requestedBy) return { ok: false, refusal: 'not-requester' };
  return {
    ok: true,
    next: bump(r, {
      state: 'cancelled',
      decision: { by: actor.userId, at: now.toISOString(), as: 'cancelled' },
    }),
  };
}

/** The expiry timer: a request still pending at its expiry becomes expired. */
export function expireIfDue(r: ActionRequest, now: Date): Decision {
  if (expiredAt(r, now)) return { ok: true, next: expire(r, now) };
  return { ok: false, refusal: 'not-pending' };
}

/**
 * The execute job claims the request: approved → executing. A job resumed after a crash finds it executing
 * and continues (the step log decides what is left); anything else means there is nothing to run.
 */
export function startExecution(r: ActionRequest): Decision {
  if (r.state === 'approved')
    return { ok: true, next: bump(r, { state: 'executing', executions: r.executions + 1 }) };
  if (r.state === 'executing') return { ok: true, next: r };
  return { ok: false, refusal: 'not-pending' };
}

/** A retry of the failed steps of a partly executed request, by the requester or an approver. */
export function retry(r: ActionRequest, actor: Actor, policy: ApprovalPolicy): Decision {
  if (r.state !== 'partial' && r.state !== 'failed') return { ok: false, refusal: 'not-retryable' };
  if (actor.userId !== r.requestedBy && !isApprover(policy, actor))
    return { ok: false, refusal: 'not-approver' };
  return { ok: true, next: bump(r, { state: 'approved' }) };
}

/** Execution ended: done when every step is in place, partial when some failed, failed when none applied. */
export function finishExecution(
  r: ActionRequest,
  outcome: 'done' | 'partial' | 'failed',
  now: Date,
): Decision {
  if (r.state !== 'executing') return { ok: false, refusal: 'not-pending' };
  return { ok: true, next: bump(r, { state: outcome, finishedAt: now.toISOString() }) };
}

/**
 * How an execution ended, honestly: `done` only when every object of the plan is in the wanted state;
 * impossible objects count as not done; `failed` when nothing of the plan is in place.
 */
export function executionOutcome(
  plan: ActionPlan,
  records: ReadonlyMap<string, StepRecord>,
): { outcome: 'done' | 'partial' | 'failed'; applied: number; failed: number } {
  const wanted = plan.steps.filter((s) => s.state === 'todo');
  const failed = wanted.filter(
    (s) => records.get(s.key)?.state !== 'applied' && records.get(s.key)?.state !== 'skipped',
  ).length;
  const applied = wanted.filter((s) => records.get(s.key)?.state === 'applied').length;
  const impossible = plan.steps.filter((s) => s.state === 'impossible').length;
  const inPlace = plan.steps.length - failed - impossible;
  const outcome = failed === 0 && impossible === 0 ? 'done' : inPlace > 0 ? 'partial' : 'failed';
  return { outcome, applied, failed };
}

/** The sentence an ephemeral refusal shows. */
export function refusalText(refusal: Refusal, r?: ActionRequest): string {
  switch (refusal) {
    case 'not-found':
      return 'This request does not exist (or is older than scope keeps requests). Nothing was changed.';
    case 'not-pending':
      return `This request is already ${r?.state ?? 'closed'}; your click changed nothing.`;
    case 'expired':
      return 'This request has expired; nothing was changed. Ask again if it is still needed.';
    case 'self-approval':
      return 'You asked for this change, so you cannot approve it: a second person must (two-person rule).';
    case 'not-approver':
      return 'You are not an approver for this action in these environments; your click changed nothing.';
    case 'already-approved':
      return 'You have already approved this request; it needs a different approver now.';
    case 'not-requester':
      return 'Only the person who asked can cancel this request (approvers can deny it).';
    case 'not-retryable':
      return 'There is nothing to retry on this request.';
  }
}
