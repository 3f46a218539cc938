import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import {
  CHANNEL,
  click,
  fakeClusters,
  patches,
  requestIdOf,
  startFreezeScope,
  submitReason,
  waitCard,
} from '../support/freeze-flow.ts';
import { SIGNING_SECRET } from '../support/scope-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DIGEST = fakeDigest('compromised-runtime');

describe('Freeze deploys button on /scope digest', () => {
  it('offers a freeze of the workloads running the digest; the targets come from the server-side offer', async () => {
    const k = await fakeClusters([{ name: 'prod-eu', environment: 'prod' }]);
    cleanups.push(k.close);
    const prod = k.fakes.get('prod-eu') as FakeKube;
    prod.load([makeNamespace('apps')]);
    for (const name of ['checkout', 'ledger']) {
      prod.load(
        makeDeploymentChain({
          namespace: 'apps',
          deployment: name,
          startTime: '2026-11-20T10:00:00Z',
          containers: [
            {
              name: 'app',
              image: 'registry.example.com/base/runtime:3.1',
              imageID: `registry.example.com/base/runtime@${DIGEST}`,
            },
          ],
        }).objects,
      );
    }
    const h = await startFreezeScope(k.clusters);
    cleanups.push(h.close);
    await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();

    await sendSlashCommand(h.endpoint, SIGNING_SECRET, { text: `digest ${DIGEST}`, user_id: 'U0RESPONDER' });
    const answer = await h.slack.waitFor(() =>
      h.slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes('scope_action_offer')),
    );
    const button = (
      answer.blocks as Array<{
        type: string;
        elements?: Array<{ action_id: string; value: string; text: { text: string } }>;
      }>
    )
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'scope_action_offer');
    expect(button?.text.text).toBe('Freeze deploys in prod (2)');
    expect(button?.value).toMatch(/^[a-f0-9]{32}$/);

    const trigger = `digest-${Date.now()}`;
    await click(h, 'U0RESPONDER', 'offer', button?.value as string, { trigger });
    const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
    expect(view.view.private_metadata).toBe(button?.value);
    await submitReason(h, view.id, String(view.view.private_metadata), 'U0RESPONDER');
    const card = await h.slack.waitFor(() => h.slack.messages(CHANNEL).find((m) => requestIdOf(m)), 20_000);
    const id = requestIdOf(card) as string;
    const text = await waitCard(h, id, /waiting for approval/);
    expect(text).toContain('checkout');
    expect(text).toContain('ledger');
    await click(h, 'U0APPROVER1', 'approve', id);
    await click(h, 'U0APPROVER2', 'approve', id);
    await waitCard(h, id, /— done/);
    expect(
      patches(prod)
        .map((p) => p.path)
        .sort(),
    ).toEqual([
      '/apis/apps/v1/namespaces/apps/deployments/checkout',
      '/apis/apps/v1/namespaces/apps/deployments/ledger',
    ]);
  });
});
