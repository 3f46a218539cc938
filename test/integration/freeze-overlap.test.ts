import { afterEach, describe, expect, it } from 'vitest';
import { UnfreezeExecutor } from '../../src/adapters/kubernetes/freeze/executor.ts';
import { KubeObjects } from '../../src/adapters/kubernetes/objects.ts';
import type { ClusterConfig } from '../../src/config.ts';
import type { ActionContext, Holding, PlanStep } from '../../src/domain/actions/contract.ts';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { deployment } from '../../src/testing/freeze-fixtures.ts';
import { activeFreezes } from '../../src/worker-process.ts';
import {
  type Card,
  CHANNEL,
  click,
  fakeClusters,
  patches,
  requestFreeze,
  requestIdOf,
  startFreezeScope,
  submitReason,
  waitCard,
} from '../support/freeze-flow.ts';
import type { ScopeHarness } from '../support/scope-harness.ts';

/**
 * Two freezes covering the same object: an Unfreeze never undoes what another active freeze still holds, and
 * the last Unfreeze restores the value the object had before the first freeze (staging: one approval).
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const A_BY = 'U0RESPONDER';
const B_BY = 'U0ONCALL';

async function setup() {
  const k = await fakeClusters([{ name: 'stage-1', environment: 'staging' }]);
  cleanups.push(k.close);
  const stage = k.fakes.get('stage-1') as FakeKube;
  stage.load([deployment('payments', 'api'), deployment('payments', 'web')]);
  const h = await startFreezeScope(k.clusters);
  cleanups.push(h.close);
  return { h, stage };
}

const api = (fake: FakeKube) =>
  fake.get('apps/v1', 'Deployment', 'payments', 'api') as unknown as {
    spec: { paused?: boolean };
    metadata: { annotations?: Record<string, string> };
  };

async function approveDone(h: ScopeHarness, card: Card | string): Promise<string> {
  const id = typeof card === 'string' ? card : card.requestId;
  await waitCard(h, id, /waiting for approval/);
  await click(h, 'U0APPROVER1', 'approve', id);
  return waitCard(h, id, /— done/);
}

/** The Unfreeze button of a freeze card → reason → the Unfreeze request's card id. */
async function requestUnfreeze(h: ScopeHarness, freezeId: string, user: string): Promise<string> {
  const trigger = `unfreeze-${freezeId}-${Date.now()}`;
  await click(h, user, 'inverse', freezeId, { trigger });
  const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
  const n = h.slack.messages(CHANNEL).length;
  await submitReason(h, view.id, String(view.view.private_metadata), user, 'incident over');
  const msg = await h.slack.waitFor(() =>
    h.slack
      .messages(CHANNEL)
      .slice(n)
      .find((m) => requestIdOf(m) && requestIdOf(m) !== freezeId),
  );
  const id = requestIdOf(msg) as string;
  await waitCard(h, id, /waiting for approval/);
  return id;
}

describe('Freeze: two freezes covering the same object', () => {
  it('A then B, unfreeze A: the object stays frozen for B and the card says why; unfreeze B restores the original', async () => {
    const { h, stage } = await setup();
    const a = await requestFreeze(h, 'stage-1/payments/api', A_BY);
    await approveDone(h, a);
    expect(api(stage).spec.paused).toBe(true);
    // B covers the api (already frozen by A: planned as already in place) and the web deployment.
    const b = await requestFreeze(h, 'stage-1/payments', B_BY);
    const bCard = await approveDone(h, b);
    expect(bCard).toMatch(/already frozen/);

    const ua = await requestUnfreeze(h, a.requestId, A_BY);
    // The plan already says so (checked again when it runs).
    expect(await waitCard(h, ua, /waiting for approval/)).toContain(
      `will stay frozen: still frozen by request ${b.requestId} (${B_BY})`,
    );
    const uaDone = await approveDone(h, ua);
    expect(uaDone).toContain(`still frozen by request ${b.requestId} (${B_BY})`);
    expect(api(stage).spec.paused).toBe(true);
    // B holds it now: marker and the original prior value (unset) moved to B on the object.
    expect(api(stage).metadata.annotations).toMatchObject({
      'scope.dev/freeze-request': b.requestId,
      'scope.dev/freeze-step': `${b.requestId}/stage-1/Deployment/payments/api`,
      'scope.dev/freeze-prior': 'null',
      'scope.dev/frozen-by': B_BY,
    });
    expect((await h.container.actions.active('freeze')).map((r) => r.id)).toEqual([b.requestId]);

    const ub = await requestUnfreeze(h, b.requestId, B_BY);
    await approveDone(h, ub);
    expect(api(stage).spec.paused).toBeUndefined();
    const web = stage.get('apps/v1', 'Deployment', 'payments', 'web') as unknown as {
      spec: { paused?: boolean };
    };
    expect(web.spec.paused).toBeUndefined();
    const left = Object.keys(api(stage).metadata.annotations ?? {}).filter((k) =>
      k.startsWith('scope.dev/freeze'),
    );
    expect(left).toEqual([]);
    expect(await h.container.actions.active('freeze')).toEqual([]);
    expect(await h.container.audit.verify()).toBeUndefined();
  });

  it('A then B, unfreeze B first: B leaves it to A (still frozen by A); unfreeze A then restores it', async () => {
    const { h, stage } = await setup();
    const a = await requestFreeze(h, 'stage-1/payments/api', A_BY);
    await approveDone(h, a);
    const b = await requestFreeze(h, 'stage-1/payments', B_BY);
    await approveDone(h, b);

    const ub = await requestUnfreeze(h, b.requestId, B_BY);
    const ubDone = await approveDone(h, ub);
    expect(ubDone).toContain(`still frozen by request ${a.requestId} (${A_BY})`);
    expect(api(stage).spec.paused).toBe(true);
    expect(api(stage).metadata.annotations?.['scope.dev/freeze-request']).toBe(a.requestId);
    const web = stage.get('apps/v1', 'Deployment', 'payments', 'web') as unknown as {
      spec: { paused?: boolean };
    };
    expect(web.spec.paused).toBeUndefined();

    const ua = await requestUnfreeze(h, a.requestId, A_BY);
    expect(await waitCard(h, ua, /waiting for approval/)).not.toContain('will stay frozen');
    await approveDone(h, ua);
    expect(api(stage).spec.paused).toBeUndefined();
    expect(await h.container.actions.active('freeze')).toEqual([]);
  });

  it('B becomes active after the Unfreeze of A was planned, and B only found it already frozen (skipped): still held, then restored', async () => {
    const { h, stage } = await setup();
    // Both planned while the api is unpaused: B's step is "to change", and finds it frozen when it runs.
    const a = await requestFreeze(h, 'stage-1/payments/api', A_BY);
    const b = await requestFreeze(h, 'stage-1/payments/api', B_BY);
    await approveDone(h, a);
    const ua = await requestUnfreeze(h, a.requestId, A_BY);
    expect(await waitCard(h, ua, /waiting for approval/)).not.toContain('will stay frozen');
    // B runs now: nothing applied (already frozen by A), yet it counts on the freeze — it is active.
    const bDone = await approveDone(h, b.requestId);
    expect(bDone).toContain(`already frozen before this request (by request ${a.requestId})`);
    expect(bDone).toContain('Unfreeze');
    // `/scope frozen` counts what B holds (the api it found frozen), not only what it changed itself.
    const listed = await activeFreezes(h.container);
    expect(listed.find((f) => f.requestId === b.requestId)?.objects).toBe(1);
    const before = patches(stage).length;

    // The Unfreeze of A asks again when it runs: B holds the api now.
    const uaDone = await approveDone(h, ua);
    expect(uaDone).toContain(`still frozen by request ${b.requestId} (${B_BY})`);
    expect(api(stage).spec.paused).toBe(true);
    // The hand-over touched annotations only, never the paused field.
    const handOver = patches(stage).slice(before);
    expect(handOver).toHaveLength(1);
    expect(handOver[0]?.body).not.toHaveProperty('spec');

    const ub = await requestUnfreeze(h, b.requestId, B_BY);
    await approveDone(h, ub);
    expect(api(stage).spec.paused).toBeUndefined();
  });
});

