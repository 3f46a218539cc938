import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, LogLevel } from '@slack/bolt';

export const FAKE_TEAM_ID = 'T0SCOPE01';
export const FAKE_TEAM_DOMAIN = 'scope-test';
export const FAKE_APP_ID = 'A0SCOPE01';
export const FAKE_BOT_ID = 'B0SCOPE01';
export const FAKE_BOT_USER_ID = 'U0SCOPEBOT';
export const FAKE_BOT_TOKEN = 'xoxb-0000000000-0000000000000-fakescopetoken';

/** Pseudo-method under which byte uploads to an `upload_url` are recorded and can be failed. */
export const UPLOAD_URL_METHOD = 'upload_url';
/** Pseudo-method under which POSTs to a `response_url` are recorded and can be failed. */
export const RESPONSE_URL_METHOD = 'response_url';

/** Options for the fake; the token is what the bot under test must present. */
export type FakeSlackOptions = { botToken?: string };

/** One HTTP request the fake received, so tests can assert exactly what the bot sent to Slack. */
export type FakeSlackCall = {
  method: string;
  body: Record<string, unknown>;
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** Slack error code when the answer was `ok: false`. */
  error?: string;
};

/** A bot-posted channel message in its current state (after updates), i.e. what a user would see. */
export type FakeSlackMessage = {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  user: string;
  bot_id: string;
  edited?: { user: string; ts: string };
};

/** An ephemeral message (chat.postEphemeral or an ephemeral response_url reply): visible to one user only. */
export type FakeSlackEphemeral = {
  channel: string;
  user: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
};

/** A file shared through the upload flow (getUploadURLExternal, byte POST, completeUploadExternal). */
export type FakeSlackUpload = {
  file_id: string;
  filename: string;
  title: string;
  content: Buffer;
  /** `content` decoded as UTF-8, for text formats such as CSV. */
  text: string;
  channel?: string;
  initial_comment?: string;
  thread_ts?: string;
  snippet_type?: string;
  alt_text?: string;
};

/** A POST to a response_url, as Bolt's `respond()` or a worker sends it. */
export type FakeSlackResponse = {
  id: string;
  body: Record<string, unknown>;
  at: number;
  response_type: 'ephemeral' | 'in_channel';
  replace_original: boolean;
  delete_original: boolean;
};

/** A modal opened with views.open. */
export type FakeSlackView = { id: string; trigger_id: string; view: Record<string, unknown> };

/** Seed for users.info. */
export type FakeSlackUserSeed = {
  id: string;
  name: string;
  real_name?: string;
  is_bot?: boolean;
  deleted?: boolean;
  tz?: string;
  email?: string;
};

/** Seed for conversations.info and for channel-aware posting errors (not_in_channel, is_archived). */
export type FakeSlackChannelSeed = {
  id: string;
  name: string;
  is_private?: boolean;
  is_archived?: boolean;
  /** Whether the bot is a member; `false` makes chat.postMessage fail like the real API. Default true. */
  is_member?: boolean;
};

/** Where a response_url points, so replace_original/delete_original/in_channel can change fake state. */
export type ResponseUrlContext = { channel?: string; user?: string; message_ts?: string };

/** What the next call(s) to a method should fail with. */
export type FakeSlackFailure =
  | { status: 429; retryAfterSeconds: number }
  | { status: 400 | 404 | 410 | 500 | 502 | 503 | 504 }
  | { error: string };

