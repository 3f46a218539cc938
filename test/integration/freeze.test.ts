import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKube, KubeObject } from '../../src/testing/fake-kube.ts';
import {
  argoApplication,
  cronJob,
  daemonSet,
  deployment,
  fluxLabels,
  imageUpdateAutomation,
  kustomization,
  statefulSet,
} from '../../src/testing/freeze-fixtures.ts';
import {
  CHANNEL,
  click,
  ephemeralFor,
  fakeClusters,
  patches,
  requestFreeze,
  startFreezeScope,
  waitCard,
} from '../support/freeze-flow.ts';
import type { ScopeHarness } from '../support/scope-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function loadPayments(fake: FakeKube): void {
  fake.load([
    deployment('payments', 'api', {}, { labels: fluxLabels('payments') }),
    deployment('payments', 'worker', { paused: true }),
    statefulSet('payments', 'db', { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }),
    daemonSet('payments', 'agent'),
    cronJob('payments', 'report'),
    deployment(
      'payments',
      'web',
      {},
      { annotations: { 'argocd.argoproj.io/tracking-id': 'web:apps/Deployment:payments/web' } },
    ),
    kustomization('flux-system', 'payments'),
    imageUpdateAutomation('flux-system', 'payments-images', './apps/payments'),
    imageUpdateAutomation('flux-system', 'orders-images', './apps/orders'),
    argoApplication('web', {
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true'],
    }),
  ]);
}

async function setup(actions: Record<string, unknown> = {}) {
  const k = await fakeClusters([
    { name: 'prod-eu', environment: 'prod' },
    { name: 'stage-1', environment: 'staging' },
  ]);
  cleanups.push(k.close);
  const prod = k.fakes.get('prod-eu') as FakeKube;
  const stage = k.fakes.get('stage-1') as FakeKube;
  loadPayments(prod);
  stage.load([deployment('payments', 'api'), deployment('payments', 'web')]);
  const h = await startFreezeScope(k.clusters, actions);
  cleanups.push(h.close);
  return { h, prod, stage };
}

const spec = (fake: FakeKube, apiVersion: string, kind: string, ns: string, name: string) =>
  fake.get(apiVersion, kind, ns, name) as unknown as {
    spec: Record<string, unknown>;
    metadata: { annotations?: Record<string, string> };
  };

async function auditEntries(h: ScopeHarness) {
  return h.container.audit.recent(1000);
}

