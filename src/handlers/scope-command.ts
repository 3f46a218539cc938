import { createHash } from 'node:crypto';
import type { App } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { COMMANDS, type Command, describeCommand, parseCommand, truncate } from '../domain/command.ts';
import { freezeInputFor } from '../domain/freeze/plan.ts';
import { responseUrlProblem } from '../domain/slack/urls.ts';
import { isUserFacing, UserFacingError } from '../errors.ts';
import type { ActionInteractions } from '../jobs/actions/interactions.ts';
import { type CommandJobData, commandJobId } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observability.ts';
import { code, type Message, md, prose } from '../render/message.ts';
import { presentHelp } from '../render/present.ts';
import { toSlack } from '../render/slack-blocks.ts';
import type { AuditEntry, AuditLog } from '../store/audit/audit-log.ts';
import { enqueueTruthfully } from './enqueue.ts';
import type { RefusalRecorder } from './refusals.ts';

/** What the /scope listener needs; built by the bot from the container. */
export type ScopeCommandDeps = {
  config: Pick<Config, 'access' | 'worker' | 'slack'>;
  queue: Queue<CommandJobData>;
  /** The queue's connection (no offline queue): its state tells whether an enqueue can be sent at all. */
  queueConnection: Redis;
  /** Records refused requests in the audit trail, rate-limited. */
  refusals?: RefusalRecorder;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  /** The approval engine's interaction side; commands that change something go through it. */
  actions?: ActionInteractions;
};

/** A reply for the ack, plus work that must happen only after the ack (opening a modal). */
export type CommandReply = Message & { afterAck?: () => Promise<void> };

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

const ESTIMATES: Partial<Record<Command['name'], string>> = {
  digest: 'about a second',
  image: 'about a second',
  where: 'about a second',
  status: 'a moment',
  audit: 'a few minutes (CloudTrail allows 2 requests/s per region; progress is posted)',
  verify: 'a few seconds (large scopes longer; progress is shown)',
};

/** Parse → authorize → enqueue, and say so. Returns the ephemeral reply for the ack; never throws. */
export async function handleScopeCommand(
  deps: ScopeCommandDeps,
  input: SlashCommandInput,
): Promise<CommandReply> {
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
    auditLater(audit, rlog, {
      kind: 'refusal',
      actor: input.userId,
      channel: input.channelId,
      command: truncate(input.text, 200),
      correlationId,
      outcome,
      detail: err.code,
    });
    rlog.info({ code: err.code }, 'command refused');
    return errorReply(err);
  }

  if (cmd.name === 'help') {
    metrics.commandsReceived.inc({ command: 'help', outcome: 'answered' });
    return presentHelp(cmd.topic);
  }

  const commandText = describeCommand(cmd);
  if (cmd.name === 'freeze' && deps.actions) {
    const actions = deps.actions;
    const target = cmd.target;
    metrics.commandsReceived.inc({ command: 'freeze', outcome: 'queued' });
    return {
      summary: 'Asking for the reason',
      blocks: [
        { kind: 'section', text: md`Opening a form for the reason of ${code(`/scope ${commandText}`)}…` },
      ],
      afterAck: async () => {
        await audit
          .append({
            kind: 'request',
            actor: input.userId,
            channel: input.channelId,
            command: commandText,
            correlationId,
          })
          .catch((e: unknown) => rlog.error({ err: e }, 'audit append failed'));
        await actions.offerFromCommand(
          {
            userId: input.userId,
            channelId: input.channelId,
            ...(input.triggerId ? { triggerId: input.triggerId } : {}),
          },
          'freeze',
          freezeInputFor(target),
          `Freeze deploys: ${commandText.slice('freeze '.length)}. A second person must approve before anything changes.`,
        );
      },
    };
  }
  const data: CommandJobData = {
    command: cmd,
    commandText,
    requester: {
      userId: input.userId,
      ...(input.userName ? { userName: input.userName } : {}),
      ...(input.teamId ? { teamId: input.teamId } : {}),
    },
    reply: {
      channelId: input.channelId,
      ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
      ...(cmd.name === 'log' ? { ephemeralTo: input.userId } : {}),
    },
    correlationId,
    requestedAt: new Date().toISOString(),
  };
  const jobId = commandJobId(correlationId);
  const outcome = await enqueueTruthfully(deps, data, jobId, input, rlog);
  const shown = code(`/scope ${commandText}`);
  switch (outcome.kind) {
    case 'duplicate':
      metrics.commandsReceived.inc({ command: cmd.name, outcome: 'duplicate' });
      rlog.info({ duplicateOf: outcome.of }, 'duplicate command ignored');
      return {
        summary: 'Already on it',
        blocks: [
          {
            kind: 'section',
            text: md`:hourglass_flowing_sand: Already working on ${shown} (job ${code(outcome.of)}); the answer will be posted here once.`,
          },
        ],
      };
    case 'not-sent':
      metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queue_unavailable' });
      return {
        summary: 'scope is unavailable',
        blocks: [
          {
            kind: 'section',
            text: md`:x: scope could not queue ${shown}: its job queue is not reachable. Nothing was started, and nothing will start later. Try again in a minute; if it persists, tell the scope operators (correlation id ${code(correlationId)}).`,
          },
        ],
      };
    case 'pending':
      metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queue_slow' });
      return {
        summary: `Waiting for the job queue: /scope ${commandText}`,
        blocks: [
          {
            kind: 'section',
            text: md`:hourglass_flowing_sand: scope's job queue is slow to answer. ${shown} will run as soon as it answers, and the answer will be posted in this channel. If scope restarts before then it is dropped: ask again if nothing appears within a few minutes (correlation id ${code(correlationId)}).`,
          },
        ],
      };
    case 'uncertain':
      metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queue_unavailable' });
      return {
        summary: 'scope could not confirm the command',
        blocks: [
          {
            kind: 'section',
            text: md`:warning: scope could not confirm that ${shown} was queued (the job queue failed while taking it). If it was, the answer will be posted in this channel; if nothing appears within a few minutes, ask again (correlation id ${code(correlationId)}).`,
          },
        ],
      };
    case 'queued':
      break;
  }
  metrics.commandsReceived.inc({ command: cmd.name, outcome: 'queued' });
  auditLater(audit, rlog, {
    kind: 'request',
    actor: input.userId,
    channel: input.channelId,
    command: commandText,
    correlationId,
  });
  rlog.info({ command: cmd.name, jobId }, 'command queued');
  return {
    summary: `Working on /scope ${commandText}`,
    blocks: [
      {
        kind: 'section',
        text: md`:hourglass_flowing_sand: Working on ${code(`/scope ${commandText}`)} — usually takes ${ESTIMATES[cmd.name] ?? 'a moment'}. ${cmd.name === 'log' ? 'The answer will be shown only to you.' : 'The answer will be posted in this channel.'}`,
      },
      { kind: 'context', text: md`Job ${code(jobId)}` },
    ],
  };
}

