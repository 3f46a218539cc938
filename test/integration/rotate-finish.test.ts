import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';
import type { FakeSlackMessage } from '../../src/testing/fake-slack.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import {
  APPROVERS,
  CHANNEL,
  cardText,
  click,
  requestIdOf,
  submitReason,
  waitCard,
} from '../support/freeze-flow.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

/** After a rotation deactivated the old key: a **Delete old key** button, its own approval, the key deleted. */

const USER = 'ci-deployer';
const OLD = 'AKIAOLDKEY0000000001';
let fake: FakeAws;
let h: ScopeHarness | undefined;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  fake = await startFakeAws({ lookupRatePerSecond: 10 });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  fake.clearFaults();
  await h?.close();
  h = undefined;
});

async function start(): Promise<ScopeHarness> {
  h = await startScope({
    overrides: {
      aws: {
        regions: ['eu-west-1'],
        endpoint: fake.endpoint,
        audit: { requestsPerSecond: 10 },
        rotation: {
          destinations: [
            { user: USER, secretsManager: { secretId: 'ci/deployer-aws', region: 'eu-west-1' } },
          ],
        },
      },
      actions: APPROVERS,
    },
  });
  return h;
}

type Button = { action_id: string; value: string; text: { text: string } };
const buttonsOf = (m: FakeSlackMessage | string): Button[] =>
  (
    (typeof m === 'string' ? JSON.parse(m) : m.blocks) as Array<{ type?: string; elements?: Button[] }>
  ).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));

/** Presses an offer button, submits a reason; returns the new request's card id. */
async function pressOffer(hh: ScopeHarness, offerId: string, reason: string): Promise<string> {
  const trigger = `offer-${offerId}-${Date.now()}`;
  const known = new Set(hh.slack.messages(CHANNEL).map((m) => requestIdOf(m)));
  await click(hh, 'U0RESPONDER', 'offer', offerId, { trigger });
  const view = await hh.slack.waitFor(() => hh.slack.views.find((v) => v.trigger_id === trigger));
  await submitReason(hh, view.id, String(view.view.private_metadata), 'U0RESPONDER', reason);
  const card = await hh.slack.waitFor(
    () =>
      hh.slack.messages(CHANNEL).find((m) => {
        const id = requestIdOf(m);
        return id && !known.has(id);
      }),
    20_000,
  );
  return requestIdOf(card) as string;
}

async function approve(hh: ScopeHarness, id: string): Promise<void> {
  await waitCard(hh, id, /waiting for approval/);
  await click(hh, 'U0APPROVER1', 'approve', id);
  await click(hh, 'U0APPROVER2', 'approve', id);
}

/** `/scope audit user:ci-deployer` → its Rotate button → reason → the Rotate request id. */
async function requestRotate(hh: ScopeHarness): Promise<string> {
  await sendSlashCommand(hh.endpoint, SIGNING_SECRET, {
    text: `audit user:${USER}`,
    user_id: 'U0RESPONDER',
    channel_id: CHANNEL,
    trigger_id: `t-${Math.random()}`,
    response_url: hh.slack.responseUrl(),
  });
  const audit = await hh.slack.waitFor(
    () =>
      hh.slack
        .messages(CHANNEL)
        .find((m) => m.text.startsWith(`CloudTrail audit of user:${USER}`) && buttonsOf(m).length > 0),
    20_000,
  );
  const rotate = buttonsOf(audit).find((b) => b.text.text === `Rotate user:${USER}`);
  return pressOffer(hh, rotate?.value as string, 'deploy key leaked');
}

describe('Rotate: Delete old key after the rotation', () => {
  it('offers Delete old key on the finished rotation; its own approval deletes the old key; audited', async () => {
    fake.iam.addUser(fake.defaultAccount, USER, [{ id: OLD }]);
    const hh = await start();
    const rotateId = await requestRotate(hh);
    expect(
      buttonsOf(await waitCard(hh, rotateId, /waiting for approval/)).map((b) => b.text.text),
    ).not.toContain('Delete old key');
    await approve(hh, rotateId);
    const done = await waitCard(hh, rotateId, /Delete old key/);
    expect(done).toMatch(/— done/);
    expect(fake.iam.keys(fake.defaultAccount, USER).find((k) => k.id === OLD)?.status).toBe('Inactive');
    const del = buttonsOf(done).find((b) => b.text.text === 'Delete old key');
    expect(del?.action_id).toBe('scope_action_offer');
    // The button holds an offer id only; the offer names exactly the deactivated key.
    expect(del?.value).toMatch(/^[a-f0-9]{32}$/);
    expect(await hh.container.actions.getOffer(del?.value as string)).toMatchObject({
      kind: 'rotate-finish',
      input: { user: USER, accessKeyIds: [OLD] },
    });
    // Nothing is deleted by the button itself.
    expect(fake.count({ service: 'iam', operation: 'DeleteAccessKey' })).toBe(0);

    const finishId = await pressOffer(hh, del?.value as string, 'new key works in CI');
    expect(await waitCard(hh, finishId, /waiting for approval/)).toContain(`delete access key ${OLD}`);
    expect(fake.count({ service: 'iam', operation: 'DeleteAccessKey' })).toBe(0);
    await approve(hh, finishId);
    await waitCard(hh, finishId, /— done/);
    const left = fake.iam.keys(fake.defaultAccount, USER);
    expect(left.map((k) => k.id)).not.toContain(OLD);
    expect(left.map((k) => k.status)).toEqual(['Active']);

    const entries = await hh.container.audit.recent(1000);
    const finish = entries.filter((e) => e.correlationId === finishId);
    expect(finish.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['request', 'approval', 'action', 'result']),
    );
    expect(finish.find((e) => e.kind === 'result')?.outcome).toBe('done');
    expect(await hh.container.audit.verify()).toBeUndefined();
  });

  it('no Delete old key while the old key was not deactivated (partial); offered once a retry deactivates it', async () => {
    fake.iam.addUser(fake.defaultAccount, USER, [{ id: OLD }]);
    fake.setFault({
      service: 'iam',
      operation: 'UpdateAccessKey',
      status: 403,
      code: 'AccessDenied',
      times: 1,
    });
    const hh = await start();
    const rotateId = await requestRotate(hh);
    await approve(hh, rotateId);
    const partial = await waitCard(hh, rotateId, /partly done/);
    expect(partial).toContain('Retry failed steps');
    expect(buttonsOf(partial).map((b) => b.text.text)).not.toContain('Delete old key');
    expect(fake.iam.keys(fake.defaultAccount, USER).find((k) => k.id === OLD)?.status).toBe('Active');

    await click(hh, 'U0RESPONDER', 'retry', rotateId);
    const done = await waitCard(hh, rotateId, /— done/);
    expect(buttonsOf(cardText(hh, rotateId) || done).map((b) => b.text.text)).toContain('Delete old key');
  });
});
