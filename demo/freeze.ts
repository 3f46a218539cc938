import type { FakeSlack, FakeSlackMessage } from '../src/testing/fake-slack.ts';
import { sendBlockActions, sendViewSubmission } from '../src/testing/slack-requests.ts';

/** The second demo user, the one configured approver: presses Approve on the card. */
export const DEMO_APPROVER = 'U0SECOND';

/** The demo's approval rules: one approval by the second demo user; re-check soon so a revert shows. */
export function demoActionsConfig() {
  return { approvers: [{ users: [DEMO_APPROVER] }], recheckSeconds: 20 };
}

export type FreezeDemo = {
  slack: FakeSlack;
  actionsEndpoint: string;
  secret: string;
  channel: string;
  user: string;
  say: (s: string) => void;
};

const requestIdOf = (m: FakeSlackMessage) => JSON.stringify(m.blocks).match(/Request `([a-f0-9]{32})`/)?.[1];

/**
 * After `/scope freeze …` or a Freeze/Unfreeze button: the bot opened the reason modal; fill it in as the
 * user would and return the approval card the worker posts.
 */
export async function completeReasonModal(
  d: FreezeDemo,
  viewsBefore: number,
): Promise<FakeSlackMessage | undefined> {
  const view = await d.slack.waitFor(() => d.slack.views[viewsBefore], 3000).catch(() => undefined);
  if (!view) return undefined;
  const reason = 'stop the compromised vendor agent from spreading (demo)';
  d.say(`[modal] Reason: ${reason}  → Request approval`);
  const cards = new Set(
    d.slack
      .messages(d.channel)
      .filter(requestIdOf)
      .map((m) => m.ts),
  );
  await sendViewSubmission(d.actionsEndpoint, d.secret, {
    user: d.user,
    view: {
      id: view.id,
      callback_id: String(view.view.callback_id),
      private_metadata: String(view.view.private_metadata),
      state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
    },
  });
  return d.slack
    .waitFor(() => d.slack.messages(d.channel).find((m) => requestIdOf(m) && !cards.has(m.ts)), 20_000)
    .catch(() => undefined);
}

/** `approve`: the second demo user presses Approve on the newest waiting card; returns it once it settled. */
export async function approveAsSecondUser(d: FreezeDemo): Promise<FakeSlackMessage | undefined> {
  const card = d.slack
    .messages(d.channel)
    .filter((m) => requestIdOf(m) && JSON.stringify(m.blocks).includes('waiting for approval'))
    .at(-1);
  const id = card ? requestIdOf(card) : undefined;
  if (!card || !id) {
    d.say('No card is waiting for approval.');
    return undefined;
  }
  d.say(`[@second presses Approve on request ${id.slice(0, 8)}]`);
  await sendBlockActions(d.actionsEndpoint, d.secret, {
    user: DEMO_APPROVER,
    channel: d.channel,
    message: { ts: card.ts },
    actions: [{ action_id: 'scope_action_approve', value: id, type: 'button' }],
  });
  return d.slack
    .waitFor(() => {
      const m = d.slack.messages(d.channel).find((x) => x.ts === card.ts);
      return m && /— (done|partly done|failed)/.test(JSON.stringify(m.blocks)) ? m : undefined;
    }, 30_000)
    .catch(() => d.slack.messages(d.channel).find((x) => x.ts === card.ts));
}
