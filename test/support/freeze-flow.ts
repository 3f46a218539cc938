import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_IDS, REASON_CALLBACK } from '../../src/render/actions/present-request.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';
import type { FakeSlackMessage } from '../../src/testing/fake-slack.ts';
import { registerGitopsCrds } from '../../src/testing/freeze-fixtures.ts';
import { sendBlockActions, sendSlashCommand, sendViewSubmission } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from './scope-harness.ts';

export const CHANNEL = 'C0INCIDENT';

/** Fake clusters with the GitOps CRDs, plus the `clusters:` config pointing at them. */
export async function fakeClusters(specs: Array<{ name: string; environment: string }>) {
  const dir = await mkdtemp(join(tmpdir(), 'scope-freeze-'));
  const fakes = new Map<string, FakeKube>();
  const clusters = [];
  for (const s of specs) {
    const fake = await startFakeKube({ name: s.name, tls: false });
    registerGitopsCrds(fake);
    fakes.set(s.name, fake);
    clusters.push({
      name: s.name,
      environment: s.environment,
      kubeconfig: await fake.writeKubeconfig(dir),
      context: s.name,
      timeoutSeconds: 5,
    });
  }
  return {
    fakes,
    clusters,
    dir,
    close: async () => {
      for (const f of fakes.values()) await f.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const APPROVERS = {
  approvers: [
    { environments: ['*'], users: ['U0APPROVER1', 'U0APPROVER2'], usergroups: ['S0SRE'] },
    { environments: ['prod'], users: ['U0APPROVER1', 'U0APPROVER2'], usergroups: ['S0SRE'], required: 2 },
  ],
};

export async function startFreezeScope(
  clusters: unknown[],
  actions: Record<string, unknown> = {},
  opts: { worker?: boolean } = {},
): Promise<ScopeHarness> {
  const h = await startScope({
    overrides: {
      clusters,
      actions: { ...APPROVERS, recheckSeconds: 1, ...actions },
      inventory: { collect: false },
    },
    ...(opts.worker === false ? { worker: false } : {}),
  });
  h.slack.addUsergroup('S0SRE', 'sre', ['U0SRE']);
  return h;
}

export function actionsUrl(h: ScopeHarness): string {
  return h.endpoint.replace('/slack/commands', '/slack/actions');
}

/** `/scope freeze <target>` → modal → reason submitted; returns the approval card once posted. */
export async function requestFreeze(h: ScopeHarness, target: string, user = 'U0RESPONDER'): Promise<Card> {
  const trigger = `${Date.now()}.${randomBytes(6).toString('hex')}`;
  const before = h.slack.messages(CHANNEL).length;
  const res = await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
    text: `freeze ${target}`,
    user_id: user,
    trigger_id: trigger,
  });
  if (res.status !== 200) throw new Error(`slash command answered ${res.status}`);
  const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
  await submitReason(h, view.id, String(view.view.private_metadata), user);
  const message = await h.slack.waitFor(
    () =>
      h.slack
        .messages(CHANNEL)
        .slice(before)
        .find((m) => requestIdOf(m)),
    20_000,
  );
  return cardOf(message);
}

export async function submitReason(
  h: ScopeHarness,
  viewId: string,
  offerId: string,
  user: string,
  reason = 'compromised image in payments',
) {
  const r = await sendViewSubmission(actionsUrl(h), SIGNING_SECRET, {
    user,
    view: {
      id: viewId,
      callback_id: REASON_CALLBACK,
      private_metadata: offerId,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
    },
  });
  if (r.status !== 200) throw new Error(`view submission answered ${r.status}`);
}

export type Card = { ts: string; requestId: string; message: FakeSlackMessage };

export function cardOf(message: FakeSlackMessage): Card {
  const requestId = requestIdOf(message);
  if (!requestId) throw new Error('not an approval card');
  return { ts: message.ts, requestId, message };
}

/** The request id a card names in its footer. */
export function requestIdOf(m: FakeSlackMessage): string | undefined {
  return JSON.stringify(m.blocks).match(/Request `([a-f0-9]{32})`/)?.[1];
}

export function click(
  h: ScopeHarness,
  user: string,
  action: keyof typeof ACTION_IDS,
  value: string,
  opts: { ts?: string; trigger?: string; actionTs?: string } = {},
) {
  return sendBlockActions(actionsUrl(h), SIGNING_SECRET, {
    user,
    channel: CHANNEL,
    message: { ts: opts.ts ?? '1.000001' },
    actions: [{ action_id: ACTION_IDS[action], value, type: 'button' }],
    ...(opts.trigger ? { trigger_id: opts.trigger } : {}),
  });
}

/** The card's current text as a user sees it (blocks flattened). */
export function cardText(h: ScopeHarness, requestId: string): string {
  const m = h.slack.messages(CHANNEL).find((x) => requestIdOf(x) === requestId);
  return m ? JSON.stringify(m.blocks) : '';
}

export function waitCard(
  h: ScopeHarness,
  requestId: string,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  return h.slack.waitFor(() => {
    const t = cardText(h, requestId);
    return pattern.test(t) ? t : undefined;
  }, timeoutMs);
}

export function ephemeralFor(h: ScopeHarness, user: string, pattern: RegExp, timeoutMs = 10_000) {
  return h.slack.waitFor(
    () => h.slack.ephemerals.find((e) => e.user === user && pattern.test(JSON.stringify(e.blocks))),
    timeoutMs,
  );
}

/** PATCH bodies a fake received, by path. */
export function patches(
  fake: FakeKube,
): Array<{ path: string; body: Record<string, unknown>; contentType: string }> {
  return fake.requests
    .filter((r) => r.method === 'PATCH')
    .map((r) => ({
      path: r.path,
      body: JSON.parse(r.body ?? '{}') as Record<string, unknown>,
      contentType: r.contentType ?? '',
    }));
}

/** The inverse (Release, Unfreeze) of request `id` through its button, two approvals (prod); returns its id and final card. */
export async function approveInverse(h: ScopeHarness, id: string, reason = 'incident over') {
  const trigger = `release-${id}-${Date.now()}`;
  await click(h, 'U0RESPONDER', 'inverse', id, { trigger });
  const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
  const n = h.slack.messages(CHANNEL).length;
  await submitReason(h, view.id, String(view.view.private_metadata), 'U0RESPONDER', reason);
  const card = await h.slack.waitFor(
    () =>
      h.slack
        .messages(CHANNEL)
        .slice(n)
        .find((m) => requestIdOf(m) && requestIdOf(m) !== id),
    20_000,
  );
  const id2 = requestIdOf(card) as string;
  await waitCard(h, id2, /waiting for approval/);
  await click(h, 'U0APPROVER1', 'approve', id2);
  await click(h, 'U0APPROVER2', 'approve', id2);
  return { id: id2, card: await waitCard(h, id2, /— done/) };
}

/** An offer's button pressed, a reason given, two approvals (prod): returns the request id once done. */
export async function approveOffer(
  h: ScopeHarness,
  offerId: string,
  reason = 'vendor agent 5.2 is compromised',
) {
  const trigger = `offer-${offerId}-${Date.now()}`;
  await click(h, 'U0RESPONDER', 'offer', offerId, { trigger });
  const view = await h.slack.waitFor(() => h.slack.views.find((v) => v.trigger_id === trigger));
  const n = h.slack.messages(CHANNEL).length;
  await submitReason(h, view.id, offerId, 'U0RESPONDER', reason);
  const card = await h.slack.waitFor(
    () =>
      h.slack
        .messages(CHANNEL)
        .slice(n)
        .find((m) => requestIdOf(m)),
    20_000,
  );
  const id = requestIdOf(card) as string;
  await waitCard(h, id, /waiting for approval/);
  await click(h, 'U0APPROVER1', 'approve', id);
  await click(h, 'U0APPROVER2', 'approve', id);
  await waitCard(h, id, /— done/);
  return id;
}
