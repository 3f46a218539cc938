import type { Container } from '../src/container.ts';
import { ACTION_IDS } from '../src/render/actions/present-request.ts';
import type { FakeKube } from '../src/testing/fake-kube.ts';
import type { FakeSlackMessage } from '../src/testing/fake-slack.ts';
import { sendBlockActions } from '../src/testing/slack-requests.ts';
import { breachPod, COMPROMISED } from './fleet.ts';
import { approveAsSecondUser, completeReasonModal, type FreezeDemo } from './freeze.ts';

const isAlert = (m: FakeSlackMessage) => /started running anyway/.test(JSON.stringify(m.blocks));

/**
 * `breach`: the compromised digest is quarantined (through the Quarantine button and the second user's
 * approval, unless a quarantine is already active), then a node in prod-eu is replaced and the payments/api
 * ReplicaSet starts a new pod on the digest anyway. The collector sees the pod in one watch event and the alert
 * names the pod, the container and how it got past admission.
 */
export async function demoBreach(
  d: FreezeDemo,
  c: Container,
  prod: FakeKube | undefined,
  show: (m: FakeSlackMessage) => void,
): Promise<void> {
  if (!prod) {
    d.say('prod-eu is not running in this demo.');
    return;
  }
  const active = await c.actions.active('quarantine');
  if (active.length === 0) {
    d.say(
      `Quarantining ${COMPROMISED.slice(0, 19)}… first (the Quarantine button, as on an advisory alert).`,
    );
    const offer = await c.actions.saveOffer({
      kind: 'quarantine',
      input: { digest: COMPROMISED, references: [] },
      label: `Quarantine ${COMPROMISED.slice(0, 19)}… (IOC-2026-0042)`,
      channelId: d.channel,
      createdBy: d.user,
      createdAt: new Date().toISOString(),
    });
    const viewsBefore = d.slack.views.length;
    await sendBlockActions(d.actionsEndpoint, d.secret, {
      user: d.user,
      channel: d.channel,
      actions: [{ action_id: ACTION_IDS.offer, value: offer.id, type: 'button' }],
    });
    const card = await completeReasonModal(d, viewsBefore);
    if (card) show(card);
    const done = await approveAsSecondUser(d);
    if (done) show(done);
  }
  const before = new Set(
    d.slack
      .messages(d.channel)
      .filter(isAlert)
      .map((m) => m.ts),
  );
  d.say(
    '[prod-eu] Node eu-node-2 is replaced; the payments/api ReplicaSet starts a new pod on the same digest.',
  );
  d.say('[prod-eu] (This fake API server enforces no admission policy: as if the policy had been removed.)');
  prod.create(breachPod());
  const alert = await d.slack
    .waitFor(() => d.slack.messages(d.channel).find((m) => isAlert(m) && !before.has(m.ts)), 20_000)
    .catch(() => undefined);
  if (alert) show(alert);
  else d.say('(no alert within 20 s — see the log file)');
}