describe('Unfreeze executor: hand-over markers', () => {
  const A = 'a'.repeat(32);
  const B = 'b'.repeat(32);
  const U = 'c'.repeat(32);
  const KEY = 'stage-1/Deployment/payments/api';
  const PATH = '/apis/apps/v1/namespaces/payments/deployments/api';
  const target = {
    system: 'kubernetes' as const,
    location: 'stage-1',
    environment: 'staging',
    kind: 'Deployment',
    namespace: 'payments',
    name: 'api',
  };

  async function executor(annotations: Record<string, string>) {
    const k = await fakeClusters([{ name: 'stage-1', environment: 'staging' }]);
    cleanups.push(k.close);
    const fake = k.fakes.get('stage-1') as FakeKube;
    fake.load([deployment('payments', 'api', { paused: true }, { annotations })]);
    const config = { ...k.clusters[0], inCluster: false } as ClusterConfig;
    return { fake, unfreeze: new UnfreezeExecutor(new Map([['stage-1', new KubeObjects(config)]])) };
  }

  const ctx = (holders: Holding[]): ActionContext => ({
    requestId: U,
    requestedBy: 'U0RESPONDER',
    approvedBy: ['U0APPROVER1'],
    reason: 'r',
    now: () => new Date(),
    signal: AbortSignal.timeout(10_000),
    holders: async () => holders,
  });

  const step = (freezeRequestId: string, extra: Record<string, unknown> = {}): PlanStep => ({
    key: KEY,
    target,
    description: '',
    change: { kind: 'Deployment', path: PATH, prior: null, freezeRequestId, freezeStepKey: KEY, ...extra },
    state: 'todo',
  });

  it('a hand-over that landed but was not recorded is recognised on resume, never repeated', async () => {
    const { fake, unfreeze } = await executor({
      'scope.dev/freeze-step': `${A}/${KEY}`,
      'scope.dev/freeze-request': A,
      'scope.dev/frozen-by': 'U0RESPONDER',
      'scope.dev/freeze-prior': 'null',
    });
    const b = [{ requestId: B, requestedBy: B_BY, stepKey: KEY }];
    const first = await unfreeze.apply(step(A), ctx(b));
    expect(first).toMatchObject({ state: 'skipped', error: `still frozen by request ${B} (${B_BY})` });
    // The crash: the record was lost; the resumed step finds its own marker and records the same outcome.
    const again = await unfreeze.apply(step(A), ctx(b));
    expect(again).toMatchObject({ state: 'skipped', error: `still frozen by request ${B} (${B_BY})` });
    expect(patches(fake)).toHaveLength(1);
    expect(api(fake).spec.paused).toBe(true);
  });

  it('a handed-over prior value that is malformed on the object is refused: left frozen, failed, said so', async () => {
    const { fake, unfreeze } = await executor({
      'scope.dev/freeze-step': `${B}/${KEY}`,
      'scope.dev/freeze-request': B,
      'scope.dev/freeze-prior': '"sometimes"',
    });
    const r = await unfreeze.apply(step(B, { held: true }), ctx([]));
    expect(r).toMatchObject({ state: 'failed', error: expect.stringContaining('missing or malformed') });
    expect(patches(fake)).toEqual([]);
    expect(api(fake).spec.paused).toBe(true);
  });
});
