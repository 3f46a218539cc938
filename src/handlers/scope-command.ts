import { createHash } from 'node:crypto';
import type { App } from '@slack/bolt';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { COMMANDS, type Command, describeCommand, parseCommand, truncate } from '../domain/command.ts';
import { isUserFacing, UserFacingError } from '../errors.ts';
import { type CommandJobData, commandJobId } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability.ts';
import { code, type Message, md } from '../render/message.ts';
import { presentHelp } from '../render/present.ts';
import { toSlack } from '../render/slack-blocks.ts';
import type { AuditLog } from '../store/audit/audit-log.ts';

/** What the /scope listener needs; built by the bot from the container. */
export type ScopeCommandDeps = {
  config: Pick<Config, 'access' | 'worker'>;
  queue: Queue<CommandJobData>;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
};

/** The fields of a slash command scope reads; Bolt's payload is validated into this. */
export type SlashCommandInput = {
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  teamId?: string;
  responseUrl?: string;
  triggerId?: string;
};

const ENQUEUE_TIMEOUT_MS = 2000;
const DOUBLE_SUBMIT_WINDOW_MS = 5000;
const ESTIMATES: Partial<Record<Command['name'], string>> = {
  digest: 'about a second',
  image: 'about a second',
  where: 'about a second',
  status: 'a moment',
  verify: 'a few seconds (large scopes longer; progress is shown)',
};

/** Parse → authorize → enqueue, and say so. Returns the ephemeral reply for the ack; never throws. */
export async function handleScopeCommand(deps: ScopeCommandDeps, input: SlashCommandInput): Promise<Message> {
  const { metrics, audit, log } = deps;
  const correlationId = correlationIdFor(input);
  const rlog = log.child({ correlationId, user: input.userId, channel: input.channelId });
  let cmd: Command;
  try {
    authorizeChannel(deps.config.access.allowedChannels, input.channelId);
    cmd = parseCommand(input.text);
  } catch (err) {
    if (!isUserFacing(err)) throw err;
    const outcome = err.code === 'NOT_ALLOWED' ? 'refused' : 'invalid';
    metrics.commandsReceived.inc({ command: firstWord(input.text), outcome });
    await audit
      .append({
        kind: 'refusal',
        actor: input.userId,
        channel: input.channelId,
        command: truncate(input.text, 200),
        correlationId,
        outcome,
        detail: err.code,
      })
      .catch((e: unknown) => rlog.error({ err: e }, 'audit append failed'));
    rlog.info({ code: err.code }, 'command refused');
    return errorReply(err);
  }

  if (cmd.name === 'help') {
    metrics.commandsReceived.inc({ command: 'help', outcome: 'answered' });
    return presentHelp(cmd.topic);
  }

  const commandText = describeCommand(cmd);
  const data: CommandJobData = {
    command: cmd,
    commandText,
    requester: {
      userId: input.userId,
      ...(input.userName ? { userName: input.userName } : {}),
      ...(input.teamId ? { teamId: input.teamId } : {}),
    },
    reply: { channelId: input.channelId, ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}) },
    correlationId,
    requestedAt: new Date().toISOString(),
  };
  const jobId = commandJobId(correlationId);
  try {
    const outcome = await withTimeout(enqueue(deps, data, jobId, input), ENQUEUE_TIMEOUT_MS);
    if (outcome.duplicateOf) {
      metrics.commandsReceived.inc({ command: cmd.name, outcome: 'duplicate' });
      rlog.info({ duplicateOf: outcome.duplicateOf }, 'duplicate command ignored');
      return {
        summary: 'Already on it',
        blocks: [
          {
            kind: 'section',
            text: md`:hourglass_flowing_sand: Already working on ${code(`/scope ${commandText}`)} (job ${code(outcome.duplicateOf)}); the answer will be posted here once.`,
          },
        ],
      };
    }
  } catch (err) {
    metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queue_unavailable' });
    rlog.error({ err }, 'could not enqueue command');
    return {
      summary: 'scope is unavailable',
      blocks: [
        {
          kind: 'section',
          text: md`:x: scope could not queue ${code(`/scope ${commandText}`)}: its job queue is not answering. Nothing was started. Try again in a minute; if it persists, tell the scope operators (correlation id ${code(correlationId)}).`,
        },
      ],
    };
  }
  metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queued' });
  await audit
    .append({
      kind: 'request',
      actor: input.userId,
      channel: input.channelId,
      command: commandText,
      correlationId,
    })
    .catch((e: unknown) => rlog.error({ err: e }, 'audit append failed'));
  rlog.info({ command: cmd.name, jobId }, 'command queued');
  return {
    summary: `Working on /scope ${commandText}`,
    blocks: [
      {
        kind: 'section',
        text: md`:hourglass_flowing_sand: Working on ${code(`/scope ${commandText}`)} — usually takes ${ESTIMATES[cmd.name] ?? 'a moment'}. The answer will be posted in this channel.`,
      },
      { kind: 'context', text: md`Job ${code(jobId)}` },
    ],
  };
}