describe('Freeze: request → M-of-N approval → exact patches → card → Unfreeze restores exactly', () => {
  it('runs the whole flow with GitOps owners and an exact unfreeze; the audit chain verifies', async () => {
    const { h, prod } = await setup();
    const card = await requestFreeze(h, 'prod-eu/payments');
    const pending = await waitCard(h, card.requestId, /waiting for approval/);
    // The plan shows every object, the exact change, owners and what is already frozen.
    expect(pending).toContain('spec.paused: (unset) → true');
    expect(pending).toContain('spec.updateStrategy: RollingUpdate {\\"partition\\":2} → OnDelete');
    expect(pending).toMatch(/Kustomization `payments`.*GitOps owner/);
    expect(pending).toContain('payments-images');
    expect(pending).not.toContain('orders-images');
    expect(pending).toMatch(/Application `web`/);
    expect(pending).toMatch(/already frozen/);
    expect(patches(prod)).toEqual([]);

    // First approval (M of N = 2 in prod) keeps it pending; the usergroup member's approval is the second.
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    await waitCard(h, card.requestId, /1 of 2 needed/);
    expect(patches(prod)).toEqual([]);
    await click(h, 'U0SRE', 'approve', card.requestId);
    const done = await waitCard(h, card.requestId, /— done/);
    expect(done).toContain('Unfreeze');

    const sent = patches(prod);
    const byPath = new Map(sent.map((p) => [p.path, p]));
    expect(sent.every((p) => p.contentType.startsWith('application/merge-patch+json'))).toBe(true);
    const body = (path: string) => {
      const p = byPath.get(path)?.body as {
        metadata?: { annotations?: Record<string, string>; resourceVersion?: string };
      };
      expect(p, path).toBeDefined();
      const { metadata, ...rest } = p as Record<string, unknown> & {
        metadata: { annotations: Record<string, string> };
      };
      expect(metadata.annotations['scope.dev/freeze-request']).toBe(card.requestId);
      expect(metadata.annotations['scope.dev/frozen-by']).toBe('U0RESPONDER');
      return { rest, annotations: metadata.annotations };
    };
    expect(body('/apis/apps/v1/namespaces/payments/deployments/api').rest).toEqual({
      spec: { paused: true },
    });
    expect(body('/apis/apps/v1/namespaces/payments/statefulsets/db')).toMatchObject({
      rest: { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } },
      annotations: {
        'scope.dev/freeze-prior': JSON.stringify({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } }),
      },
    });
    expect(body('/apis/apps/v1/namespaces/payments/daemonsets/agent').rest).toEqual({
      spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } },
    });
    expect(body('/apis/batch/v1/namespaces/payments/cronjobs/report').rest).toEqual({
      spec: { suspend: true },
    });
    expect(
      body('/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/payments').rest,
    ).toEqual({
      spec: { suspend: true },
    });
    expect(
      body(
        '/apis/image.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/imageupdateautomations/payments-images',
      ).rest,
    ).toEqual({ spec: { suspend: true } });
    expect(body('/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/web').rest).toEqual({
      spec: { syncPolicy: { automated: null } },
    });
    // Never touched: the already-paused Deployment and the unrelated image automation.
    expect(byPath.has('/apis/apps/v1/namespaces/payments/deployments/worker')).toBe(false);
    expect([...byPath.keys()].some((p) => p.includes('orders-images'))).toBe(false);
    // Owners were frozen before the workloads they own.
    const order = sent.map((p) => p.path);
    expect(
      order.indexOf('/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/payments'),
    ).toBeLessThan(order.indexOf('/apis/apps/v1/namespaces/payments/deployments/api'));
    expect(spec(prod, 'apps/v1', 'StatefulSet', 'payments', 'db').spec.updateStrategy).toEqual({
      type: 'OnDelete',
    });

    // /scope frozen lists it.
    const f = await import('../../src/testing/slack-requests.ts');
    const { SIGNING_SECRET } = await import('../support/scope-harness.ts');
    await f.sendSlashCommand(h.endpoint, SIGNING_SECRET, { text: 'frozen', user_id: 'U0RESPONDER' });
    await h.slack.waitFor(() =>
      h.slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes('active freeze')),
    );

    // Unfreeze: same approval flow, inverse plan from the recorded priors.
    const before = patches(prod).length;
    const trigger = `unfreeze-${Date.now()}`;
    await click(h, 'U0RESPONDER', 'inverse', card.requestId, { trigger });
    const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
    const { submitReason, requestIdOf } = await import('../support/freeze-flow.ts');
    const n = h.slack.messages(CHANNEL).length;
    await submitReason(
      h,
      view.id,
      String(view.view.private_metadata),
      'U0RESPONDER',
      'fixed image rolled out',
    );
    const unfreezeMsg = await h.slack.waitFor(() =>
      h.slack
        .messages(CHANNEL)
        .slice(n)
        .find((m) => requestIdOf(m)),
    );
    const unfreezeId = requestIdOf(unfreezeMsg) as string;
    await waitCard(h, unfreezeId, /waiting for approval/);
    await click(h, 'U0APPROVER1', 'approve', unfreezeId);
    await click(h, 'U0APPROVER2', 'approve', unfreezeId);
    await waitCard(h, unfreezeId, /— done/);
    await waitCard(h, card.requestId, /Undone by request/);
    expect(patches(prod).length - before).toBe(8);
    const undo = patches(prod)
      .slice(before)
      .map((p) => p.path);
    expect(undo.indexOf('/apis/apps/v1/namespaces/payments/deployments/api')).toBeLessThan(
      undo.indexOf('/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/payments'),
    );

    expect(spec(prod, 'apps/v1', 'Deployment', 'payments', 'api').spec.paused).toBeUndefined();
    expect(spec(prod, 'apps/v1', 'Deployment', 'payments', 'worker').spec.paused).toBe(true);
    expect(spec(prod, 'apps/v1', 'StatefulSet', 'payments', 'db').spec.updateStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { partition: 2 },
    });
    expect(spec(prod, 'apps/v1', 'DaemonSet', 'payments', 'agent').spec.updateStrategy).toBeUndefined();
    expect(spec(prod, 'batch/v1', 'CronJob', 'payments', 'report').spec.suspend).toBeUndefined();
    expect(spec(prod, 'argoproj.io/v1alpha1', 'Application', 'argocd', 'web').spec.syncPolicy).toEqual({
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true'],
    });
    const annotations = spec(prod, 'apps/v1', 'Deployment', 'payments', 'api').metadata.annotations ?? {};
    expect(Object.keys(annotations).filter((k) => k.startsWith('scope.dev/freeze'))).toEqual([]);
    expect(await h.container.actions.active('freeze')).toEqual([]);

    // The audit chain holds every request, approval, step and outcome, and verifies.
    const entries = await auditEntries(h);
    expect(entries.filter((e) => e.kind === 'approval').length).toBe(4);
    expect(entries.filter((e) => e.kind === 'action' && e.correlationId === card.requestId).length).toBe(8);
    expect(entries.filter((e) => e.kind === 'result').map((e) => e.outcome)).toContain('done');
    expect(await h.container.audit.verify()).toBeUndefined();
    // Removing one entry breaks the chain and verification says so.
    const stream = `${h.config.redis.prefix}:audit`;
    const rows = await h.container.redis.xrange(stream, '-', '+');
    await h.container.redis.xdel(stream, rows[3]?.[0] as string);
    expect(await h.container.audit.verify()).toBeDefined();
  });
});

