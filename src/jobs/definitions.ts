import type { Command } from '../domain/command.ts';

/** BullMQ queue for user commands (slash commands, CLI via queue, button actions). */
export const COMMAND_QUEUE = 'scope-commands';

/** Who asked; copied into the audit trail and shown on results. */
export type Requester = { userId: string; userName?: string; teamId?: string };

/** Where a result goes: the channel it was asked in, with the response_url as a fallback when the bot is not a member. */
export type ReplyTarget = {
  channelId: string;
  responseUrl?: string;
  threadTs?: string;
  /** Show the answer only to this user (chat.postEphemeral), e.g. `/scope log`. */
  ephemeralTo?: string;
};

/** The payload of every command job; JSON-serialisable because it lives in Redis. */
export type CommandJobData = {
  command: Command;
  commandText: string;
  requester: Requester;
  reply: ReplyTarget;
  correlationId: string;
  requestedAt: string;
};

/** BullMQ custom job ids may not contain ':'; these are short, stable and safe. */
export function commandJobId(correlationId: string): string {
  return `cmd-${correlationId}`;
}
