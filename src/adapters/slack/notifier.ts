import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
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

/** Delivers into the incident channel through the Web API; falls back to the command's response_url. */
export class SlackNotifier implements Notifier {
  readonly #client: WebClient;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;

  constructor(client: WebClient, redis: Redis, prefix: string, log: Logger) {
    this.#client = client;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#log = log;
  }

  async deliver(
    target: ReplyTarget,
    message: Message,
    key: string,
  ): Promise<{ channel: string; ts?: string }> {
    const rendered = toSlack(message);
    if (target.ephemeralTo) return this.#deliverEphemeral(target, target.ephemeralTo, rendered);
    const deliveryKey = `${this.#prefix}:delivered:${key}`;
    const previous = await this.#redis.get(deliveryKey);
    if (previous) {
      const { channel, ts } = JSON.parse(previous) as { channel: string; ts: string };
      await this.#client.chat.update({ channel, ts, text: rendered.text, blocks: rendered.blocks });
      return { channel, ts };
    }
    try {
      const res = await this.#client.chat.postMessage({
        channel: target.channelId,
        text: rendered.text,
        blocks: rendered.blocks,
        unfurl_links: false,
        unfurl_media: false,
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      });
      const ts = res.ts as string;
      const channel = (res.channel as string | undefined) ?? target.channelId;
      await this.#redis.set(deliveryKey, JSON.stringify({ channel, ts }), 'EX', DELIVERY_TTL_SECONDS);
      await this.#uploadAttachments(channel, ts, message);
      return { channel, ts };
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code && FALLBACK_ERRORS.has(code) && target.responseUrl) {
        this.#log.warn(
          { channel: target.channelId, error: code },
          'cannot post in channel; answering via response_url',
        );
        await postToResponseUrl(target.responseUrl, { response_type: 'in_channel', ...rendered });
        await this.#redis.set(deliveryKey, JSON.stringify({ channel: target.channelId, ts: '' }), 'EX', 60);
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
      await postToResponseUrl(target.responseUrl, { response_type: 'ephemeral', ...rendered });
    }
    return { channel: target.channelId };
  }

  async #uploadAttachments(channel: string, ts: string, message: Message): Promise<void> {
    for (const a of message.attachments ?? []) {
      await this.#client.filesUploadV2({
        channel_id: channel,
        thread_ts: ts,
        filename: a.filename,
        title: a.title,
        content: a.content,
      });
    }
  }
}

/** Posts to a Slack response_url (valid for 30 minutes, 5 uses). */
export async function postToResponseUrl(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new ScopeError('UPSTREAM_UNAVAILABLE', `response_url answered HTTP ${res.status}`);
}