describe('Freeze: refusals', () => {
  it('self-approval, unauthorised approver, deny and cancel change nothing and are recorded', async () => {
    const { h, stage } = await setup();
    const card = await requestFreeze(h, 'stage-1/payments/api');
    await waitCard(h, card.requestId, /waiting for approval/);
    await click(h, 'U0RESPONDER', 'approve', card.requestId);
    await ephemeralFor(h, 'U0RESPONDER', /cannot approve it/);
    await click(h, 'U0MALLORY', 'approve', card.requestId);
    await ephemeralFor(h, 'U0MALLORY', /not an approver/);
    await click(h, 'U0MALLORY', 'cancel', card.requestId);
    await ephemeralFor(h, 'U0MALLORY', /Only the person who asked/);
    await click(h, 'U0APPROVER1', 'deny', card.requestId);
    await waitCard(h, card.requestId, /Denied by/);
    await click(h, 'U0APPROVER2', 'approve', card.requestId);
    await ephemeralFor(h, 'U0APPROVER2', /already denied/);
    expect(patches(stage)).toEqual([]);

    const second = await requestFreeze(h, 'stage-1/payments/web');
    await waitCard(h, second.requestId, /waiting for approval/);
    await click(h, 'U0RESPONDER', 'cancel', second.requestId);
    await waitCard(h, second.requestId, /Cancelled by/);
    await click(h, 'U0APPROVER1', 'approve', second.requestId);
    await ephemeralFor(h, 'U0APPROVER1', /already cancelled/);
    expect(patches(stage)).toEqual([]);
    const refusals = (await auditEntries(h)).filter((e) => e.kind === 'refusal').map((e) => e.outcome);
    expect(refusals).toEqual(
      expect.arrayContaining(['self-approval', 'not-approver', 'not-requester', 'not-pending']),
    );
    expect(await h.container.audit.verify()).toBeUndefined();
  });

  it('an expired request cannot be approved', async () => {
    const { h, stage } = await setup({ requestTtlMinutes: 1 });
    const card = await requestFreeze(h, 'stage-1/payments/api');
    await waitCard(h, card.requestId, /waiting for approval/);
    // Move the stored expiry into the past (a wall-clock wait of a minute is not a test).
    await h.container.actions.transition(card.requestId, (r) => ({
      next: { ...r, rev: r.rev + 1, expiresAt: new Date(Date.now() - 1000).toISOString() },
    }));
    // The expiry timer (a delayed job) fires now instead of in a minute.
    const timer = await h.container.actionQueue.getJob(`expire-${card.requestId}`);
    expect(timer).toBeDefined();
    await timer?.promote();
    await waitCard(h, card.requestId, /Expired at/);
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    await ephemeralFor(h, 'U0APPROVER1', /expired/);
    expect(patches(stage)).toEqual([]);
    expect((await auditEntries(h)).some((e) => e.kind === 'refusal' && e.outcome === 'expired')).toBe(true);
  });

  it('forged values (unknown request id, a target list in the value) and replays change nothing and are recorded', async () => {
    const { h, stage } = await setup();
    const card = await requestFreeze(h, 'stage-1/payments/api');
    await waitCard(h, card.requestId, /waiting for approval/);
    await click(h, 'U0APPROVER1', 'approve', 'f'.repeat(32));
    await ephemeralFor(h, 'U0APPROVER1', /does not exist/);
    await click(h, 'U0APPROVER1', 'approve', JSON.stringify({ cluster: 'prod-eu', namespace: 'payments' }));
    await ephemeralFor(h, 'U0APPROVER1', /could not read this button/);
    await click(h, 'U0APPROVER1', 'offer', 'e'.repeat(32));
    await h.slack.waitFor(() => h.slack.ephemerals.filter((e) => e.user === 'U0APPROVER1').length >= 3);
    // An unsigned (forged) request never reaches scope.
    const { sendBlockActions } = await import('../../src/testing/slack-requests.ts');
    const { actionsUrl } = await import('../support/freeze-flow.ts');
    const forged = await sendBlockActions(actionsUrl(h), 'wrong-secret-0123456789', {
      user: 'U0APPROVER1',
      channel: CHANNEL,
      actions: [{ action_id: 'scope_action_approve', value: card.requestId, type: 'button' }],
    });
    expect(forged.status).toBe(401);
    // A reason too short is answered inside the modal (no offer read, nothing queued).
    const { sendViewSubmission } = await import('../../src/testing/slack-requests.ts');
    const { SIGNING_SECRET: secret } = await import('../support/scope-harness.ts');
    const short = await sendViewSubmission(actionsUrl(h), secret, {
      user: 'U0RESPONDER',
      view: {
        callback_id: 'scope_action_reason',
        private_metadata: 'a'.repeat(32),
        state: { values: { reason: { reason: { type: 'plain_text_input', value: 'x' } } } },
      },
    });
    expect(short.json).toMatchObject({ response_action: 'errors' });
    expect(patches(stage)).toEqual([]);
    const refusals = (await auditEntries(h)).filter((e) => e.kind === 'refusal').map((e) => e.outcome);
    expect(refusals).toEqual(expect.arrayContaining(['not-found', 'tampered']));
    expect((await h.container.actions.getRequest(card.requestId))?.state).toBe('pending');
  });
});

