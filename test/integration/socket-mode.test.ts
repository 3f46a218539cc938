import { afterEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../src/adapters/slack/notifier.ts';
import { startBot } from '../../src/bot.ts';
import { buildContainer } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { slackSettingsFor, startFakeSlack } from '../../src/testing/fake-slack.ts';
import { FAKE_APP_TOKEN, FakeSocketMode } from '../../src/testing/fake-socket-mode.ts';
import { deployment } from '../../src/testing/freeze-fixtures.ts';
import { startCommandWorker } from '../../src/worker.ts';
import { actionButtons, commandPorts, slackClient, startActions } from '../../src/worker-process.ts';
import { APPROVERS, CHANNEL, fakeClusters, patches, requestIdOf } from '../support/freeze-flow.ts';
import { testConfig } from '../support/scope-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const user = (id: string) => ({
  id,
  username: id.toLowerCase(),
  name: id.toLowerCase(),
  team_id: 'T0SCOPE01',
});

describe('Socket Mode: slash command, modal and approval click over the WebSocket protocol', () => {
  it('freezes after an approval click that arrived as a Socket Mode envelope', async () => {
    const k = await fakeClusters([{ name: 'stage-1', environment: 'staging' }]);
    cleanups.push(k.close);
    const stage = k.fakes.get('stage-1') as FakeKube;
    stage.load([deployment('payments', 'api')]);
    const slack = await startFakeSlack();
    cleanups.push(() => slack.close());
    slack.addChannel({ id: CHANNEL, name: 'inc' });
    slack.addUsergroup('S0SRE', 'sre', ['U0SRE']);
    const socket = await FakeSocketMode.start(slack);
    cleanups.push(() => socket.close());
    const config = testConfig(slack, {
      slack: {
        ...slackSettingsFor(slack, 'unused-signing-secret'),
        mode: 'socket',
        appToken: FAKE_APP_TOKEN,
      },
      clusters: k.clusters,
      actions: { ...APPROVERS, recheckSeconds: 3600 },
      inventory: { collect: false },
    });
    const c = buildContainer(config, 'bot', createLogger(config.log.level, 'test'));
    cleanups.push(() => c.close());
    const bot = await startBot(c);
    cleanups.push(bot.stop);
    await socket.connected();
    expect(slack.callsTo('apps.connections.open').length).toBeGreaterThan(0);
    const notifier = new SlackNotifier(slackClient(c), c.redis, config.redis.prefix, c.log);
    const worker = startCommandWorker(c, { notifier, ports: commandPorts(c), decorate: actionButtons(c) });
    cleanups.push(worker.close);
    const actions = startActions(c, notifier);
    cleanups.push(actions.close);

    // The slash command's ack travels back as the envelope's payload.
    const ack = await socket.slashCommand({
      text: 'freeze stage-1/payments/api',
      user_id: 'U0RESPONDER',
      channel_id: CHANNEL,
      trigger_id: 'sock.1',
    });
    expect(JSON.stringify(ack.payload)).toContain('Opening a form');
    const view = await slack.waitFor(() => slack.views.find((v) => v.trigger_id === 'sock.1'));

    const submitted = await socket.interactive({
      type: 'view_submission',
      team: { id: 'T0SCOPE01', domain: 'scope-test' },
      user: user('U0RESPONDER'),
      api_app_id: 'A0SCOPE01',
      trigger_id: 'sock.2',
      view: {
        id: view.id,
        type: 'modal',
        callback_id: view.view.callback_id,
        private_metadata: view.view.private_metadata,
        state: { values: { reason: { reason: { type: 'plain_text_input', value: 'compromised image' } } } },
      },
    });
    expect(submitted.envelope_id).toBeDefined();
    const card = await slack.waitFor(() => slack.messages(CHANNEL).find((m) => requestIdOf(m)), 20_000);
    const id = requestIdOf(card) as string;

    const click = (actor: string, ts: string) =>
      socket.interactive({
        type: 'block_actions',
        team: { id: 'T0SCOPE01', domain: 'scope-test' },
        user: user(actor),
        api_app_id: 'A0SCOPE01',
        trigger_id: `sock.${ts}`,
        container: { type: 'message', message_ts: card.ts, channel_id: CHANNEL, is_ephemeral: false },
        channel: { id: CHANNEL, name: 'inc' },
        message: { type: 'message', ts: card.ts, text: '', blocks: [] },
        actions: [
          { action_id: 'scope_action_approve', block_id: 'b0', value: id, type: 'button', action_ts: ts },
        ],
      });
    await click('U0RESPONDER', '1700000000.000001');
    await slack.waitFor(() =>
      slack.ephemerals.find(
        (e) => e.user === 'U0RESPONDER' && /cannot approve/.test(JSON.stringify(e.blocks)),
      ),
    );
    await click('U0APPROVER1', '1700000000.000002');
    await slack.waitFor(() => {
      const m = slack.messages(CHANNEL).find((x) => x.ts === card.ts);
      return m && JSON.stringify(m.blocks).includes('— done');
    }, 15_000);
    expect(patches(stage).map((p) => p.path)).toEqual(['/apis/apps/v1/namespaces/payments/deployments/api']);
    expect(socket.acks.length).toBeGreaterThanOrEqual(4);
  });
});
