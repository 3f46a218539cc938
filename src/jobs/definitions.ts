import { z } from 'zod';
import { COMMANDS, type Command, parseCommand } from '../domain/command.ts';
import { responseUrlProblem, type SlackUrlPolicy } from '../domain/slack/urls.ts';

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

const USER_ID = /^[UW][A-Z0-9]{2,30}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;

/** The shape of a command job as it must be read back from Redis: anyone who can write there can forge one. */
const commandJobSchema = z
  .object({
    command: z.looseObject({
      name: z.string().refine((n) => COMMANDS.some((c) => c.name === n), 'not a scope command'),
    }),
    commandText: z.string().min(1).max(4000),
    requester: z
      .object({
        userId: z.string().regex(USER_ID),
        userName: z.string().max(200).optional(),
        teamId: z.string().max(40).optional(),
      })
      .strict(),
    reply: z
      .object({
        channelId: z.string().regex(CHANNEL_ID),
        responseUrl: z.string().max(2000).optional(),
        threadTs: z
          .string()
          .regex(/^\d{1,12}\.\d{1,8}$/)
          .optional(),
        ephemeralTo: z
          .string()
          .regex(/^[UW][A-Z0-9]{2,}$/)
          .optional(),
      })
      .strict(),
    correlationId: z.string().regex(/^[0-9a-f]{16}$/),
    requestedAt: z.iso.datetime(),
  })
  .strict();

/** What a worker may rely on after checking a job: the command re-parsed from its text by the domain grammar. */
export type CheckedCommandJob = { data: CommandJobData; command: Command };

/** Why a job was refused, safe to log and audit (names fields, never echoes their values). */
export type JobRefusal = { reason: string };

/**
 * Validates a command job read from the queue: the shape, the reply target against the channel allow-list and
 * the response_url policy, and the command itself, which is re-parsed from its text (the object stored next to
 * it is not trusted).
 */
export function checkCommandJob(
  raw: unknown,
  jobId: string | undefined,
  rules: { allowedChannels: readonly string[]; urls: SlackUrlPolicy },
): CheckedCommandJob | JobRefusal {
  const r = commandJobSchema.safeParse(raw);
  if (!r.success) {
    const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
    return { reason: `malformed job data (${fields.join(', ')})` };
  }
  const data = r.data as CommandJobData;
  if (jobId !== undefined && jobId !== commandJobId(data.correlationId))
    return { reason: 'job id does not match its correlation id' };
  const { allowedChannels } = rules;
  if (!allowedChannels.includes('*') && !allowedChannels.includes(data.reply.channelId))
    return { reason: 'reply channel is not on the allow-list (access.allowedChannels)' };
  if (data.reply.responseUrl !== undefined) {
    const problem = responseUrlProblem(data.reply.responseUrl, rules.urls);
    if (problem) return { reason: `response_url refused: ${problem}` };
  }
  let command: Command;
  try {
    command = parseCommand(data.commandText);
  } catch {
    return { reason: 'command text does not parse' };
  }
  if (command.name !== data.command.name || command.name === 'help')
    return { reason: 'command does not match its text' };
  if (data.reply.ephemeralTo !== undefined && data.reply.ephemeralTo !== data.requester.userId)
    return { reason: 'an ephemeral reply may only go to the requester' };
  if (command.name === 'log' && data.reply.ephemeralTo === undefined)
    return { reason: 'the audit log is only ever shown to the requester' };
  return { data: { ...data, command }, command };
}