/** A loopback stand-in for slack.com speaking the real wire format, with recording and failure injection. */
export type FakeSlack = {
  /** `http://127.0.0.1:PORT/api/`: pass as WebClient/Bolt `slackApiUrl`. */
  readonly apiUrl: string;
  readonly baseUrl: string;
  readonly botToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly appId: string;
  readonly calls: readonly FakeSlackCall[];
  readonly ephemerals: readonly FakeSlackEphemeral[];
  readonly uploads: readonly FakeSlackUpload[];
  readonly responses: readonly FakeSlackResponse[];
  readonly views: readonly FakeSlackView[];
  messages(channel?: string): FakeSlackMessage[];
  callsTo(method: string): FakeSlackCall[];
  addUser(user: FakeSlackUserSeed): void;
  addUsergroup(id: string, handle: string, userIds: string[]): void;
  addChannel(channel: FakeSlackChannelSeed): void;
  responseUrl(id?: string, context?: ResponseUrlContext): string;
  failNext(method: string, failure: FakeSlackFailure, times?: number): void;
  /**
   * The next call to `method` is carried out (Slack accepted it) but its HTTP reply is withheld until
   * `release()`: the window in which a caller can die after Slack acted but before it learnt the result.
   */
  holdReply(method: string): HeldReply;
  /** Makes apps.connections.open answer the app token with this WebSocket URL (see fake-socket-mode.ts). */
  enableSocketMode(appToken: string, url: () => string): void;
  /** Polls until the predicate (sync or async) yields a value other than undefined/null/false; throws on timeout. */
  waitFor<T>(predicate: () => Pending<T> | Promise<Pending<T>>, timeoutMs?: number): Promise<T>;
  /** Forgets recorded traffic, state and pending failures; seeded users, usergroups and channels stay. */
  reset(): void;
  close(): Promise<void>;
};

/** A withheld reply: `arrived` resolves with the call once Slack (the fake) has carried it out. */
export type HeldReply = { arrived: Promise<FakeSlackCall>; release: () => void };

