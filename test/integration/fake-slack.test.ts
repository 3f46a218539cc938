import type { AddressInfo } from 'node:net';
import {
  type AllMiddlewareArgs,
  App,
  type AppOptions,
  HTTPReceiver,
  type HTTPReceiverOptions,
  type SlackCommandMiddlewareArgs,
} from '@slack/bolt';
import { ErrorCode, retryPolicies, WebClient, WebClientEvent, type WebClientOptions } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, silentLogger, startFakeSlack } from '../../src/testing/fake-slack.ts';
import {
  sendBlockActions,
  sendSignedRequest,
  sendSlashCommand,
  sendViewSubmission,
  signSlackRequest,
} from '../../src/testing/slack-requests.ts';

const SIGNING_SECRET = 'fake-signing-secret-8f14e45fceea167a5a36dedd4bea2543';
const CHANNEL = 'C0INCIDENT';

function errorData(err: unknown): {
  code?: string;
  error?: string;
  statusCode?: number;
  retryAfter?: number;
} {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number };
  return { code: e.code, error: e.data?.error, statusCode: e.statusCode, retryAfter: e.retryAfter };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('fake Slack Web API driven by a real WebClient', () => {
  let fake: FakeSlack;
  const client = (overrides: WebClientOptions = {}, token?: string): WebClient =>
    new WebClient(token ?? fake.botToken, {
      slackApiUrl: fake.apiUrl,
      logger: silentLogger(),
      retryConfig: retryPolicies.rapidRetryPolicy,
      ...overrides,
    });

  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
  });

  it('posts then updates a message and messages() shows the current text and blocks', async () => {
    const web = client();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*running*' } }];
    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'running', blocks });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe(CHANNEL);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.text).toBe('running');

    const second = await web.chat.postMessage({
      channel: CHANNEL,
      text: 'second',
      thread_ts: posted.ts as string,
    });
    expect(Number(second.ts)).toBeGreaterThan(Number(posted.ts));

    const doneBlocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*done*' } }];
    const updated = await web.chat.update({
      channel: CHANNEL,
      ts: posted.ts as string,
      text: 'done',
      blocks: doneBlocks,
    });
    expect(updated.ts).toBe(posted.ts);

    const [first, reply] = fake.messages(CHANNEL);
    expect(first).toMatchObject({ channel: CHANNEL, ts: posted.ts, text: 'done', blocks: doneBlocks });
    expect(first?.edited).toBeDefined();
    expect(reply).toMatchObject({ text: 'second', thread_ts: posted.ts });
    const postCall = fake.callsTo('chat.postMessage')[0];
    expect(postCall?.body.blocks).toEqual(blocks);
  });

  it('chat.update needs the ts of an existing message in that channel', async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'x' });
    const err = await rejectionOf(
      web.chat.update({ channel: 'C0OTHER', ts: posted.ts as string, text: 'y' }),
    );
    expect(errorData(err)).toMatchObject({ code: ErrorCode.PlatformError, error: 'message_not_found' });
    const err2 = await rejectionOf(web.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'y' }));
    expect(errorData(err2).error).toBe('message_not_found');
  });

  it('a wrong token surfaces invalid_auth as a platform error', async () => {
    const err = await rejectionOf(client({}, 'xoxb-wrong').chat.postMessage({ channel: CHANNEL, text: 'x' }));
    expect(errorData(err)).toMatchObject({ code: ErrorCode.PlatformError, error: 'invalid_auth' });
    expect(fake.messages()).toHaveLength(0);
    expect(fake.calls[0]).toMatchObject({ method: 'chat.postMessage', status: 200, error: 'invalid_auth' });
  });

  it('429 with Retry-After: the WebClient waits, retries and the message is delivered once', async () => {
    const web = client();
    const rateLimited: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    fake.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });

    const started = Date.now();
    const res = await web.chat.postMessage({ channel: CHANNEL, text: 'after the storm' });
    expect(res.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(rateLimited).toEqual([1]);
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(['after the storm']);
  });

  it('rejectRateLimitedCalls surfaces the 429 immediately as WebAPIRateLimitedError', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 30 });
    const err = await rejectionOf(
      client({ rejectRateLimitedCalls: true }).chat.postMessage({ channel: CHANNEL, text: 'x' }),
    );
    expect(errorData(err)).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('HTTP 5xx is retried per retryConfig; with retries: 0 it surfaces as WebAPIHTTPError', async () => {
    fake.failNext('chat.postMessage', { status: 503 }, 2);
    await client().chat.postMessage({ channel: CHANNEL, text: 'eventually' });
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200]);

    fake.reset();
    fake.failNext('chat.postMessage', { status: 500 });
    const err = await rejectionOf(
      client({ retryConfig: { retries: 0 } }).chat.postMessage({ channel: CHANNEL, text: 'x' }),
    );
    expect(errorData(err)).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(fake.messages()).toHaveLength(0);
  });

  it('injected platform errors are returned once and not retried', async () => {
    const web = client();
    fake.failNext('chat.postMessage', { error: 'not_in_channel' });
    const err = await rejectionOf(web.chat.postMessage({ channel: CHANNEL, text: 'x' }));
    expect(errorData(err).error).toBe('not_in_channel');
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    await web.chat.postMessage({ channel: CHANNEL, text: 'now fine' });
    expect(fake.messages()).toHaveLength(1);
  });

  it('seeded channels produce the real posting errors', async () => {
    fake.addChannel({ id: 'C0PUBLIC', name: 'ops', is_member: false });
    fake.addChannel({ id: 'C0SECRET', name: 'sec-ir', is_private: true, is_member: false });
    fake.addChannel({ id: 'C0OLD', name: 'old-incident', is_archived: true });
    fake.addChannel({ id: 'C0IR', name: 'ir' });
    const web = client();
    expect(errorData(await rejectionOf(web.chat.postMessage({ channel: 'C0PUBLIC', text: 'x' }))).error).toBe(
      'not_in_channel',
    );
    expect(errorData(await rejectionOf(web.chat.postMessage({ channel: 'C0SECRET', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect(errorData(await rejectionOf(web.chat.postMessage({ channel: 'C0OLD', text: 'x' }))).error).toBe(
      'is_archived',
    );
    const byName = await web.chat.postMessage({ channel: '#ir', text: 'by name' });
    expect(byName.channel).toBe('C0IR');
  });

  it('filesUploadV2 runs the three-step external upload and the CSV lands in uploads', async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'results' });
    const csv = 'cluster,namespace,pod\nprod-eu,payments,api-7d9f\n';
    const res = await web.filesUploadV2({
      channel_id: CHANNEL,
      thread_ts: posted.ts as string,
      filename: 'workloads.csv',
      title: 'Workloads',
      initial_comment: 'full list attached',
      content: csv,
    });
    expect(res.ok).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload_url',
      'files.completeUploadExternal',
    ]);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.uploads[0]).toMatchObject({
      filename: 'workloads.csv',
      title: 'Workloads',
      text: csv,
      channel: CHANNEL,
      thread_ts: posted.ts,
      initial_comment: 'full list attached',
    });
    expect(fake.uploads[0]?.content.equals(Buffer.from(csv))).toBe(true);
  });

  it('accepts JSON bodies, but only with the token in the Authorization header', async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const blocks = [{ type: 'header', text: { type: 'plain_text', text: 'Incident' } }];
    const ok = await post(
      { authorization: `Bearer ${fake.botToken}` },
      { channel: CHANNEL, text: 'json', blocks },
    );
    expect(ok).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.messages()[0]?.blocks).toEqual(blocks);
    expect(await post({}, { token: fake.botToken, channel: CHANNEL, text: 'x' })).toEqual({
      ok: false,
      error: 'not_authed',
    });
    const form = await fetch(`${fake.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: fake.botToken }).toString(),
    }).then((r) => r.json());
    expect(form).toMatchObject({
      ok: true,
      user_id: fake.botUserId,
      bot_id: fake.botId,
      team_id: fake.teamId,
    });
  });

  it('serves seeded users, usergroups and channels', async () => {
    fake.addUser({ id: 'U0ALICE', name: 'alice', real_name: 'Alice Example' });
    fake.addUser({ id: 'U0GONE', name: 'gone', real_name: 'Gone', deleted: true });
    fake.addUsergroup('S0IR', 'incident-commanders', ['U0ALICE']);
    fake.addChannel({ id: CHANNEL, name: 'incident', is_private: true });
    const web = client();
    const alice = await web.users.info({ user: 'U0ALICE' });
    expect(alice.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'Alice Example',
      deleted: false,
    });
    expect((await web.users.info({ user: 'U0GONE' })).user?.deleted).toBe(true);
    expect(errorData(await rejectionOf(web.users.info({ user: 'U0NOBODY' }))).error).toBe('user_not_found');
    expect((await web.usergroups.users.list({ usergroup: 'S0IR' })).users).toEqual(['U0ALICE']);
    expect(errorData(await rejectionOf(web.usergroups.users.list({ usergroup: 'S0NONE' }))).error).toBe(
      'no_such_subteam',
    );
    const info = await web.conversations.info({ channel: CHANNEL });
    expect(info.channel).toMatchObject({ id: CHANNEL, name: 'incident', is_private: true });
    expect(errorData(await rejectionOf(web.conversations.info({ channel: 'C0NONE' }))).error).toBe(
      'channel_not_found',
    );
    expect(errorData(await rejectionOf(web.apiCall('chat.nonsense', {}))).error).toBe('unknown_method');
  });

  it('handles ephemerals, permalinks and views.open', async () => {
    const web = client();
    const eph = await web.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d+\.\d+$/);
    expect(fake.ephemerals).toMatchObject([{ channel: CHANNEL, user: 'U0ALICE', text: 'only you' }]);

    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'x' });
    const link = await web.chat.getPermalink({ channel: CHANNEL, message_ts: posted.ts as string });
    expect(link.permalink).toBe(
      `https://scope-test.slack.com/archives/${CHANNEL}/p${(posted.ts as string).replace('.', '')}`,
    );

    const view = {
      type: 'modal' as const,
      callback_id: 'confirm_revoke',
      title: { type: 'plain_text' as const, text: 'Revoke?' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Sure?' } }],
    };
    const opened = await web.views.open({ trigger_id: '123.456.abc', view });
    expect(opened.view?.id).toMatch(/^V/);
    expect(fake.views[0]?.view).toMatchObject({ callback_id: 'confirm_revoke' });
    expect(errorData(await rejectionOf(web.views.open({ trigger_id: '', view }))).error).toBe(
      'invalid_arguments',
    );
  });

  it('rejects blocks beyond documented Block Kit limits with invalid_blocks', async () => {
    const web = client();
    const long = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }];
    const err = await rejectionOf(web.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: long }));
    expect(errorData(err).error).toBe('invalid_blocks');
    const many = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(
      errorData(await rejectionOf(web.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: many }))).error,
    ).toBe('invalid_blocks');
    expect(errorData(await rejectionOf(web.chat.postMessage({ channel: CHANNEL, text: '' }))).error).toBe(
      'no_text',
    );
    expect(fake.messages()).toHaveLength(0);
  });

  it('response_url POSTs are recorded and replace/delete/in_channel change the fake state', async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'approve?' });
    const tied = fake.responseUrl('r-msg', {
      channel: CHANNEL,
      user: 'U0ALICE',
      message_ts: posted.ts as string,
    });
    const send = (url: string, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    expect((await send(tied, { replace_original: true, text: 'approved' })).status).toBe(200);
    expect(fake.messages(CHANNEL)[0]?.text).toBe('approved');
    await send(tied, { text: 'just you' });
    expect(fake.ephemerals.at(-1)).toMatchObject({ user: 'U0ALICE', text: 'just you' });
    await send(tied, { response_type: 'in_channel', text: 'for everyone' });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(['approved', 'for everyone']);
    await send(tied, { delete_original: true });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(['for everyone']);
    expect(fake.responses.map((r) => [r.id, r.response_type, r.replace_original, r.delete_original])).toEqual(
      [
        ['r-msg', 'ephemeral', true, false],
        ['r-msg', 'ephemeral', false, false],
        ['r-msg', 'in_channel', false, false],
        ['r-msg', 'ephemeral', false, true],
      ],
    );

    fake.failNext('response_url', { status: 404 });
    expect((await send(fake.responseUrl(), { text: 'late' })).status).toBe(404);
  });

  it('waitFor resolves with the predicate value and times out listing the recorded calls', async () => {
    const web = client();
    setTimeout(() => void web.chat.postMessage({ channel: CHANNEL, text: 'later' }), 30);
    const msg = await fake.waitFor(() => fake.messages(CHANNEL).find((m) => m.text === 'later'));
    expect(msg.ts).toBeTruthy();
    const viaAsync = await fake.waitFor(async () => fake.callsTo('chat.postMessage')[0]);
    expect(viaAsync.status).toBe(200);
    const err = await rejectionOf(fake.waitFor(() => fake.messages().find((m) => m.text === 'never'), 100));
    expect(String(err)).toMatch(/not met within 100ms/);
    expect(String(err)).toMatch(/chat\.postMessage -> ok .*"text":"later"/);
    expect(String(err)).not.toContain(fake.botToken);
  });
});

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

