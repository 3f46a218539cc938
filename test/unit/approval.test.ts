import { describe, expect, it } from 'vitest';
import { approvalPolicy, isApprover, rulesFor } from '../../src/domain/actions/approval.ts';
import { actionsConfigSchema } from '../../src/domain/actions/approval-config.ts';
import type { ActionPlan } from '../../src/domain/actions/contract.ts';
import {
  type ActionRequest,
  approve,
  cancel,
  deny,
  executionOutcome,
  expireIfDue,
  finishExecution,
  retry,
  startExecution,
} from '../../src/domain/actions/request.ts';

const config = actionsConfigSchema.parse({
  approvers: [
    { kinds: ['*'], environments: ['*'], users: ['U0ANY'], usergroups: ['S0SRE'] },
    { kinds: ['*'], environments: ['prod'], users: ['U0P1', 'U0P2', 'U0P3'], required: 2 },
    { kinds: ['freeze'], environments: ['staging'], users: ['U0STG'] },
  ],
});
const fallback = { users: ['U0FALLBACK'], usergroups: [] };

describe('approver rules', () => {
  it.each([
    ['freeze', 'prod', ['U0P1', 'U0P2', 'U0P3'], 2],
    ['freeze', 'staging', ['U0STG'], 1],
    ['unfreeze', 'staging', ['U0ANY'], 1],
    ['freeze', 'dev', ['U0ANY'], 1],
  ] as const)('%s in %s → users %j, %i required', (kind, env, users, required) => {
    const p = approvalPolicy(config, fallback, kind, [env]);
    expect(p.perEnvironment[0]?.users).toEqual(users);
    expect(p.required).toBe(required);
  });

  it('falls back to access.approvers when no rule matches', () => {
    const p = approvalPolicy(actionsConfigSchema.parse({}), fallback, 'freeze', ['prod']);
    expect(p.perEnvironment[0]?.users).toEqual(['U0FALLBACK']);
    expect(p.required).toBe(1);
  });

  it('a plan touching two environments needs an approver allowed in both, and the strictest M', () => {
    const p = approvalPolicy(config, fallback, 'freeze', ['prod', 'dev']);
    expect(p.required).toBe(2);
    expect(isApprover(p, { userId: 'U0P1', usergroups: [] })).toBe(false);
    expect(isApprover(p, { userId: 'U0ANY', usergroups: [] })).toBe(false);
    const both = approvalPolicy(
      actionsConfigSchema.parse({ approvers: [{ environments: ['*'], users: ['U0X'] }] }),
      fallback,
      'freeze',
      ['prod', 'dev'],
    );
    expect(isApprover(both, { userId: 'U0X', usergroups: [] })).toBe(true);
  });

  it('usergroup membership authorises', () => {
    const p = approvalPolicy(config, fallback, 'freeze', ['dev']);
    expect(isApprover(p, { userId: 'U0NOBODY', usergroups: ['S0SRE'] })).toBe(true);
    expect(isApprover(p, { userId: 'U0NOBODY', usergroups: ['S0OTHER'] })).toBe(false);
  });

  it('most specific rule wins: environment before kind', () => {
    expect(rulesFor(config.approvers, 'freeze', 'prod')[0]?.required).toBe(2);
  });

  it('rejects a rule with no approvers', () => {
    expect(() => actionsConfigSchema.parse({ approvers: [{ environments: ['prod'] }] })).toThrow();
  });
});

const plan: ActionPlan = { kind: 'freeze', title: 't', steps: [], environments: ['prod'], notes: [] };
const t0 = new Date('2026-12-02T08:00:00Z');
const req = (over: Partial<ActionRequest> = {}): ActionRequest => ({
  id: 'a'.repeat(32),
  kind: 'freeze',
  rev: 0,
  state: 'pending',
  requestedBy: 'U0P1',
  reason: 'incident',
  channelId: 'C0INC',
  createdAt: t0.toISOString(),
  expiresAt: new Date(t0.getTime() + 30 * 60_000).toISOString(),
  plan,
  approvals: [],
  executions: 0,
  ...over,
});
const prod = approvalPolicy(config, fallback, 'freeze', ['prod']);
const dev = approvalPolicy(config, fallback, 'freeze', ['dev']);
const actor = (userId: string, usergroups: string[] = []) => ({ userId, usergroups });
const later = new Date(t0.getTime() + 60_000);