/** Audit writes never hold up an ack: they are started here and their failure is logged. */
function auditLater(audit: AuditLog, log: Logger, entry: AuditEntry): void {
  void Promise.resolve()
    .then(() => audit.append(entry))
    .catch((e: unknown) => log.error({ err: e }, 'audit append failed'));
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
      { kind: 'section', text: md`:warning: ${prose(err.message)}` },
      ...(err.hint ? [{ kind: 'context' as const, text: prose(err.hint) }] : []),
    ],
  };
}

/** Metric label for a command that did not parse: a known command name or "other", so labels stay bounded. */
function firstWord(text: string): string {
  const w = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return COMMANDS.some((c) => c.name === w) ? w : 'other';
}

/** Longest command text the payload schema accepts; longer text is answered "too long". */
const MAX_TEXT = 4000;

const slashPayload = z.object({
  text: z.string().max(MAX_TEXT).default(''),
  user_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/),
  user_name: z.string().optional(),
  channel_id: z.string().regex(/^[CGD][A-Z0-9]{2,}$/),
  team_id: z.string().optional(),
  // Checked against the allow-list (slack.responseUrlHosts) by the listener, which knows the policy.
  response_url: z.string().max(2000).optional(),
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
    const urlProblem = input?.responseUrl
      ? responseUrlProblem(input.responseUrl, deps.config.slack)
      : undefined;
    let reply: CommandReply;
    if (input !== undefined && urlProblem !== undefined) {
      deps.log.warn({ problem: urlProblem }, 'slash command with a response_url outside the allow-list');
      deps.metrics.commandsReceived.inc({ command: 'other', outcome: 'refused' });
      deps.refusals?.record('RESPONSE_URL_REFUSED', {
        actor: input.userId,
        channel: input.channelId,
        detail: urlProblem,
      });
      reply = errorReply(
        new UserFacingError(
          'NOT_ALLOWED',
          "scope refused this request: its response address is not one of Slack's.",
          'On GovSlack or another Slack host, the scope operators add it to slack.responseUrlHosts.',
        ),
      );
    } else if (input === undefined) {
      deps.log.warn({ fields: Object.keys(command ?? {}) }, 'malformed slash command payload');
      deps.metrics.commandsReceived.inc({ command: 'other', outcome: 'invalid' });
      deps.refusals?.record('MALFORMED_PAYLOAD', { detail: 'slash command' });
      const text: unknown = (command as { text?: unknown } | undefined)?.text;
      reply = errorReply(
        typeof text === 'string' && text.length > MAX_TEXT
          ? new UserFacingError(
              'BAD_INPUT',
              `That command is too long (${text.length.toLocaleString('en')} characters; scope reads at most ${MAX_TEXT.toLocaleString('en')}).`,
              'Paste only the digest, image or workload. Try `/scope help`.',
            )
          : new UserFacingError(
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
    await reply.afterAck?.().catch((err: unknown) => deps.log.error({ err }, 'follow-up after ack failed'));
  });
}
