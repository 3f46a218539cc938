import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  DEFAULT_RESPONSE_URL_HOSTS,
  responseUrlProblem,
  type SlackUrlPolicy,
} from '../../domain/slack/urls.ts';
import { ScopeError } from '../../errors.ts';
import type { ReplyTarget } from '../../jobs/definitions.ts';
import type { Logger } from '../../log.ts';
import type { Message } from '../../render/message.ts';
import { toSlack } from '../../render/slack-blocks.ts';

/** Where results are delivered; the worker only sees this port, so the CLI and tests can supply their own. */
export type Notifier = {
  /** Posts or, when this key was posted before (a retried or restarted job), updates the same message. */
  deliver(target: ReplyTarget, message: Message, key: string): Promise<{ channel: string; ts?: string }>;
};

const FALLBACK_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action']);
const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;
/** Slack message metadata type on every result, carrying the job id, so a retry can find an earlier post. */
export const RESULT_EVENT_TYPE = 'scope_result';
/** Clock skew tolerated between this host and Slack when looking for an earlier post. */
const LOOKUP_SKEW_SECONDS = 300;
const LOOKUP_MAX_PAGES = 5;

const TS = /^\d{1,12}\.\d{1,8}$/;
/**
 * The delivery record of one job in Redis, written before and after chat.postMessage:
 * `posting` = an attempt may have reached Slack (look before posting again); `posted` = the message and its ts;
 * `responded` = answered through the response_url (no ts; never posted twice).
 */
const deliveryRecord = z.discriminatedUnion('state', [
  z.object({ state: z.literal('posting'), channel: z.string(), since: z.string().regex(TS) }).strict(),
  z
    .object({
      state: z.literal('posted'),
      channel: z.string(),
      ts: z.string().regex(TS),
      files: z.boolean().default(false),
    })
    .strict(),
  z.object({ state: z.literal('responded'), channel: z.string() }).strict(),
]);
type DeliveryRecord = z.infer<typeof deliveryRecord>;

/**
 * Delivers into the incident channel through the Web API, exactly once per key: a retry updates the message
 * it posted before, and after a crash between Slack accepting a post and the ts being recorded, it finds that
 * post by its metadata (conversations.history) instead of posting again. Falls back to the command's
 * response_url when the bot cannot post in the channel.
 */
export class SlackNotifier implements Notifier {
  readonly #client: WebClient;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #urls: SlackUrlPolicy;

  constructor(client: WebClient, redis: Redis, prefix: string, log: Logger, urls?: SlackUrlPolicy) {
    this.#client = client;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#log = log;
    this.#urls = urls ?? { responseUrlHosts: DEFAULT_RESPONSE_URL_HOSTS, allowLoopback: false };
  }