describe('Freeze: exactly once', () => {
  it('a double click and a redelivered interaction execute once', async () => {
    const { h, stage } = await setup();
    const card = await requestFreeze(h, 'stage-1/payments');
    await waitCard(h, card.requestId, /waiting for approval/);
    // Two approvers racing, each clicking twice, one of the clicks redelivered with the same payload.
    const { sendSignedRequest } = await import('../../src/testing/slack-requests.ts');
    const { actionsUrl } = await import('../support/freeze-flow.ts');
    const { SIGNING_SECRET } = await import('../support/scope-harness.ts');
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0APPROVER1' },
      channel: { id: CHANNEL },
      container: { channel_id: CHANNEL },
      trigger_id: 't.1',
      actions: [{ action_id: 'scope_action_approve', value: card.requestId, action_ts: '1700000000.000100' }],
    });
    const raw = new URLSearchParams({ payload }).toString();
    await Promise.all([
      sendSignedRequest(actionsUrl(h), SIGNING_SECRET, raw, 'application/x-www-form-urlencoded'),
      sendSignedRequest(actionsUrl(h), SIGNING_SECRET, raw, 'application/x-www-form-urlencoded', {
        retryNum: 1,
      }),
      click(h, 'U0APPROVER1', 'approve', card.requestId),
      click(h, 'U0APPROVER2', 'approve', card.requestId),
      click(h, 'U0APPROVER2', 'approve', card.requestId),
    ]);
    await waitCard(h, card.requestId, /— done/);
    await h.slack.waitFor(() => h.slack.ephemerals.length >= 3);
    const sent = patches(stage);
    expect(sent.map((p) => p.path).sort()).toEqual([
      '/apis/apps/v1/namespaces/payments/deployments/api',
      '/apis/apps/v1/namespaces/payments/deployments/web',
    ]);
    const req = await h.container.actions.getRequest(card.requestId);
    expect(req?.executions).toBe(1);
    expect(req?.approvals.length).toBe(1);
    const results = (await auditEntries(h)).filter(
      (e) => e.kind === 'result' && e.correlationId === card.requestId,
    );
    expect(results.length).toBe(1);
    expect((await auditEntries(h)).some((e) => e.kind === 'refusal' && e.outcome === 'replay')).toBe(true);
  });
});

