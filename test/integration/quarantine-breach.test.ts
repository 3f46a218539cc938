import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { serveAdmissionKinds } from '../../src/testing/admission-fixtures.ts';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import type { FakeSlackMessage } from '../../src/testing/fake-slack.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace, makePod } from '../../src/testing/kube-fixtures.ts';
import { startCollector } from '../../src/worker-process.ts';
import {
  approveInverse,
  approveOffer,
  CHANNEL,
  fakeClusters,
  startFreezeScope,
} from '../support/freeze-flow.ts';
import type { ScopeHarness } from '../support/scope-harness.ts';

/**
 * Issue #9: "have the collector raise an alert in the channel within one watch event when a pod starts running
 * the digest anyway". Real Redis, real BullMQ, the real collector watching a fake API server over HTTP, the
 * real approval flow; the fake API server does not enforce admission, which is exactly the situation the alert
 * is for (a policy removed, failing open, or a reference it does not know).
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DIGEST = fakeDigest('compromised-vendor-agent');
const REPO = 'registry.example.com/vendor/agent';
const OLD_START = '2026-11-20T10:00:00Z';

async function setup() {
  const k = await fakeClusters([{ name: 'prod-eu', environment: 'prod' }]);
  cleanups.push(k.close);
  const prod = k.fakes.get('prod-eu') as FakeKube;
  serveAdmissionKinds(prod);
  prod.load([makeNamespace('agents')]);
  const chain = makeDeploymentChain({
    namespace: 'agents',
    deployment: 'agent',
    replicas: 3,
    startTime: OLD_START,
    containers: [{ name: 'agent', image: `${REPO}:5.2`, imageID: `${REPO}@${DIGEST}` }],
  });
  // One pod runs before the quarantine; the other two are created later, one at a time.
  const [running, ...later] = chain.pods;
  prod.load([chain.deployment, chain.replicaSet, running as (typeof chain.pods)[number]]);
  const h = await startFreezeScope(k.clusters);
  cleanups.push(h.close);
  await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
  return { h, prod, later, replicaSetOwner: chain.replicaSet };
}

/** Quarantine DIGEST through the real approval flow (two approvers in prod); returns the request id. */
async function quarantine(h: ScopeHarness): Promise<string> {
  const offer = await h.container.actions.saveOffer({
    kind: 'quarantine',
    input: { digest: DIGEST, references: [] },
    label: 'Quarantine',
    channelId: CHANNEL,
    createdBy: 'U0RESPONDER',
    createdAt: new Date().toISOString(),
  });
  return approveOffer(h, offer.id);
}

const alerts = (h: ScopeHarness): FakeSlackMessage[] =>
  h.slack.messages(CHANNEL).filter((m) => /started running anyway/.test(JSON.stringify(m.blocks)));
const textOf = (m: FakeSlackMessage | undefined) => JSON.stringify(m?.blocks ?? []);

/** A pod of the agent Deployment, started now, with the given container image reference. */
function agentPod(name: string, owner: { metadata: { name: string; uid?: string } }, image: string) {
  return makePod({
    namespace: 'agents',
    name,
    startTime: new Date().toISOString(),
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: owner.metadata.name,
        uid: owner.metadata.uid ?? 'rs-uid',
        controller: true,
      },
    ],
    containers: [{ name: 'agent', image, imageID: `${REPO}@${DIGEST}` }],
  });
}

