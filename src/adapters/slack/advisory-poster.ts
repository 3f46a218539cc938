import type { WebClient } from '@slack/web-api';
import type { AdvisoryPoster } from '../../domain/advisories/ports.ts';
import type { Message } from '../../render/message.ts';
import { toSlack } from '../../render/slack-blocks.ts';

const EVENT_TYPE = 'scope_advisory';

/** Advisory notifications through the Slack Web API; each post carries its key in message metadata. */
export class SlackAdvisoryPoster implements AdvisoryPoster {
  readonly #client: WebClient;

  constructor(client: WebClient) {
    this.#client = client;
  }

  async post(channel: string, message: Message, key: string): Promise<{ ts: string }> {
    const r = toSlack(message);
    const res = await this.#client.chat.postMessage({
      channel,
      text: r.text,
      blocks: r.blocks,
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: EVENT_TYPE, event_payload: { key } },
    });
    return { ts: res.ts as string };
  }

  async update(channel: string, ts: string, message: Message): Promise<void> {
    const r = toSlack(message);
    await this.#client.chat.update({ channel, ts, text: r.text, blocks: r.blocks });
  }

  async reply(channel: string, threadTs: string, message: Message): Promise<void> {
    const r = toSlack(message);
    await this.#client.chat.postMessage({
      channel,
      thread_ts: threadTs,
      text: r.text,
      blocks: r.blocks,
      unfurl_links: false,
    });
  }

  /** Looks through recent channel history for our metadata key (needs a history scope; otherwise undefined). */
  async findPosted(channel: string, key: string): Promise<string | undefined> {
    try {
      const res = await this.#client.conversations.history({
        channel,
        limit: 200,
        include_all_metadata: true,
      });
      for (const m of res.messages ?? []) {
        const meta = (m as { metadata?: { event_type?: string; event_payload?: { key?: unknown } } })
          .metadata;
        if (meta?.event_type === EVENT_TYPE && meta.event_payload?.key === key && m.ts) return m.ts;
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
}