describe('Freeze: partial failure, retry, reverted objects', () => {
  it('one cluster failing is reported per object and can be retried; a reverted pause is reported', async () => {
    const { h, prod, stage } = await setup();
    prod.setFault({ method: 'PATCH', pathIncludes: '/deployments/api', status: 503, times: 1 });
    const card = await requestFreeze(h, 'prod-eu/payments/deployment/api');
    await waitCard(h, card.requestId, /waiting for approval/);
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    await click(h, 'U0APPROVER2', 'approve', card.requestId);
    const partial = await waitCard(h, card.requestId, /partly done/);
    expect(partial).toMatch(/failed: HTTP 503/);
    expect(partial).toContain('Retry failed steps');
    // Kustomization (owner) was frozen, the Deployment was not.
    expect(
      spec(prod, 'kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', 'payments').spec.suspend,
    ).toBe(true);
    expect(spec(prod, 'apps/v1', 'Deployment', 'payments', 'api').spec.paused).toBeUndefined();
    await click(h, 'U0MALLORY', 'retry', card.requestId);
    await ephemeralFor(h, 'U0MALLORY', /not an approver/);
    await click(h, 'U0RESPONDER', 'retry', card.requestId);
    await waitCard(h, card.requestId, /— done/);
    expect(spec(prod, 'apps/v1', 'Deployment', 'payments', 'api').spec.paused).toBe(true);
    const kustomizationPatches = patches(prod).filter((p) => p.path.includes('kustomizations'));
    expect(kustomizationPatches.length).toBe(1);
    // The retry ran only the failed step: the step log kept the owner from being applied (or audited) again.
    const ownerSteps = (await auditEntries(h)).filter(
      (e) => e.kind === 'action' && e.detail?.startsWith('prod-eu/Kustomization/flux-system/payments'),
    );
    expect(ownerSteps.length).toBe(1);

    // Something fights the freeze: the recheck reports it.
    const d = prod.get('apps/v1', 'Deployment', 'payments', 'api') as KubeObject & {
      spec: Record<string, unknown>;
    };
    prod.update({ ...d, spec: { ...d.spec, paused: false } });
    await waitCard(h, card.requestId, /reverted after the change/);
    expect((await auditEntries(h)).some((e) => e.outcome === 'reverted')).toBe(true);
    expect(patches(stage)).toEqual([]);
  });

  it('an unreachable cluster makes the plan say so, and 403 is reported per object', async () => {
    const { h, stage, prod } = await setup();
    prod.setFault({ method: 'GET', status: 503 });
    const down = await requestFreeze(h, 'prod-eu/payments');
    const downText = await waitCard(h, down.requestId, /waiting for approval/);
    expect(downText).toMatch(/could not be planned: HTTP 503/);
    expect(downText).toMatch(/0 to change/);
    prod.clearFaults();
    stage.load([deployment('payments', 'gone'), deployment('payments', 'busy')]);
    stage.setFault({ method: 'PATCH', pathIncludes: '/deployments/web', status: 403 });
    // A conflict (someone changed the object between our read and our patch) is re-read and retried.
    stage.setFault({ method: 'PATCH', pathIncludes: '/deployments/busy', status: 409, times: 1 });
    const card = await requestFreeze(h, 'stage-1/payments');
    await waitCard(h, card.requestId, /waiting for approval/);
    stage.remove('apps/v1', 'Deployment', 'payments', 'gone');
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    const text = await waitCard(h, card.requestId, /partly done/);
    expect(text).toMatch(/forbidden \(403\)/);
    expect(text).toMatch(/not found \(404\)/);
    expect(spec(stage, 'apps/v1', 'Deployment', 'payments', 'api').spec.paused).toBe(true);
    expect(spec(stage, 'apps/v1', 'Deployment', 'payments', 'busy').spec.paused).toBe(true);
    expect(patches(stage).filter((p) => p.path.endsWith('/busy')).length).toBe(2);
  });
});

describe('Freeze: root sync objects are never suspended', () => {
  it('a workload applied by the flux-system root, or by an app-of-apps root, freezes without its root', async () => {
    const { h, stage } = await setup();
    stage.load([
      deployment('infra', 'ingress', {}, { labels: fluxLabels('flux-system') }),
      deployment(
        'infra',
        'dns',
        {},
        { annotations: { 'argocd.argoproj.io/tracking-id': 'root:apps/Deployment:infra/dns' } },
      ),
      kustomization('flux-system', 'flux-system', { path: './clusters/stage-1' }),
      argoApplication('root', { automated: { selfHeal: true } }),
      argoApplication(
        'child',
        { automated: { selfHeal: true } },
        {
          annotations: { 'argocd.argoproj.io/tracking-id': 'root:argoproj.io/Application:argocd/child' },
        },
      ),
    ]);
    const card = await requestFreeze(h, 'stage-1/infra');
    const text = await waitCard(h, card.requestId, /waiting for approval/);
    expect(text.match(/root sync object: not suspended/g)?.length).toBe(2);
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    await waitCard(h, card.requestId, /partly done/);
    const paths = patches(stage).map((p) => p.path);
    expect(paths.sort()).toEqual([
      '/apis/apps/v1/namespaces/infra/deployments/dns',
      '/apis/apps/v1/namespaces/infra/deployments/ingress',
    ]);
  });
});
