import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_APP_ID, FAKE_BOT_ID, FAKE_TEAM_DOMAIN, FAKE_TEAM_ID } from './fake-slack.ts';

/** The two headers Slack adds to every request it sends to an app (signing secret v0 scheme). */
export type SlackSignatureHeaders = { 'x-slack-signature': string; 'x-slack-request-timestamp': string };

/** Ways to make a request deliberately wrong or to mimic Slack's redelivery. */
export type SlackRequestOptions = {
  /** Seconds since the epoch to sign with and send; an old value produces a stale request. */
  timestamp?: number;
  /** Sent instead of the computed signature (forgery). */
  signature?: string;
  /** Adds `x-slack-retry-num` / `x-slack-retry-reason` as Slack does when it redelivers. */
  retryNum?: number;
  retryReason?: string;
  timeoutMs?: number;
};

/** The app's HTTP answer, with timing so tests can check the 3-second ack budget. */
export type SlackHttpResult = {
  status: number;
  body: string;
  json?: unknown;
  headers: Record<string, string>;
  elapsedMs: number;
};

/** Slash command form fields; anything omitted gets a realistic default. */
export type SlashCommandFields = {
  text: string;
  command?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  response_url?: string;
  trigger_id?: string;
  api_app_id?: string;
};

/** A user as it appears in interaction payloads. */
export type PayloadUser = string | { id: string; username?: string; name?: string; team_id?: string };
/** A channel as it appears in interaction payloads. */
export type PayloadChannel = string | { id: string; name?: string };

/** One clicked element of a block_actions payload. */
export type BlockActionInput = {
  action_id: string;
  block_id?: string;
  value?: string;
  type: 'button';
  text?: string;
};

/** The parts of a block_actions payload a test cares about; the rest of the envelope is filled in. */
export type BlockActionsInput = {
  user: PayloadUser;
  channel: PayloadChannel;
  /** The message holding the button; omit for a button on an ephemeral message. */
  message?: { ts: string; text?: string; blocks?: unknown[]; thread_ts?: string };
  actions: BlockActionInput[];
  response_url?: string;
  trigger_id?: string;
};

/** The parts of a view_submission payload a test cares about. */
export type ViewSubmissionInput = {
  user: PayloadUser;
  view: {
    callback_id: string;
    private_metadata?: string;
    state: { values: Record<string, Record<string, unknown>> };
    id?: string;
    blocks?: unknown[];
    title?: string;
  };
  response_urls?: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
  trigger_id?: string;
};

const VERIFICATION_TOKEN = 'fakeVerificationToken0000';
/** Nothing listens on the discard port, so a forgotten response_url fails fast instead of leaving loopback. */
const UNSET_RESPONSE_URL = 'http://127.0.0.1:9/response-url-not-set';

export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret)
    .update(`v0:${timestampSeconds}:${rawBody}`)
    .digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