  async deliver(
    target: ReplyTarget,
    message: Message,
    key: string,
  ): Promise<{ channel: string; ts?: string }> {
    const rendered = toSlack(message);
    if (target.ephemeralTo) return this.#deliverEphemeral(target, target.ephemeralTo, rendered);
    const deliveryKey = `${this.#prefix}:delivered:${key}`;
    let record = await this.#read(deliveryKey, target.channelId);
    if (record?.state === 'posting') {
      const ts = await this.#findEarlierPost(target, record.since, key);
      if (ts) {
        record = { state: 'posted', channel: target.channelId, ts, files: false };
        await this.#write(deliveryKey, record);
      }
    }
    if (record?.state === 'posted') {
      await this.#client.chat.update({
        channel: record.channel,
        ts: record.ts,
        text: rendered.text,
        blocks: rendered.blocks,
      });
      if (!record.files) await this.#finishAttachments(deliveryKey, record, message);
      return { channel: record.channel, ts: record.ts };
    }
    if (record?.state === 'responded') {
      this.#log.info({ key }, 'already answered through the response_url; not posting again');
      return { channel: record.channel };
    }
    // Written before the post: if this process dies after Slack accepted it, the retry knows to look first.
    const since = record?.state === 'posting' ? record.since : slackTsNow();
    await this.#write(deliveryKey, { state: 'posting', channel: target.channelId, since });
    try {
      const res = await this.#client.chat.postMessage({
        channel: target.channelId,
        text: rendered.text,
        blocks: rendered.blocks,
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: RESULT_EVENT_TYPE, event_payload: { job_id: key } },
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      });
      const ts = String(res.ts ?? '');
      const channel = (res.channel as string | undefined) ?? target.channelId;
      const posted: DeliveryRecord = { state: 'posted', channel, ts, files: false };
      await this.#write(deliveryKey, posted);
      await this.#finishAttachments(deliveryKey, posted, message);
      return { channel, ts };
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      // Slack answered and refused the post: nothing was posted, so a retry need not look for it.
      if (code && record?.state !== 'posting') await this.#redis.del(deliveryKey);
      if (code && FALLBACK_ERRORS.has(code) && target.responseUrl) {
        this.#log.warn(
          { channel: target.channelId, error: code },
          'cannot post in channel; answering via response_url',
        );
        await postToResponseUrl(target.responseUrl, { response_type: 'in_channel', ...rendered }, this.#urls);
        await this.#write(deliveryKey, { state: 'responded', channel: target.channelId });
        return { channel: target.channelId };
      }
      throw err;
    }
  }

  /** Only the requester sees it; nothing to update later, so no delivery key. */
  async #deliverEphemeral(
    target: ReplyTarget,
    userId: string,
    rendered: ReturnType<typeof toSlack>,
  ): Promise<{ channel: string }> {
    try {
      await this.#client.chat.postEphemeral({
        channel: target.channelId,
        user: userId,
        text: rendered.text,
        blocks: rendered.blocks,
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (!(code && FALLBACK_ERRORS.has(code) && target.responseUrl)) throw err;
      await postToResponseUrl(target.responseUrl, { response_type: 'ephemeral', ...rendered }, this.#urls);
    }
    return { channel: target.channelId };
  }

  /** Reads and validates the delivery record (Redis is not trusted: a bad record is reported and ignored). */
  async #read(deliveryKey: string, channel: string): Promise<DeliveryRecord | undefined> {
    const raw = await this.#redis.get(deliveryKey);
    if (raw === null) return undefined;
    let parsed: DeliveryRecord | undefined;
    try {
      const r = deliveryRecord.safeParse(JSON.parse(raw));
      parsed = r.success ? r.data : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.channel !== channel) {
      this.#log.error(
        { deliveryKey },
        'unreadable delivery record (malformed, or for another channel); checking Slack for an earlier post',
      );
      // Unknown state: look for an earlier post over the whole lookback before posting.
      return { state: 'posting', channel, since: slackTsNow(-DELIVERY_TTL_SECONDS + LOOKUP_SKEW_SECONDS) };
    }
    return parsed;
  }

  async #write(deliveryKey: string, record: DeliveryRecord): Promise<void> {
    await this.#redis.set(deliveryKey, JSON.stringify(record), 'EX', DELIVERY_TTL_SECONDS);
  }

  /** Looks for a message this job posted before (by its metadata) since an uncertain attempt started. */
  async #findEarlierPost(target: ReplyTarget, since: string, key: string): Promise<string | undefined> {
    const oldest = String(Math.max(0, Math.floor(Number(since)) - LOOKUP_SKEW_SECONDS));
    let cursor: string | undefined;
    try {
      for (let page = 0; page < LOOKUP_MAX_PAGES; page++) {
        const args = {
          channel: target.channelId,
          oldest,
          inclusive: true,
          limit: 200,
          include_all_metadata: true,
          ...(cursor ? { cursor } : {}),
        };
        const res = target.threadTs
          ? await this.#client.conversations.replies({ ...args, ts: target.threadTs })
          : await this.#client.conversations.history(args);
        for (const m of res.messages ?? []) {
          const meta = (m as { metadata?: { event_type?: string; event_payload?: { job_id?: unknown } } })
            .metadata;
          if (meta?.event_type === RESULT_EVENT_TYPE && meta.event_payload?.job_id === key && m.ts) {
            this.#log.warn({ key, ts: m.ts }, 'found the post of an earlier attempt; updating it instead');
            return m.ts;
          }
        }
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!res.has_more || !cursor) return undefined;
      }
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      this.#log.error(
        { key, error: code ?? String(err) },
        'cannot check whether an earlier attempt already posted (history scope missing?); posting, a duplicate is possible',
      );
    }
    return undefined;
  }

  async #finishAttachments(deliveryKey: string, record: DeliveryRecord, message: Message): Promise<void> {
    if (record.state !== 'posted') return;
    for (const a of message.attachments ?? []) {
      await this.#client.filesUploadV2({
        channel_id: record.channel,
        thread_ts: record.ts,
        filename: a.filename,
        title: a.title,
        content: a.content,
      });
    }
    if (message.attachments?.length) await this.#write(deliveryKey, { ...record, files: true });
  }
}

/** Slack-style timestamp ("seconds.micros") of now, optionally shifted by some seconds. */
function slackTsNow(shiftSeconds = 0): string {
  return (Date.now() / 1000 + shiftSeconds).toFixed(6);
}

/**
 * Posts to a Slack response_url (valid for 30 minutes, 5 uses). The URL is checked against the allow-list here
 * as well as where it entered, and redirects are never followed.
 */
export async function postToResponseUrl(
  url: string,
  body: Record<string, unknown>,
  policy: SlackUrlPolicy,
): Promise<void> {
  const problem = responseUrlProblem(url, policy);
  if (problem) throw new ScopeError('NOT_ALLOWED', `response_url refused: ${problem}`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status >= 300 && res.status < 400)
    throw new ScopeError(
      'UPSTREAM_UNAVAILABLE',
      `response_url answered a redirect (HTTP ${res.status}); not followed`,
    );
  if (!res.ok) throw new ScopeError('UPSTREAM_UNAVAILABLE', `response_url answered HTTP ${res.status}`);
}
