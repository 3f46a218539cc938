import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { withActionButtons } from '../../src/jobs/actions/offers.ts';
import type { CommandResult } from '../../src/jobs/run-command.ts';
import { admits } from '../../src/testing/admission-cel.ts';
import { serveAdmissionKinds } from '../../src/testing/admission-fixtures.ts';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import {
  approveInverse,
  approveOffer,
  CHANNEL,
  click,
  fakeClusters,
  requestIdOf,
  startFreezeScope,
  submitReason,
  waitCard,
} from '../support/freeze-flow.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DIGEST = fakeDigest('unsigned-vendor-agent');
const VAP = 'admissionregistration.k8s.io/v1';

/** A `/scope verify` result with one failing and one verified digest, as the verifier reports them. */
function verifyResult(): CommandResult {
  const base = {
    repository: 'registry.example.com/vendor/agent',
    attempts: [],
    candidates: [],
    policy: { name: 'vendor', version: 'v1' },
    checkedAt: '2026-12-02T03:12:00Z',
    runsAt: [{ cluster: 'prod-eu', environment: 'prod', namespace: 'agents', workload: 'agent', pods: 2 }],
  };
  return {
    kind: 'verify',
    report: {
      scope: 'env:prod',
      policyVersion: 'v1',
      trust: 'custom',
      counts: { verified: 1, unsigned: 1, invalid: 0, untrusted: 0, error: 0, 'unknown-registry': 0 },
      results: [
        {
          ...base,
          digest: DIGEST,
          outcome: { status: 'unsigned', reason: 'no signature in any of 4 places' },
        },
        {
          ...base,
          digest: fakeDigest('signed'),
          outcome: { status: 'error', code: 'unreachable', reason: 'registry down' },
        },
      ],
      cached: 0,
      withoutDigest: 0,
      generatedAt: '2026-12-02T03:12:00Z',
    },
  } as unknown as CommandResult;
}

/** prod-eu running the vendor agent Deployment on DIGEST (tag 5.2), synced into scope with two approvers. */
async function agentFleet() {
  const k = await fakeClusters([{ name: 'prod-eu', environment: 'prod' }]);
  cleanups.push(k.close);
  const prod = k.fakes.get('prod-eu') as FakeKube;
  serveAdmissionKinds(prod);
  prod.load([makeNamespace('agents')]);
  prod.load(
    makeDeploymentChain({
      namespace: 'agents',
      deployment: 'agent',
      startTime: '2026-11-20T10:00:00Z',
      containers: [
        {
          name: 'agent',
          image: 'registry.example.com/vendor/agent:5.2',
          imageID: `registry.example.com/vendor/agent@${DIGEST}`,
        },
      ],
    }).objects,
  );
  const h = await startFreezeScope(k.clusters);
  cleanups.push(h.close);
  await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
  return { h, prod };
}

