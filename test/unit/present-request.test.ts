import { describe, expect, it } from 'vitest';
import { approvalPolicy } from '../../src/domain/actions/approval.ts';
import { actionsConfigSchema } from '../../src/domain/actions/approval-config.ts';
import type { PlanStep, StepRecord } from '../../src/domain/actions/contract.ts';
import type { ActionRequest } from '../../src/domain/actions/request.ts';
import { presentRequestCard } from '../../src/render/actions/present-request.ts';
import { toSlack } from '../../src/render/slack-blocks.ts';
import { toTerminal } from '../../src/render/terminal.ts';
import { expectGolden } from '../support/golden.ts';

const target = (kind: string, name: string, namespace = 'payments') => ({
  system: 'kubernetes' as const,
  location: 'prod-eu',
  environment: 'prod',
  kind,
  namespace,
  name,
});
const steps: PlanStep[] = [
  {
    key: 'prod-eu/Kustomization/flux-system/payments',
    target: target('Kustomization', 'payments', 'flux-system'),
    description: 'spec.suspend: (unset) → true',
    change: {},
    state: 'todo',
    ownerOf: 'prod-eu/Deployment/payments/api',
  },
  {
    key: 'prod-eu/Deployment/payments/api',
    target: target('Deployment', 'api'),
    description: 'spec.paused: (unset) → true',
    change: {},
    state: 'todo',
  },
  {
    key: 'prod-eu/Deployment/payments/worker',
    target: target('Deployment', 'worker'),
    description: 'spec.paused is already frozen: left as it is (and left alone by Unfreeze)',
    change: {},
    state: 'already-done',
  },
  {
    key: 'prod-eu/Job/payments/<migrate>',
    target: target('Job', '<migrate>'),
    description: 'no update path',
    change: null,
    state: 'impossible',
    reason: 'a Job has no update path',
  },
];
const request: ActionRequest = {
  id: '0123456789abcdef0123456789abcdef',
  kind: 'freeze',
  rev: 3,
  state: 'pending',
  requestedBy: 'U0RESPONDER',
  reason: 'compromised *agent* <!channel>',
  channelId: 'C0INCIDENT',
  createdAt: '2026-12-02T08:00:00.000Z',
  expiresAt: '2026-12-02T08:30:00.000Z',
  plan: {
    kind: 'freeze',
    title: 'Freeze deploys: 2 objects to change in prod-eu',
    steps,
    environments: ['prod'],
    notes: [],
  },
  approvals: [{ userId: 'U0APPROVER1', at: '2026-12-02T08:01:00.000Z' }],
  executions: 0,
};
const policy = approvalPolicy(
  actionsConfigSchema.parse({
    approvers: [
      { environments: ['prod'], users: ['U0APPROVER1', 'U0APPROVER2'], usergroups: ['S0SRE'], required: 2 },
    ],
  }),
  { users: [], usergroups: [] },
  'freeze',
  ['prod'],
);
const now = new Date('2026-12-02T08:02:00.000Z');

describe('approval card', () => {
  it('pending: plan, approvers, expiry, and buttons carrying only the request id', () => {
    const msg = presentRequestCard({
      request,
      records: new Map(),
      rechecks: {},
      policy,
      inverseKind: 'unfreeze',
      now,
    });
    const slack = toSlack(msg);
    expectGolden('freeze-card-pending.slack.json', slack);
    const buttons = JSON.stringify(slack.blocks).match(/"value":"[^"]*"/g);
    expect(buttons).toEqual(Array(3).fill(`"value":"${request.id}"`));
    expect(JSON.stringify(slack.blocks)).not.toContain('<!channel>');
  });

  it('partial (an impossible object) with one reverted object, offering Unfreeze but no retry', () => {
    const records = new Map<string, StepRecord>([
      [
        'prod-eu/Kustomization/flux-system/payments',
        { key: 'prod-eu/Kustomization/flux-system/payments', state: 'applied', prior: null, at: '' },
      ],
      [
        'prod-eu/Deployment/payments/api',
        { key: 'prod-eu/Deployment/payments/api', state: 'applied', prior: null, at: '' },
      ],
    ]);
    const msg = presentRequestCard({
      request: { ...request, state: 'partial', finishedAt: '2026-12-02T08:05:00.000Z' },
      records,
      rechecks: { 'prod-eu/Deployment/payments/api': 'reverted' },
      policy,
      inverseKind: 'unfreeze',
      now,
    });
    expectGolden('freeze-card-partial.terminal.txt', toTerminal(msg));
    const text = toTerminal(msg);
    expect(text).toContain('Unfreeze');
    expect(text).not.toContain('Retry failed steps');
    expect(text).toContain('reverted after the change');
  });
});