describe('a quarantined digest that starts running anyway', () => {
  it('alerts once per workload within one watch event, says how it got in, updates in place, and audits it', async () => {
    const { h, prod, replicaSetOwner } = await setup();
    const requestId = await quarantine(h);

    const collector = startCollector(h.container, { sentinelIntervalMs: 100, leaseTtlMs: 3000 });
    cleanups.push(collector.stop);
    await collector.ready;

    // A new pod of the Deployment, admitted although the policy rejects its tag (the fake enforces nothing).
    prod.create(agentPod('agent-new-1', replicaSetOwner as never, `${REPO}:5.2`));
    const first = await h.slack.waitFor(() => alerts(h)[0], 20_000);
    const t1 = textOf(first);
    expect(t1).toContain('agent-new-1');
    expect(t1).toContain('Deployment/agent');
    expect(t1).toContain(DIGEST);
    expect(t1).toContain('(app, ');
    expect(t1).toContain(requestId);
    // How: the reference is one the policy rejects, so the policy must have been changed, removed or failed open.
    expect(t1).toContain('which the quarantine');
    expect(t1).toContain('rejects, yet it was admitted');
    expect(t1).toContain('/scope guardrails prod-eu');
    // The pod that ran before the quarantine is old exposure, not a breach.
    const oldPod = prod.list('v1', 'Pod', 'agents')[0]?.metadata.name as string;
    expect(oldPod).toMatch(/^agent-/);
    expect(t1).not.toContain(oldPod);

    // A second pod of the same workload updates the same message in place (no second post).
    prod.create(agentPod('agent-new-2', replicaSetOwner as never, `${REPO}@${DIGEST}`));
    await h.slack.waitFor(() => (/agent-new-2/.test(textOf(alerts(h)[0])) ? true : undefined), 20_000);
    expect(alerts(h)).toHaveLength(1);
    expect(textOf(alerts(h)[0])).toContain('2 pod(s)');

    // A rollout: eight more pods at once are coalesced into a few updates of the same message, never one per pod.
    const deliveries = () =>
      [...h.slack.callsTo('chat.postMessage'), ...h.slack.callsTo('chat.update')].filter(
        (c) =>
          c.status === 200 &&
          /Deployment\/agent/.test(JSON.stringify(c.body)) &&
          /started running anyway/.test(JSON.stringify(c.body)),
      ).length;
    const before = deliveries();
    for (let i = 3; i <= 10; i++)
      prod.create(agentPod(`agent-new-${i}`, replicaSetOwner as never, `${REPO}:5.2`));
    await h.slack.waitFor(() => (/10 pod\(s\)/.test(textOf(alerts(h)[0])) ? true : undefined), 30_000);
    expect(alerts(h)).toHaveLength(1);
    // Every render queued for those pods has run (one per pod, delayed): only then count what reached Slack.
    await h.slack.waitFor(async () => {
      const pending = await h.container.actionQueue.getJobs(['waiting', 'delayed', 'active']);
      return pending.some((j) => j.name === 'quarantine-alert-render') ? undefined : true;
    }, 30_000);
    expect(deliveries() - before).toBeLessThanOrEqual(3);
    for (let i = 1; i <= 10; i++) expect(textOf(alerts(h)[0])).toContain(`agent-new-${i}`);

    // Another workload, through a tag the quarantine did not know, and as a native sidecar.
    prod.create(
      makePod({
        namespace: 'agents',
        name: 'metrics-0',
        startTime: new Date().toISOString(),
        containers: [
          {
            name: 'metrics',
            image: 'registry.example.com/metrics:1',
            imageID: `registry.example.com/metrics@${fakeDigest('metrics')}`,
          },
        ],
        initContainers: [
          { name: 'vendor', image: `${REPO}:latest`, imageID: `${REPO}@${DIGEST}`, restartPolicy: 'Always' },
        ],
      }),
    );
    const second = await h.slack.waitFor(() => alerts(h).find((m) => /metrics-0/.test(textOf(m))), 20_000);
    const t2 = textOf(second);
    expect(t2).toContain('(sidecar, ');
    expect(t2).toContain(`${REPO}:latest`);
    expect(t2).toContain('does not list');
    expect(alerts(h)).toHaveLength(2);
    expect(alerts(h).some((m) => textOf(m).includes(oldPod))).toBe(false);

    const breaches = (await h.container.audit.recent(500)).filter((e) => e.command === 'quarantine-breach');
    expect(breaches.map((e) => e.detail?.split(' ')[0]).sort()).toEqual(
      [
        ...Array.from({ length: 10 }, (_, i) => `prod-eu/agents/agent-new-${i + 1}`),
        'prod-eu/agents/metrics-0',
      ].sort(),
    );
    expect(breaches.every((e) => e.correlationId === requestId)).toBe(true);
  });

  it('catches up on a pod that started while no collector watched, and says nothing once the quarantine is released', async () => {
    const { h, prod, replicaSetOwner } = await setup();
    const requestId = await quarantine(h);

    // The pod starts after the quarantine while no sentinel runs; a plain sync writes it to the inventory.
    prod.create(agentPod('agent-gap', replicaSetOwner as never, `${REPO}:5.2`));
    await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
    const collector = startCollector(h.container, { sentinelIntervalMs: 100, leaseTtlMs: 3000 });
    cleanups.push(collector.stop);
    await collector.ready;
    const alert = await h.slack.waitFor(() => alerts(h)[0], 20_000);
    expect(textOf(alert)).toContain('agent-gap');

    // Release it; afterwards a new pod running the digest raises nothing.
    await approveInverse(h, requestId, 'vendor fixed 5.2');
    prod.create(agentPod('agent-after-release', replicaSetOwner as never, `${REPO}:5.2`));
    // The sentinel queues a breach before the collector stores the pod, so once the pod is in the index every
    // breach job for it exists; wait for those to finish, then no alert may name it.
    await h.slack.waitFor(
      async () =>
        (await h.container.inventory.podsRunningDigest(DIGEST)).some((p) => p.name === 'agent-after-release')
          ? true
          : undefined,
      20_000,
    );
    const jobs = (
      await h.container.actionQueue.getJobs(['waiting', 'active', 'delayed', 'completed'])
    ).filter((j) => j.data.type === 'quarantine-alert' && j.data.breach.pod === 'agent-after-release');
    for (const j of jobs) {
      await h.slack.waitFor(async () => ((await j.isCompleted()) ? true : undefined), 20_000);
      expect((await h.container.actionQueue.getJob(j.id as string))?.returnvalue).toBe('stale');
    }
    expect(alerts(h).some((m) => /agent-after-release/.test(textOf(m)))).toBe(false);
    expect(alerts(h)).toHaveLength(1);
  });
});
