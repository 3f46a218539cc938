import type { AuditWitness, ChainHead } from '../../domain/audit-log/chain.ts';

/** The one Web API call this witness makes. */
export type PostMessage = (args: { channel: string; text: string }) => Promise<unknown>;

/**
 * Posts the chain head to an audit channel (outside Redis, timestamped by Slack, visible to people), after
 * approvals and actions and at intervals when the head moved. Plain writes are left to the file witness.
 */
export class SlackWitness implements AuditWitness {
  readonly name: string;
  readonly #post: PostMessage;
  readonly #channel: string;
  #last = '';

  constructor(post: PostMessage, channel: string) {
    this.#post = post;
    this.#channel = channel;
    this.name = `slack channel ${channel}`;
  }

  async record(head: ChainHead, reason: 'write' | 'action' | 'interval'): Promise<void> {
    if (reason === 'write' || head.hash === this.#last) return;
    await this.#post({
      channel: this.#channel,
      text: `scope audit chain head: entry #${head.seq} (${head.id}, ${head.at}) hmac-sha256 ${head.hash}`,
    });
    this.#last = head.hash;
  }
}