/** POSTs a raw body signed as Slack would; the building block for the typed senders below. */
export async function sendSignedRequest(
  endpointUrl: string,
  signingSecret: string,
  rawBody: string,
  contentType: string,
  opts: SlackRequestOptions = {},
): Promise<SlackHttpResult> {
  const signed = signSlackRequest(signingSecret, rawBody, opts.timestamp);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': signed['x-slack-request-timestamp'],
    'x-slack-signature': opts.signature ?? signed['x-slack-signature'],
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(endpointUrl, {
    method: 'POST',
    headers,
    body: rawBody,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const body = await res.text();
  const elapsedMs = performance.now() - started;
  const result: SlackHttpResult = {
    status: res.status,
    body,
    headers: Object.fromEntries(res.headers),
    elapsedMs,
  };
  if ((res.headers.get('content-type') ?? '').includes('json') && body !== '') {
    try {
      result.json = JSON.parse(body);
    } catch {
      // Non-JSON despite the header: callers still have `body`.
    }
  }
  return result;
}

export function sendSlashCommand(
  endpointUrl: string,
  signingSecret: string,
  fields: SlashCommandFields,
  opts: SlackRequestOptions = {},
): Promise<SlackHttpResult> {
  const form = new URLSearchParams([
    ['token', VERIFICATION_TOKEN],
    ['team_id', fields.team_id ?? FAKE_TEAM_ID],
    ['team_domain', fields.team_domain ?? FAKE_TEAM_DOMAIN],
    ['channel_id', fields.channel_id ?? 'C0INCIDENT'],
    ['channel_name', fields.channel_name ?? 'incident'],
    ['user_id', fields.user_id ?? 'U0RESPONDER'],
    ['user_name', fields.user_name ?? 'responder'],
    ['command', fields.command ?? '/scope'],
    ['text', fields.text],
    ['api_app_id', fields.api_app_id ?? FAKE_APP_ID],
    ['is_enterprise_install', 'false'],
    ['response_url', fields.response_url ?? UNSET_RESPONSE_URL],
    ['trigger_id', fields.trigger_id ?? triggerId()],
  ]);
  return sendSignedRequest(
    endpointUrl,
    signingSecret,
    form.toString(),
    'application/x-www-form-urlencoded',
    opts,
  );
}

export function sendBlockActions(
  endpointUrl: string,
  signingSecret: string,
  input: BlockActionsInput,
  opts: SlackRequestOptions = {},
): Promise<SlackHttpResult> {
  const user = payloadUser(input.user);
  const channel = typeof input.channel === 'string' ? { id: input.channel, name: 'incident' } : input.channel;
  const actionTs = slackTs();
  const message = input.message;
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user,
    api_app_id: FAKE_APP_ID,
    token: VERIFICATION_TOKEN,
    container: message
      ? { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: false }
      : { type: 'message', message_ts: slackTs(), channel_id: channel.id, is_ephemeral: true },
    trigger_id: input.trigger_id ?? triggerId(),
    team: { id: FAKE_TEAM_ID, domain: FAKE_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel.id, name: channel.name ?? 'incident' },
    state: { values: {} },
    response_url: input.response_url ?? UNSET_RESPONSE_URL,
    actions: input.actions.map((a, i) => ({
      action_id: a.action_id,
      block_id: a.block_id ?? `b${i}`,
      text: { type: 'plain_text', text: a.text ?? a.action_id, emoji: true },
      ...(a.value !== undefined ? { value: a.value } : {}),
      type: a.type,
      action_ts: actionTs,
    })),
  };
  if (message) {
    payload.message = {
      type: 'message',
      subtype: 'bot_message',
      text: message.text ?? '',
      ts: message.ts,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      bot_id: FAKE_BOT_ID,
      blocks: message.blocks ?? [],
    };
  }
  return sendPayload(endpointUrl, signingSecret, payload, opts);
}

export function sendViewSubmission(
  endpointUrl: string,
  signingSecret: string,
  input: ViewSubmissionInput,
  opts: SlackRequestOptions = {},
): Promise<SlackHttpResult> {
  const viewId = input.view.id ?? `V0${randomBytes(4).toString('hex').toUpperCase()}`;
  const payload = {
    type: 'view_submission',
    team: { id: FAKE_TEAM_ID, domain: FAKE_TEAM_DOMAIN },
    user: payloadUser(input.user),
    api_app_id: FAKE_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? triggerId(),
    view: {
      id: viewId,
      team_id: FAKE_TEAM_ID,
      type: 'modal',
      blocks: input.view.blocks ?? [],
      private_metadata: input.view.private_metadata ?? '',
      callback_id: input.view.callback_id,
      state: input.view.state,
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: input.view.title ?? 'Scope', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: FAKE_APP_ID,
      external_id: '',
      app_installed_team_id: FAKE_TEAM_ID,
      bot_id: FAKE_BOT_ID,
    },
    response_urls: input.response_urls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return sendPayload(endpointUrl, signingSecret, payload, opts);
}

function sendPayload(
  endpointUrl: string,
  signingSecret: string,
  payload: unknown,
  opts: SlackRequestOptions,
): Promise<SlackHttpResult> {
  const form = new URLSearchParams({ payload: JSON.stringify(payload) });
  return sendSignedRequest(
    endpointUrl,
    signingSecret,
    form.toString(),
    'application/x-www-form-urlencoded',
    opts,
  );
}

function payloadUser(user: PayloadUser): { id: string; username: string; name: string; team_id: string } {
  const u = typeof user === 'string' ? { id: user } : user;
  const name = u.username ?? u.name ?? u.id.toLowerCase();
  return { id: u.id, username: name, name: u.name ?? name, team_id: u.team_id ?? FAKE_TEAM_ID };
}

function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
}

function slackTs(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, '0')}`;
}