async function enqueue(
  deps: ScopeCommandDeps,
  data: CommandJobData,
  jobId: string,
  input: SlashCommandInput,
): Promise<{ duplicateOf?: string }> {
  const existing = await deps.queue.getJob(jobId);
  if (existing) return { duplicateOf: jobId };
  const dedupId = createHash('sha256')
    .update(`${input.userId}\n${input.channelId}\n${data.commandText}`)
    .digest('hex')
    .slice(0, 24);
  const job = await deps.queue.add(data.command.name, data, {
    jobId,
    attempts: deps.config.worker.attempts,
    backoff: { type: 'exponential', delay: deps.config.worker.backoffMs, jitter: 0.2 },
    deduplication: { id: dedupId, ttl: DOUBLE_SUBMIT_WINDOW_MS },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  return job.id !== jobId && job.id !== undefined ? { duplicateOf: job.id } : {};
}

/** Refuses commands from channels outside the allow-list ("*" allows all). */
export function authorizeChannel(allowed: readonly string[], channelId: string): void {
  if (allowed.includes('*') || allowed.includes(channelId)) return;
  throw new UserFacingError(
    'NOT_ALLOWED',
    'scope is not enabled in this channel.',
    'Run it from an incident channel on the allow-list, or ask the scope operators to add this channel (access.allowedChannels).',
  );
}

/** Stable per request: a Slack retry of the same delivery (same trigger_id) maps to the same job. */
export function correlationIdFor(input: SlashCommandInput): string {
  const basis =
    input.triggerId ?? `${input.userId}|${input.channelId}|${input.text}|${Math.floor(Date.now() / 60_000)}`;
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

export function errorReply(err: UserFacingError): Message {
  return {
    summary: err.message,
    blocks: [
      { kind: 'section', text: md`:warning: ${err.message}` },
      ...(err.hint ? [{ kind: 'context' as const, text: md`${err.hint}` }] : []),
    ],
  };
}

/** Metric label for a command that did not parse: a known command name or "other", so labels stay bounded. */
function firstWord(text: string): string {
  const w = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return COMMANDS.some((c) => c.name === w) ? w : 'other';
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

const slashPayload = z.object({
  text: z.string().max(4000).default(''),
  user_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/),
  user_name: z.string().optional(),
  channel_id: z.string().regex(/^[CGD][A-Z0-9]{2,}$/),
  team_id: z.string().optional(),
  response_url: z
    .string()
    .url()
    .refine(
      (u) => u.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(u),
      'must be https',
    )
    .optional(),
  trigger_id: z.string().max(200).optional(),
});

/** Validates the fields scope reads from Slack's slash-command payload. */
export function parseSlashPayload(body: unknown): SlashCommandInput | undefined {
  const r = slashPayload.safeParse(body);
  if (!r.success) return undefined;
  const c = r.data;
  return {
    text: c.text,
    userId: c.user_id,
    channelId: c.channel_id,
    ...(c.user_name ? { userName: c.user_name } : {}),
    ...(c.team_id ? { teamId: c.team_id } : {}),
    ...(c.response_url ? { responseUrl: c.response_url } : {}),
    ...(c.trigger_id ? { triggerId: c.trigger_id } : {}),
  };
}

/** Registers the /scope slash command on a Bolt app. */
export function registerScopeCommand(app: App, deps: ScopeCommandDeps): void {
  app.command('/scope', async ({ command, ack }) => {
    const input = parseSlashPayload(command);
    let reply: Message;
    if (input === undefined) {
      deps.log.warn({ fields: Object.keys(command ?? {}) }, 'malformed slash command payload');
      deps.metrics.commandsReceived.inc({ command: 'other', outcome: 'invalid' });
      reply = errorReply(
        new UserFacingError(
          'BAD_INPUT',
          'Slack sent a command scope could not read (missing user or channel).',
          'Try the command again; if it keeps failing, tell the scope operators.',
        ),
      );
    } else {
      try {
        reply = await handleScopeCommand(deps, input);
      } catch (err) {
        deps.log.error({ err }, 'unexpected error handling /scope');
        reply = {
          summary: 'scope hit an internal error',
          blocks: [
            { kind: 'section', text: md`:x: scope hit an internal error; nothing was started. Try again.` },
          ],
        };
      }
    }
    await ack({ response_type: 'ephemeral', ...toSlack(reply) });
  });
}