describe('Quarantine through the approval engine', () => {
  it('offers Quarantine for a failing digest only; after two approvals the policy rejects the digest and its tags; Release removes it', async () => {
    const { h, prod } = await agentFleet();

    // The button comes from the worker's decoration of the verify result: one per failing digest, never for
    // a digest whose registry could not be asked (unknown is not bad).
    const decorated = await withActionButtons(
      verifyResult(),
      { summary: 'verify', blocks: [] },
      {
        store: h.container.actions,
        channelId: CHANNEL,
        userId: 'U0RESPONDER',
        now: new Date(),
      },
    );
    const buttons = decorated.blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons : []));
    expect(buttons.map((b) => b.label)).toEqual([
      `Quarantine ${DIGEST.slice(7, 19)} (unsigned)`,
      `Quarantine + freeze ${DIGEST.slice(7, 19)}`,
    ]);
    const offerId = buttons[0]?.value as string;
    expect(offerId).toMatch(/^[a-f0-9]{32}$/);

    const trigger = `quarantine-${Date.now()}`;
    await click(h, 'U0RESPONDER', 'offer', offerId, { trigger });
    const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
    await submitReason(h, view.id, offerId, 'U0RESPONDER', 'vendor agent 5.2 is unsigned');
    const card = await h.slack.waitFor(() => h.slack.messages(CHANNEL).find((m) => requestIdOf(m)), 20_000);
    const id = requestIdOf(card) as string;
    const pending = await waitCard(h, id, /waiting for approval/);
    expect(pending).toContain('ValidatingAdmissionPolicy');
    expect(prod.counters.create).toBe(0);

    // Self-approval is refused; two approvers are needed in prod.
    await click(h, 'U0RESPONDER', 'approve', id);
    await click(h, 'U0APPROVER1', 'approve', id);
    await waitCard(h, id, /1 of 2 needed/);
    expect(
      prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, `scope-quarantine-${DIGEST.slice(7, 23)}`),
    ).toBeUndefined();
    await click(h, 'U0APPROVER2', 'approve', id);
    const done = await waitCard(h, id, /— done/);
    expect(done).toContain('Release');

    const name = `scope-quarantine-${DIGEST.slice(7, 23)}`;
    const policy = prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name);
    const binding = prod.get(VAP, 'ValidatingAdmissionPolicyBinding', undefined, name) as unknown as {
      spec: unknown;
    };
    expect(policy?.metadata.annotations?.['scope.dev/request-id']).toBe(id);
    expect(binding.spec).toEqual({ policyName: name, validationActions: ['Deny'] });
    const pod = (image: string) => ({ spec: { containers: [{ name: 'c', image }] } });
    // The tag came from the inventory at plan time: admission sees the tag, not the digest it resolves to.
    expect(admits(policy, pod('registry.example.com/vendor/agent:5.2')).allowed).toBe(false);
    expect(admits(policy, pod(`registry.example.com/vendor/agent@${DIGEST}`)).allowed).toBe(false);
    expect(admits(policy, pod('registry.example.com/vendor/agent:5.3')).allowed).toBe(true);

    // Release goes through the same approval and removes exactly what was created.
    const released = await approveInverse(h, id);
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeUndefined();
    expect(prod.get(VAP, 'ValidatingAdmissionPolicyBinding', undefined, name)).toBeUndefined();

    // Both are in the audit trail: each request, its approvals and what it did to each object.
    // Audit appends are written in the background: wait for the last one (the release's result).
    const entries = await h.slack.waitFor(async () => {
      const all = await h.container.audit.recent(500);
      return all.some((e) => e.correlationId === released.id && e.kind === 'result') ? all : undefined;
    });
    const of = (requestId: string, kind: string) =>
      entries.filter((e) => e.correlationId === requestId && e.kind === kind).map((e) => e.command);
    for (const [requestId, verb] of [
      [id, 'quarantine'],
      [released.id, 'release'],
    ] as const) {
      expect(of(requestId, 'request')).toContain(`${verb} ${requestId}`);
      expect(of(requestId, 'approval').length).toBe(2);
      expect(of(requestId, 'action').length).toBeGreaterThanOrEqual(2);
      expect(of(requestId, 'result')).toHaveLength(1);
    }
  });

  it('Quarantine + freeze: one request quarantines the digest and pauses the workloads that run it; Release undoes both', async () => {
    const { h, prod } = await agentFleet();
    const decorated = await withActionButtons(
      verifyResult(),
      { summary: 'verify', blocks: [] },
      { store: h.container.actions, channelId: CHANNEL, userId: 'U0RESPONDER', now: new Date() },
    );
    const both = decorated.blocks
      .flatMap((b) => (b.kind === 'actions' ? b.buttons : []))
      .find((b) => b.label.startsWith('Quarantine + freeze')) as { value: string };
    const trigger = `qf-${Date.now()}`;
    await click(h, 'U0RESPONDER', 'offer', both.value, { trigger });
    const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
    await submitReason(h, view.id, both.value, 'U0RESPONDER', 'vendor agent 5.2 is compromised');
    const card = await h.slack.waitFor(() => h.slack.messages(CHANNEL).find((m) => requestIdOf(m)), 20_000);
    const id = requestIdOf(card) as string;
    const pending = await waitCard(h, id, /waiting for approval/);
    // The card lists the policy objects and the workload to pause, in one plan.
    expect(pending).toContain('and freeze deploys of 1 workload(s)');
    expect(pending).toContain('ValidatingAdmissionPolicyBinding');
    expect(pending).toContain('spec.paused');
    const deployment = () =>
      prod.get('apps/v1', 'Deployment', 'agents', 'agent') as unknown as { spec: { paused?: boolean } };
    expect(deployment().spec.paused).toBeUndefined();
    await click(h, 'U0APPROVER1', 'approve', id);
    await click(h, 'U0APPROVER2', 'approve', id);
    await waitCard(h, id, /— done/);
    const name = `scope-quarantine-${DIGEST.slice(7, 23)}`;
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeDefined();
    expect(deployment().spec.paused).toBe(true);

    await approveInverse(h, id);
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeUndefined();
    expect(deployment().spec.paused).toBeUndefined();
  });

  it('a Quarantine + freeze holds what it froze: an earlier Freeze unfrozen meanwhile leaves the workload paused; Release restores it', async () => {
    const { h, prod } = await agentFleet();
    const deployment = () =>
      prod.get('apps/v1', 'Deployment', 'agents', 'agent') as unknown as { spec: { paused?: boolean } };
    const freeze = await h.container.actions.saveOffer({
      kind: 'freeze',
      input: { selectors: [{ cluster: 'prod-eu', namespace: 'agents', kind: 'Deployment', name: 'agent' }] },
      label: 'Freeze agent',
      channelId: CHANNEL,
      createdBy: 'U0RESPONDER',
      createdAt: new Date().toISOString(),
    });
    const f = await approveOffer(h, freeze.id);
    expect(deployment().spec.paused).toBe(true);
    const both = await h.container.actions.saveOffer({
      kind: 'quarantine',
      input: { digest: DIGEST, references: [], freeze: true },
      label: 'Quarantine + freeze',
      channelId: CHANNEL,
      createdBy: 'U0RESPONDER',
      createdAt: new Date().toISOString(),
    });
    const q = await approveOffer(h, both.id);

    // The Freeze is undone while the quarantine still holds the workload: it stays paused, and the card says why.
    const unfreeze = await approveInverse(h, f);
    expect(unfreeze.card).toContain(`still frozen by request ${q}`);
    expect(deployment().spec.paused).toBe(true);

    // Releasing the quarantine restores the value from before the first freeze.
    await approveInverse(h, q);
    expect(deployment().spec.paused).toBeUndefined();
    const name = `scope-quarantine-${DIGEST.slice(7, 23)}`;
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeUndefined();
  });
});