async function startBolt(
  fake: FakeSlack,
  receiverOptions: Partial<HTTPReceiverOptions> = {},
  appOptions: Partial<AppOptions> = {},
): Promise<{ app: App; endpoint: string }> {
  const receiver = new HTTPReceiver({
    signingSecret: SIGNING_SECRET,
    logger: silentLogger(),
    ...receiverOptions,
  });
  const app = new App({
    receiver,
    token: fake.botToken,
    botId: fake.botId,
    botUserId: fake.botUserId,
    logger: silentLogger(),
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: retryPolicies.rapidRetryPolicy },
    ...appOptions,
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  return { app, endpoint: `http://127.0.0.1:${port}/slack/events` };
}

describe('a real Bolt App on HTTPReceiver against the fake', () => {
  let fake: FakeSlack;
  let app: App;
  let endpoint: string;
  let onCommand: (args: CommandArgs) => Promise<void> = async ({ ack }) => ack();
  let commandRuns = 0;

  beforeAll(async () => {
    fake = await startFakeSlack();
    ({ app, endpoint } = await startBolt(fake));
    app.command('/scope', async (args) => {
      commandRuns += 1;
      await onCommand(args);
    });
    app.action({ action_id: 'approve', type: 'block_actions' }, async ({ ack, body, respond }) => {
      await ack();
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    app.view('confirm_revoke', async ({ ack, view }) => {
      const reason = view.state.values.reason_block?.reason?.value;
      if (!reason) {
        await ack({ response_action: 'errors', errors: { reason_block: 'A reason is required' } });
        return;
      }
      await ack();
    });
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    commandRuns = 0;
    onCommand = async ({ ack }) => ack();
  });

  it('a correctly signed slash command runs the listener: ack body is the HTTP answer, respond() hits response_url', async () => {
    onCommand = async ({ command, ack, respond, client }) => {
      await ack({ response_type: 'ephemeral', text: `Looking up ${command.text}` });
      await respond({ response_type: 'in_channel', text: 'found 3 workloads' });
      await client.chat.postMessage({ channel: command.channel_id, text: `details for ${command.text}` });
    };
    const res = await sendSlashCommand(endpoint, SIGNING_SECRET, {
      text: 'where sha256:abc',
      channel_id: CHANNEL,
      user_id: 'U0ALICE',
      response_url: fake.responseUrl('cmd-1', { channel: CHANNEL, user: 'U0ALICE' }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: 'Looking up where sha256:abc' });
    expect(commandRuns).toBe(1);

    const response = await fake.waitFor(() => fake.responses.find((r) => r.id === 'cmd-1'));
    expect(response.body).toEqual({ response_type: 'in_channel', text: 'found 3 workloads' });
    await fake.waitFor(() => fake.messages(CHANNEL).find((m) => m.text === 'details for where sha256:abc'));
    const post = fake.callsTo('chat.postMessage')[0];
    expect(post?.body).toMatchObject({ channel: CHANNEL, team_id: fake.teamId });
    expect(fake.callsTo('auth.test')).toHaveLength(0);
  });

  it('an empty ack() answers 200 with an empty body', async () => {
    const res = await sendSlashCommand(endpoint, SIGNING_SECRET, { text: 'help' });
    expect(res).toMatchObject({ status: 200, body: '' });
    expect(commandRuns).toBe(1);
  });

  it('a forged or wrongly keyed signature is rejected with 401 and no listener runs', async () => {
    const forged = await sendSlashCommand(
      endpoint,
      SIGNING_SECRET,
      { text: 'revoke' },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(forged.status).toBe(401);
    const wrongKey = await sendSlashCommand(endpoint, 'not-the-secret', { text: 'revoke' });
    expect(wrongKey.status).toBe(401);
    expect(commandRuns).toBe(0);
    expect(fake.calls).toHaveLength(0);
  });

  it('a timestamp older than 5 minutes is rejected with 401 even when correctly signed', async () => {
    const stale = Math.floor(Date.now() / 1000) - 5 * 60 - 10;
    const res = await sendSlashCommand(endpoint, SIGNING_SECRET, { text: 'revoke' }, { timestamp: stale });
    expect(res.status).toBe(401);
    expect(commandRuns).toBe(0);
    const fresh = Math.floor(Date.now() / 1000) - 4 * 60;
    expect(
      (await sendSlashCommand(endpoint, SIGNING_SECRET, { text: 'ok' }, { timestamp: fresh })).status,
    ).toBe(200);
  });

  it('a body altered after signing is rejected', async () => {
    const body = new URLSearchParams({ command: '/scope', text: 'where x' }).toString();
    const headers = signSlackRequest(SIGNING_SECRET, body);
    const res = await sendSignedRequest(
      endpoint,
      SIGNING_SECRET,
      `${body}&text=revoke`,
      'application/x-www-form-urlencoded',
      {
        signature: headers['x-slack-signature'],
        timestamp: Number(headers['x-slack-request-timestamp']),
      },
    );
    expect(res.status).toBe(401);
    expect(commandRuns).toBe(0);
  });

  it('Slack redelivery headers surface as context.retryNum and retryReason', async () => {
    let seen: unknown;
    onCommand = async ({ ack, context }) => {
      seen = [context.retryNum, context.retryReason];
      await ack();
    };
    await sendSlashCommand(
      endpoint,
      SIGNING_SECRET,
      { text: 'x' },
      { retryNum: 1, retryReason: 'http_timeout' },
    );
    expect(seen).toEqual([1, 'http_timeout']);
  });

  it('block_actions are routed to app.action and respond() replaces the original message', async () => {
    const posted = await app.client.chat.postMessage({ channel: CHANNEL, text: 'Revoke token?' });
    const ts = posted.ts as string;
    const res = await sendBlockActions(endpoint, SIGNING_SECRET, {
      user: 'U0ALICE',
      channel: CHANNEL,
      message: { ts, text: 'Revoke token?' },
      actions: [{ action_id: 'approve', value: 'revoke:tok-1', type: 'button' }],
      response_url: fake.responseUrl('act-1', { channel: CHANNEL, message_ts: ts }),
    });
    expect(res).toMatchObject({ status: 200, body: '' });
    await fake.waitFor(() =>
      fake.messages(CHANNEL).find((m) => m.ts === ts && m.text === 'Approved by <@U0ALICE>'),
    );
    expect(fake.responses[0]).toMatchObject({ id: 'act-1', replace_original: true });
    expect(commandRuns).toBe(0);
  });

  it('a view_submission ack with response_action errors is returned in the HTTP body', async () => {
    const empty = await sendViewSubmission(endpoint, SIGNING_SECRET, {
      user: 'U0ALICE',
      view: {
        callback_id: 'confirm_revoke',
        state: { values: { reason_block: { reason: { type: 'plain_text_input', value: null } } } },
      },
    });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({
      response_action: 'errors',
      errors: { reason_block: 'A reason is required' },
    });
    const filled = await sendViewSubmission(endpoint, SIGNING_SECRET, {
      user: 'U0ALICE',
      view: {
        callback_id: 'confirm_revoke',
        private_metadata: '{"token":"tok-1"}',
        state: {
          values: { reason_block: { reason: { type: 'plain_text_input', value: 'leaked in CI logs' } } },
        },
      },
    });
    expect(filled).toMatchObject({ status: 200, body: '' });
  });

  it('without botId/botUserId and with tokenVerificationEnabled false, Bolt calls auth.test on every request', async () => {
    const lazy = await startBolt(
      fake,
      {},
      { botId: undefined, botUserId: undefined, tokenVerificationEnabled: false },
    );
    try {
      lazy.app.command('/scope', async ({ ack }) => ack());
      expect(fake.callsTo('auth.test')).toHaveLength(0);
      expect((await sendSlashCommand(lazy.endpoint, SIGNING_SECRET, { text: 'x' })).status).toBe(200);
      expect(fake.callsTo('auth.test')).toHaveLength(1);
      await sendSlashCommand(lazy.endpoint, SIGNING_SECRET, { text: 'y' });
      expect(fake.callsTo('auth.test')).toHaveLength(2);
    } finally {
      await lazy.app.stop();
    }
  });

  it('a listener that never acks gets HTTP 404 after unhandledRequestTimeoutMillis', async () => {
    const slow = await startBolt(fake, { unhandledRequestTimeoutMillis: 200 });
    try {
      slow.app.command('/scope', async () => {});
      const res = await sendSlashCommand(slow.endpoint, SIGNING_SECRET, { text: 'x' });
      expect(res.status).toBe(404);
      expect(res.elapsedMs).toBeGreaterThanOrEqual(150);
    } finally {
      await slow.app.stop();
    }
  });
});