describe('request state machine', () => {
  it.each([
    ['self-approval refused (two-person rule)', req(), actor('U0P1'), prod, 'self-approval'],
    ['non-approver refused', req(), actor('U0EVE'), prod, 'not-approver'],
    [
      'duplicate approval refused',
      req({ approvals: [{ userId: 'U0P2', at: '' }] }),
      actor('U0P2'),
      prod,
      'already-approved',
    ],
    [
      'approved request is not approvable again',
      req({ state: 'approved' }),
      actor('U0P2'),
      prod,
      'not-pending',
    ],
    ['denied request stays denied', req({ state: 'denied' }), actor('U0P2'), prod, 'not-pending'],
  ] as const)('%s', (_name, r, a, policy, refusal) => {
    const d = approve(r, a, policy, later);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.refusal).toBe(refusal);
  });

  it('M of N: the first prod approval keeps it pending, the second approves', () => {
    const first = approve(req(), actor('U0P2'), prod, later);
    expect(first.ok && first.next.state).toBe('pending');
    if (!first.ok) throw new Error('refused');
    const second = approve(first.next, actor('U0P3'), prod, later);
    expect(second.ok && second.next.state).toBe('approved');
    expect(second.ok && second.approvedNow).toBe(true);
    expect(second.ok && second.next.rev).toBe(2);
  });

  it('one approval suffices outside prod', () => {
    const d = approve(req(), actor('U0ANY'), dev, later);
    expect(d.ok && d.next.state).toBe('approved');
  });

  it('with the two-person rule off, the requester may approve', () => {
    const d = approve(req({ requestedBy: 'U0ANY' }), actor('U0ANY'), { ...dev, twoPersonRule: false }, later);
    expect(d.ok && d.next.state).toBe('approved');
  });

  it('an approval after expiry is refused and expires the request', () => {
    const d = approve(req(), actor('U0P2'), prod, new Date(t0.getTime() + 31 * 60_000));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.refusal).toBe('expired');
    expect(d.next?.state).toBe('expired');
  });

  it('deny: approvers only, not the requester', () => {
    expect(deny(req(), actor('U0P1'), prod, later).ok).toBe(false);
    expect(deny(req(), actor('U0EVE'), prod, later).ok).toBe(false);
    const d = deny(req(), actor('U0P2'), prod, later);
    expect(d.ok && d.next.state).toBe('denied');
    expect(d.ok && d.next.decision?.by).toBe('U0P2');
  });

  it('cancel: the requester only, before execution', () => {
    expect(cancel(req(), actor('U0P2'), later).ok).toBe(false);
    expect(cancel(req(), actor('U0P1'), later).ok && 'cancelled').toBe('cancelled');
    expect(cancel(req({ state: 'approved' }), actor('U0P1'), later).ok).toBe(true);
    expect(cancel(req({ state: 'executing' }), actor('U0P1'), later).ok).toBe(false);
  });

  it('expiry timer expires only a pending request past its expiry', () => {
    expect(expireIfDue(req(), later).ok).toBe(false);
    expect(expireIfDue(req(), new Date(t0.getTime() + 30 * 60_000)).ok).toBe(true);
    expect(expireIfDue(req({ state: 'approved' }), new Date(t0.getTime() + 40 * 60_000)).ok).toBe(false);
  });

  it.each([
    ['approved', true, 'executing'],
    ['executing', true, 'executing'],
    ['pending', false, undefined],
    ['done', false, undefined],
    ['cancelled', false, undefined],
  ] as const)('startExecution from %s', (state, ok, next) => {
    const d = startExecution(req({ state }));
    expect(d.ok).toBe(ok);
    if (d.ok) expect(d.next.state).toBe(next);
  });

  it('finish and retry', () => {
    const f = finishExecution(req({ state: 'executing' }), 'partial', later);
    expect(f.ok && f.next.state).toBe('partial');
    if (!f.ok) return;
    expect(retry(f.next, actor('U0EVE'), prod).ok).toBe(false);
    const r = retry(f.next, actor('U0P1'), prod);
    expect(r.ok && r.next.state).toBe('approved');
    expect(retry(req({ state: 'done' }), actor('U0P1'), prod).ok).toBe(false);
  });
});

describe('execution outcome', () => {
  const target = {
    system: 'kubernetes' as const,
    location: 'c',
    environment: 'prod',
    kind: 'Deployment',
    name: 'x',
  };
  const step = (key: string, state: 'todo' | 'already-done' | 'impossible') => ({
    key,
    target,
    description: '',
    change: null,
    state,
  });
  const rec = (key: string, state: 'applied' | 'skipped' | 'failed') =>
    [key, { key, state, at: '' }] as const;
  it.each([
    [
      'all applied',
      [step('a', 'todo'), step('b', 'todo')],
      [rec('a', 'applied'), rec('b', 'applied')],
      'done',
    ],
    ['skipped counts as in place', [step('a', 'todo')], [rec('a', 'skipped')], 'done'],
    [
      'one failed',
      [step('a', 'todo'), step('b', 'todo')],
      [rec('a', 'applied'), rec('b', 'failed')],
      'partial',
    ],
    ['one never recorded', [step('a', 'todo'), step('b', 'todo')], [rec('a', 'applied')], 'partial'],
    ['impossible object', [step('a', 'todo'), step('r', 'impossible')], [rec('a', 'applied')], 'partial'],
    ['nothing in place', [step('a', 'todo')], [rec('a', 'failed')], 'failed'],
    ['only impossible', [step('r', 'impossible')], [], 'failed'],
    ['nothing to do', [step('a', 'already-done')], [], 'done'],
  ] as const)('%s → %s', (_n, steps, records, outcome) => {
    const plan = { kind: 'freeze' as const, title: '', environments: [], notes: [], steps: [...steps] };
    expect(executionOutcome(plan, new Map(records)).outcome).toBe(outcome);
  });
});