type Pending<T> = T | undefined | null | false;
type ApiResult = { ok: boolean; [key: string]: unknown };
type Body = Record<string, unknown>;
type PendingUpload = {
  file_id: string;
  filename: string;
  length: number;
  alt_text?: string;
  snippet_type?: string;
  content?: Buffer;
};

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'files', 'metadata', 'unfurls'];
const MAX_TEXT = 40_000;

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const botToken = opts.botToken ?? FAKE_BOT_TOKEN;
  let socketMode: { appToken: string; url: () => string } | undefined;
  const calls: FakeSlackCall[] = [];
  const stored: FakeSlackMessage[] = [];
  const ephemerals: FakeSlackEphemeral[] = [];
  const uploads: FakeSlackUpload[] = [];
  const responses: FakeSlackResponse[] = [];
  const views: FakeSlackView[] = [];
  const pendingUploads = new Map<string, PendingUpload>();
  const failures = new Map<string, Array<{ failure: FakeSlackFailure; remaining: number }>>();
  const holds = new Map<string, Array<{ arrived: (c: FakeSlackCall) => void; released: Promise<void> }>>();
  const responseContexts = new Map<string, ResponseUrlContext>();
  const users = new Map<string, FakeSlackUserSeed>();
  const usergroups = new Map<string, { handle: string; users: string[] }>();
  const channels = new Map<string, FakeSlackChannelSeed>();
  const startMicros = Math.floor(Date.now() / 1000) * 1_000_000;
  let seq = 0;
  let baseUrl = '';

  const nextTs = (): string => {
    seq += 1;
    const micros = startMicros + seq * 100;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };
  const nextId = (prefix: string): string => {
    seq += 1;
    return `${prefix}0FAKE${String(seq).padStart(5, '0')}`;
  };

  const takeFailure = (method: string): FakeSlackFailure | undefined => {
    const queue = failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.failure;
  };

  const answerFailure = (res: ServerResponse, call: FakeSlackCall, failure: FakeSlackFailure): void => {
    if ('error' in failure) {
      call.error = failure.error;
      sendJson(res, 200, { ok: false, error: failure.error });
      return;
    }
    call.status = failure.status;
    if (failure.status === 429) {
      call.error = 'ratelimited';
      sendJson(
        res,
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(failure.retryAfterSeconds) },
      );
      return;
    }
    res.writeHead(failure.status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`fake-slack injected HTTP ${failure.status}`);
  };

  const resolveChannel = (ref: string): FakeSlackChannelSeed | undefined => {
    const byId = channels.get(ref);
    if (byId) return byId;
    const name = ref.replace(/^#/, '');
    for (const c of channels.values()) if (c.name === name) return c;
    return undefined;
  };

  /** Applies the real API's posting rules for seeded channels; unseeded IDs are accepted as-is. */
  const postableChannel = (ref: string | undefined): { id: string } | { error: string } => {
    if (!ref) return { error: 'channel_not_found' };
    const seeded = resolveChannel(ref);
    if (!seeded) return ref.startsWith('#') ? { error: 'channel_not_found' } : { id: ref };
    if (seeded.is_archived) return { error: 'is_archived' };
    if (seeded.is_member === false)
      return { error: seeded.is_private ? 'channel_not_found' : 'not_in_channel' };
    return { id: seeded.id };
  };

  const apiMessage = (m: FakeSlackMessage): Body => ({
    type: 'message',
    subtype: 'bot_message',
    text: m.text,
    user: m.user,
    bot_id: m.bot_id,
    app_id: FAKE_APP_ID,
    team: FAKE_TEAM_ID,
    ts: m.ts,
    blocks: m.blocks,
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts, parent_user_id: m.user } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
    ...(m.metadata !== undefined ? { metadata: m.metadata } : {}),
  });

  /** One page of conversations.history / .replies: newest first, oldest/latest/inclusive, offset cursor; metadata only on request. */
  const historyPage = (messages: FakeSlackMessage[], body: Body): ApiResult => {
    const oldest = Number(str(body.oldest) ?? '0');
    const latest = Number(str(body.latest) ?? 'Infinity');
    const inclusive = bool(body.inclusive);
    const limit = Math.min(Math.max(Number(str(body.limit) ?? '100') || 100, 1), 999);
    const offset = Number(str(body.cursor) ?? '0') || 0;
    const inRange = messages
      .filter((m) => {
        const t = Number(m.ts);
        return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
      })
      .sort((a, b) => Number(b.ts) - Number(a.ts));
    const page = inRange.slice(offset, offset + limit).map((m) => {
      const api = apiMessage(m);
      if (!bool(body.include_all_metadata)) delete api.metadata;
      return api;
    });
    const hasMore = offset + limit < inRange.length;
    return {
      ok: true,
      messages: page,
      has_more: hasMore,
      response_metadata: { next_cursor: hasMore ? String(offset + limit) : '' },
    };
  };

  const userObject = (u: FakeSlackUserSeed): Body => ({
    id: u.id,
    team_id: FAKE_TEAM_ID,
    name: u.name,
    real_name: u.real_name ?? u.name,
    deleted: u.deleted ?? false,
    is_bot: u.is_bot ?? false,
    is_app_user: false,
    tz: u.tz ?? 'Etc/UTC',
    profile: {
      real_name: u.real_name ?? u.name,
      display_name: u.name,
      ...(u.email ? { email: u.email } : {}),
    },
  });

  const handlers: Record<string, (body: Body) => ApiResult> = {
    'auth.test': () => ({
      ok: true,
      url: `https://${FAKE_TEAM_DOMAIN}.slack.com/`,
      team: 'Scope Test',
      user: 'scope',
      team_id: FAKE_TEAM_ID,
      user_id: FAKE_BOT_USER_ID,
      bot_id: FAKE_BOT_ID,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (body) => {
      const target = postableChannel(str(body.channel));
      if ('error' in target) return fail(target.error);
      const content = messageContent(body, 50);
      if ('error' in content) return content.error;
      const message: FakeSlackMessage = {
        channel: target.id,
        ts: nextTs(),
        text: content.text,
        blocks: content.blocks,
        user: FAKE_BOT_USER_ID,
        bot_id: FAKE_BOT_ID,
      };
      const threadTs = str(body.thread_ts);
      if (threadTs) message.thread_ts = threadTs;
      if (content.attachments) message.attachments = content.attachments;
      if (body.metadata !== undefined) message.metadata = body.metadata;
      stored.push(message);
      return { ok: true, channel: message.channel, ts: message.ts, message: apiMessage(message) };
    },

    'chat.update': (body) => {
      const channelRef = str(body.channel);
      const ts = str(body.ts);
      if (!channelRef) return fail('channel_not_found');
      const channelId = resolveChannel(channelRef)?.id ?? channelRef;
      const message = stored.find((m) => m.channel === channelId && m.ts === ts);
      if (!message) return fail('message_not_found');
      const content = messageContent(body, 50);
      if ('error' in content) return content.error;
      if ('text' in body) message.text = str(body.text) ?? '';
      if ('blocks' in body) message.blocks = content.blocks;
      if ('attachments' in body) message.attachments = content.attachments ?? [];
      if ('metadata' in body) message.metadata = body.metadata;
      message.edited = { user: FAKE_BOT_USER_ID, ts: nextTs() };
      return {
        ok: true,
        channel: message.channel,
        ts: message.ts,
        text: message.text,
        message: apiMessage(message),
      };
    },

    'chat.postEphemeral': (body) => {
      const target = postableChannel(str(body.channel));
      if ('error' in target) return fail(target.error);
      const user = str(body.user);
      if (!user) return fail('user_not_in_channel');
      const content = messageContent(body, 50);
      if ('error' in content) return content.error;
      const ephemeral: FakeSlackEphemeral = {
        channel: target.id,
        user,
        ts: nextTs(),
        text: content.text,
        blocks: content.blocks,
      };
      const threadTs = str(body.thread_ts);
      if (threadTs) ephemeral.thread_ts = threadTs;
      ephemerals.push(ephemeral);
      return { ok: true, message_ts: ephemeral.ts };
    },

    'chat.getPermalink': (body) => {
      const channelRef = str(body.channel);
      const ts = str(body.message_ts);
      if (!channelRef) return fail('channel_not_found');
      if (!ts || !/^\d+\.\d+$/.test(ts)) return fail('message_not_found');
      const channelId = resolveChannel(channelRef)?.id ?? channelRef;
      const known = stored.find((m) => m.channel === channelId && m.ts === ts);
      const thread = known?.thread_ts ? `?thread_ts=${known.thread_ts}&cid=${channelId}` : '';
      return {
        ok: true,
        channel: channelId,
        permalink: `https://${FAKE_TEAM_DOMAIN}.slack.com/archives/${channelId}/p${ts.replace('.', '')}${thread}`,
      };
    },

    'views.open': (body) => {
      const triggerId = str(body.trigger_id);
      const view = body.view;
      if (!triggerId || !isRecord(view) || typeof view.type !== 'string') return fail('invalid_arguments');
      const errors = validateBlocks(view.blocks ?? [], 100, '/view/blocks');
      if (errors.length > 0) return invalidBlocks(errors);
      const id = nextId('V');
      views.push({ id, trigger_id: triggerId, view });
      return {
        ok: true,
        view: {
          id,
          team_id: FAKE_TEAM_ID,
          app_id: FAKE_APP_ID,
          bot_id: FAKE_BOT_ID,
          private_metadata: '',
          callback_id: '',
          external_id: '',
          ...view,
          state: { values: {} },
          hash: `${Date.now()}.${id}`,
          root_view_id: id,
          previous_view_id: null,
        },
      };
    },

    'conversations.history': (body) => {
      const channelRef = str(body.channel);
      if (!channelRef) return fail('channel_not_found');
      const channelId = resolveChannel(channelRef)?.id ?? channelRef;
      return historyPage(
        stored.filter((m) => m.channel === channelId && (!m.thread_ts || m.thread_ts === m.ts)),
        body,
      );
    },

    'conversations.replies': (body) => {
      const channelRef = str(body.channel);
      const ts = str(body.ts);
      if (!channelRef || !ts) return fail('invalid_arguments');
      const channelId = resolveChannel(channelRef)?.id ?? channelRef;
      return historyPage(
        stored.filter((m) => m.channel === channelId && (m.ts === ts || m.thread_ts === ts)),
        body,
      );
    },

    'users.info': (body) => {
      const user = users.get(str(body.user) ?? '');
      return user ? { ok: true, user: userObject(user) } : fail('user_not_found');
    },

    'usergroups.users.list': (body) => {
      const group = usergroups.get(str(body.usergroup) ?? '');
      return group ? { ok: true, users: [...group.users] } : fail('no_such_subteam');
    },

    'conversations.info': (body) => {
      const c = channels.get(str(body.channel) ?? '');
      if (!c) return fail('channel_not_found');
      return {
        ok: true,
        channel: {
          id: c.id,
          name: c.name,
          is_channel: !c.is_private,
          is_group: false,
          is_im: false,
          is_private: c.is_private ?? false,
          is_archived: c.is_archived ?? false,
          is_member: c.is_member ?? true,
          context_team_id: FAKE_TEAM_ID,
          created: Math.floor(startMicros / 1_000_000),
        },
      };
    },

    'files.getUploadURLExternal': (body) => {
      const filename = str(body.filename);
      const length = Number(str(body.length));
      if (!filename || !Number.isInteger(length) || length < 0) return fail('invalid_arguments');
      const fileId = nextId('F');
      const pending: PendingUpload = { file_id: fileId, filename, length };
      const altText = str(body.alt_text);
      const snippetType = str(body.snippet_type);
      if (altText) pending.alt_text = altText;
      if (snippetType) pending.snippet_type = snippetType;
      pendingUploads.set(fileId, pending);
      return { ok: true, upload_url: `${baseUrl}/upload/${fileId}`, file_id: fileId };
    },

    'files.completeUploadExternal': (body) => {
      const files = body.files;
      if (!Array.isArray(files) || files.length === 0) return fail('invalid_arguments');
      const ready: Array<{ pending: PendingUpload & { content: Buffer }; title: string }> = [];
      for (const f of files) {
        const id = isRecord(f) ? str(f.id) : undefined;
        const pending = id ? pendingUploads.get(id) : undefined;
        if (!isRecord(f) || !pending?.content) return fail('file_not_found');
        ready.push({
          pending: { ...pending, content: pending.content },
          title: str(f.title) ?? pending.filename,
        });
      }
      const channelRef = str(body.channel_id) ?? str(body.channels)?.split(',')[0];
      let channel: string | undefined;
      if (channelRef) {
        const target = postableChannel(channelRef);
        if ('error' in target) return fail(target.error);
        channel = target.id;
      }
      const initialComment = str(body.initial_comment);
      const threadTs = str(body.thread_ts);
      const done = ready.map(({ pending, title }) => {
        const upload: FakeSlackUpload = {
          file_id: pending.file_id,
          filename: pending.filename,
          title,
          content: pending.content,
          text: pending.content.toString('utf8'),
        };
        if (channel) upload.channel = channel;
        if (initialComment) upload.initial_comment = initialComment;
        if (threadTs) upload.thread_ts = threadTs;
        if (pending.snippet_type) upload.snippet_type = pending.snippet_type;
        if (pending.alt_text) upload.alt_text = pending.alt_text;
        pendingUploads.delete(pending.file_id);
        uploads.push(upload);
        return upload;
      });
      return {
        ok: true,
        files: done.map((u) => ({
          id: u.file_id,
          name: u.filename,
          title: u.title,
          size: u.content.length,
          user: FAKE_BOT_USER_ID,
          created: Math.floor(Date.now() / 1000),
          permalink: `https://${FAKE_TEAM_DOMAIN}.slack.com/files/${FAKE_BOT_USER_ID}/${u.file_id}/${u.filename}`,
        })),
      };
    },
  };

  const handleApi = (
    method: string,
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
    query: URLSearchParams,
  ): void => {
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    const isJson = contentType.startsWith('application/json');
    let body: Body = Object.fromEntries(query);
    let malformed = false;
    try {
      body = { ...body, ...parseApiBody(contentType, raw) };
    } catch {
      malformed = true;
    }
    const call: FakeSlackCall = { method, body, at: Date.now(), status: 200 };
    calls.push(call);
    const failure = takeFailure(method);
    if (failure) {
      answerFailure(res, call, failure);
      return;
    }
    const result = malformed
      ? fail(isJson ? 'invalid_json' : 'invalid_form_data')
      : dispatch(method, req, body, isJson);
    if (!result.ok) call.error = String(result.error);
    const hold = holds.get(method)?.shift();
    if (hold) {
      hold.arrived(call);
      void hold.released.then(() => {
        if (!res.destroyed) sendJson(res, 200, result);
      });
      return;
    }
    sendJson(res, 200, result);
  };

  const dispatch = (method: string, req: IncomingMessage, body: Body, isJson: boolean): ApiResult => {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    // JSON bodies must carry the token in the Authorization header, as on the real API.
    const token = bearer ?? (isJson ? undefined : str(body.token));
    if (!token) return fail('not_authed');
    // Socket Mode: apps.connections.open is the one method called with the app-level token (xapp-).
    if (method === 'apps.connections.open') {
      if (!socketMode || token !== socketMode.appToken)
        return fail(token === botToken ? 'not_allowed_token_type' : 'invalid_auth');
      return { ok: true, url: socketMode.url() };
    }
    if (token !== botToken) return fail('invalid_auth');
    const handler = handlers[method];
    if (!handler) return { ok: false, error: 'unknown_method', req_method: method };
    return handler(body);
  };

  const handleUpload = async (
    fileId: string,
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
  ): Promise<void> => {
    const call: FakeSlackCall = {
      method: UPLOAD_URL_METHOD,
      body: { file_id: fileId },
      at: Date.now(),
      status: 200,
    };
    calls.push(call);
    const failure = takeFailure(UPLOAD_URL_METHOD);
    if (failure) {
      answerFailure(res, call, failure);
      return;
    }
    const pending = pendingUploads.get(fileId);
    if (!pending) {
      call.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    pending.content = await uploadedBytes(req.headers['content-type'] ?? '', raw);
    call.body.bytes = pending.content.length;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`OK - ${pending.content.length}`);
  };

  const handleResponseUrl = (id: string, res: ServerResponse, raw: Buffer): void => {
    let body: Body = {};
    let malformed = false;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (isRecord(parsed)) body = parsed;
      else malformed = true;
    } catch {
      malformed = true;
    }
    const call: FakeSlackCall = {
      method: RESPONSE_URL_METHOD,
      body: { id, ...body },
      at: Date.now(),
      status: 200,
    };
    calls.push(call);
    const failure = takeFailure(RESPONSE_URL_METHOD);
    if (failure) {
      answerFailure(res, call, failure);
      return;
    }
    if (malformed) {
      call.status = 400;
      call.error = 'invalid_payload';
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    const response: FakeSlackResponse = {
      id,
      body,
      at: call.at,
      response_type: body.response_type === 'in_channel' ? 'in_channel' : 'ephemeral',
      replace_original: bool(body.replace_original),
      delete_original: bool(body.delete_original),
    };
    responses.push(response);
    applyResponse(response);
    sendJson(res, 200, { ok: true });
  };

  const applyResponse = (response: FakeSlackResponse): void => {
    const ctx = responseContexts.get(response.id);
    if (!ctx) return;
    const original = ctx.message_ts
      ? stored.find((m) => m.ts === ctx.message_ts && (!ctx.channel || m.channel === ctx.channel))
      : undefined;
    const text = str(response.body.text) ?? '';
    const blocks = Array.isArray(response.body.blocks) ? response.body.blocks : [];
    if (response.delete_original) {
      if (original) stored.splice(stored.indexOf(original), 1);
      return;
    }
    if (response.replace_original) {
      if (original) {
        original.text = text;
        original.blocks = blocks;
        original.edited = { user: FAKE_BOT_USER_ID, ts: nextTs() };
      }
      return;
    }
    if (!ctx.channel) return;
    const threadTs = str(response.body.thread_ts);
    if (response.response_type === 'in_channel') {
      const message: FakeSlackMessage = {
        channel: ctx.channel,
        ts: nextTs(),
        text,
        blocks,
        user: FAKE_BOT_USER_ID,
        bot_id: FAKE_BOT_ID,
      };
      if (threadTs) message.thread_ts = threadTs;
      stored.push(message);
    } else if (ctx.user) {
      const ephemeral: FakeSlackEphemeral = {
        channel: ctx.channel,
        user: ctx.user,
        ts: nextTs(),
        text,
        blocks,
      };
      if (threadTs) ephemeral.thread_ts = threadTs;
      ephemerals.push(ephemeral);
    }
  };

  const server = createServer((req, res) => {
    readAll(req)
      .then(async (raw) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const [, kind, rest] = /^\/([a-z]+)\/(.+)$/.exec(url.pathname) ?? [];
        const name = decodeURIComponent(rest ?? '');
        if (kind === 'api' && (req.method === 'POST' || req.method === 'GET')) {
          return handleApi(name, req, res, raw, url.searchParams);
        }
        if (kind === 'upload' && req.method === 'POST') return handleUpload(name, req, res, raw);
        if (kind === 'response' && req.method === 'POST') return handleResponseUrl(name, res, raw);
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found');
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-slack internal error: ${err instanceof Error ? err.stack : String(err)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const describeCalls = (): string => {
    if (calls.length === 0) return '  (none)';
    const t0 = calls[0]?.at ?? 0;
    return calls
      .map((c) => {
        const outcome = c.status !== 200 ? `HTTP ${c.status}` : c.error ? `error ${c.error}` : 'ok';
        const { token: _token, ...rest } = c.body;
        return `  +${c.at - t0}ms ${c.method} -> ${outcome} ${truncate(JSON.stringify(rest), 300)}`;
      })
      .join('\n');
  };

  return {
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    botToken,
    botUserId: FAKE_BOT_USER_ID,
    botId: FAKE_BOT_ID,
    teamId: FAKE_TEAM_ID,
    appId: FAKE_APP_ID,
    calls,
    ephemerals,
    uploads,
    responses,
    views,
    messages: (channel) =>
      stored.filter((m) => channel === undefined || m.channel === channel).map((m) => ({ ...m })),
    callsTo: (method) => calls.filter((c) => c.method === method),
    addUser: (user) => {
      users.set(user.id, { ...user });
    },
    addUsergroup: (id, handle, userIds) => {
      usergroups.set(id, { handle, users: [...userIds] });
    },
    addChannel: (channel) => {
      channels.set(channel.id, { ...channel });
    },
    responseUrl: (id, context) => {
      const key = id ?? nextId('R');
      if (context) responseContexts.set(key, { ...context });
      return `${baseUrl}/response/${encodeURIComponent(key)}`;
    },
    failNext: (method, failure, times = 1) => {
      const queue = failures.get(method) ?? [];
      queue.push({ failure, remaining: times });
      failures.set(method, queue);
    },
    holdReply: (method) => {
      let arrived: (c: FakeSlackCall) => void = () => {};
      let release: () => void = () => {};
      const arrivedP = new Promise<FakeSlackCall>((r) => {
        arrived = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      const queue = holds.get(method) ?? [];
      queue.push({ arrived, released });
      holds.set(method, queue);
      return { arrived: arrivedP, release };
    },
    enableSocketMode: (appToken, url) => {
      socketMode = { appToken, url };
    },
    waitFor: async <T>(predicate: () => Pending<T> | Promise<Pending<T>>, timeoutMs = 5000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      for (;;) {
        try {
          const value = await predicate();
          if (value !== undefined && value !== null && value !== false) return value;
        } catch (err) {
          lastError = err;
        }
        if (Date.now() >= deadline) {
          const why = lastError instanceof Error ? ` (last predicate error: ${lastError.message})` : '';
          throw new Error(
            `fake-slack: condition not met within ${timeoutMs}ms${why}\n` +
              `recorded calls:\n${describeCalls()}\n` +
              `messages: ${stored.length}, ephemerals: ${ephemerals.length}, responses: ${responses.length}, uploads: ${uploads.length}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset: () => {
      calls.length = 0;
      stored.length = 0;
      ephemerals.length = 0;
      uploads.length = 0;
      responses.length = 0;
      views.length = 0;
      pendingUploads.clear();
      failures.clear();
      holds.clear();
      responseContexts.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A Bolt/WebClient logger that drops everything, to keep test output clean. */
export function silentLogger(): Logger {
  let level = LogLevel.ERROR;
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function fail(error: string): ApiResult {
  return { ok: false, error };
}

function invalidBlocks(errors: string[]): ApiResult {
  return {
    ok: false,
    error: 'invalid_blocks',
    errors,
    response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
  };
}

function messageContent(
  body: Body,
  maxBlocks: number,
): { text: string; blocks: unknown[]; attachments?: unknown[] } | { error: ApiResult } {
  const text = str(body.text) ?? '';
  if (text.length > MAX_TEXT) return { error: fail('msg_too_long') };
  if (body.blocks !== undefined && !Array.isArray(body.blocks))
    return { error: fail('invalid_blocks_format') };
  if (body.attachments !== undefined && !Array.isArray(body.attachments)) {
    return { error: fail('invalid_attachments') };
  }
  const blocks = (body.blocks as unknown[] | undefined) ?? [];
  const attachments = body.attachments as unknown[] | undefined;
  const errors = validateBlocks(blocks, maxBlocks, '/blocks');
  if (errors.length > 0) return { error: invalidBlocks(errors) };
  if (!text && blocks.length === 0 && !attachments?.length) return { error: fail('no_text') };
  return attachments ? { text, blocks, attachments } : { text, blocks };
}

/** Checks the documented Block Kit limits the bot is most likely to hit; unknown block types pass. */
function validateBlocks(blocks: unknown, maxBlocks: number, pointer: string): string[] {
  if (!Array.isArray(blocks)) return [`must provide an array [json-pointer:${pointer}]`];
  const errors: string[] = [];
  if (blocks.length > maxBlocks)
    errors.push(`no more than ${maxBlocks} items allowed [json-pointer:${pointer}]`);
  const tooLong = (value: unknown, max: number, at: string): void => {
    if (typeof value === 'string' && value.length > max) {
      errors.push(`must be less than ${max + 1} characters [json-pointer:${at}]`);
    }
  };
  const textObject = (value: unknown, max: number, at: string, plainOnly = false): void => {
    if (!isRecord(value)) {
      errors.push(`must provide an object [json-pointer:${at}]`);
      return;
    }
    const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
      errors.push(`must be a valid enum value [json-pointer:${at}/type]`);
    }
    if (typeof value.text !== 'string') errors.push(`must provide a string [json-pointer:${at}/text]`);
    tooLong(value.text, max, `${at}/text`);
  };
  blocks.forEach((block, i) => {
    const at = `${pointer}/${i}`;
    if (!isRecord(block) || typeof block.type !== 'string') {
      errors.push(`missing required field: type [json-pointer:${at}]`);
      return;
    }
    tooLong(block.block_id, 255, `${at}/block_id`);
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined) {
          errors.push(`must provide text or fields [json-pointer:${at}]`);
        }
        if (block.text !== undefined) textObject(block.text, 3000, `${at}/text`);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > 10) {
            errors.push(`no more than 10 items allowed [json-pointer:${at}/fields]`);
          } else {
            block.fields.forEach((f, j) => {
              textObject(f, 2000, `${at}/fields/${j}`);
            });
          }
        }
        break;
      case 'header':
        textObject(block.text, 150, `${at}/text`, true);
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length > 10) {
          errors.push(`no more than 10 items allowed [json-pointer:${at}/elements]`);
        }
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length > 25) {
          errors.push(`no more than 25 items allowed [json-pointer:${at}/elements]`);
        } else {
          block.elements.forEach((el, j) => {
            if (!isRecord(el) || el.type !== 'button') return;
            const elAt = `${at}/elements/${j}`;
            textObject(el.text, 75, `${elAt}/text`, true);
            tooLong(el.value, 2000, `${elAt}/value`);
            tooLong(el.action_id, 255, `${elAt}/action_id`);
            tooLong(el.url, 3000, `${elAt}/url`);
          });
        }
        break;
      case 'markdown':
        tooLong(block.text, 12_000, `${at}/text`);
        break;
      default:
        break;
    }
  });
  return errors;
}

function parseApiBody(contentType: string, raw: Buffer): Body {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(text);
    if (!isRecord(parsed)) throw new Error('JSON body is not an object');
    return parsed;
  }
  const body: Body = Object.fromEntries(new URLSearchParams(text));
  for (const field of JSON_FIELDS) {
    const value = body[field];
    if (typeof value !== 'string') continue;
    try {
      body[field] = JSON.parse(value);
    } catch {
      // Left as a string: the method handler reports the format error the way Slack does.
    }
  }
  return body;
}

async function uploadedBytes(contentType: string, raw: Buffer): Promise<Buffer> {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return raw;
  const form = await new Response(new Uint8Array(raw), {
    headers: { 'content-type': contentType },
  }).formData();
  for (const [, value] of form) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  const first = form.values().next();
  return Buffer.from(typeof first.value === 'string' ? first.value : '');
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const data = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(data)),
    ...headers,
  });
  res.end(data);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1';
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The `slack` configuration section for a bot in HTTP mode on a loopback port, talking to this fake. */
export function slackSettingsFor(slack: FakeSlack, signingSecret: string) {
  return {
    mode: 'http' as const,
    botToken: slack.botToken,
    signingSecret,
    apiUrl: slack.apiUrl,
    port: 0,
    host: '127.0.0.1',
    // The fake's response_url is on loopback: allowed only through this explicit test/demo setting.
    allowLoopback: true,
  };
}
