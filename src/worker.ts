import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Notifier } from './adapters/slack/notifier.ts';
import type { Container } from './container.ts';
import { COMMANDS, describeCommand } from './domain/command.ts';
import { isUserFacing, ScopeError, type UserFacingError } from './errors.ts';
import { COMMAND_QUEUE, type CommandJobData, checkCommandJob } from './jobs/definitions.ts';
import { type CommandPorts, type CommandResult, runCommand } from './jobs/run-command.ts';
import type { Block, Message } from './render/message.ts';
import { code, md, prose, user } from './render/message.ts';
import { present } from './render/present.ts';

/** Result a command job returns to BullMQ (kept small: the message itself went to Slack). */
export type CommandJobResult = { delivered: boolean; channel: string; ts?: string };

/** A job whose data failed validation: never run, never retried, nothing posted; audited as a refusal. */
export class RefusedJobError extends UnrecoverableError {
  constructor(reason: string) {
    super(`job refused: ${reason}`);
    this.name = 'RefusedJobError';
  }
}

/** Metric label for a job: a known command name or "other", whatever the job data says. */
function jobLabel(job: Job): string {
  return COMMANDS.some((c) => c.name === job.name) ? job.name : 'other';
}

/** A running command worker; `close()` stops taking work and lets in-flight jobs finish. */
export type RunningWorker = { worker: Worker<CommandJobData, CommandJobResult>; close: () => Promise<void> };

export function startCommandWorker(
  c: Container,
  deps: {
    notifier: Notifier;
    ports: CommandPorts;
    name?: string;
    /** Adds action buttons (e.g. Freeze deploys) to a result before it is delivered. */
    decorate?: (result: CommandResult, message: Message, data: CommandJobData) => Promise<Message>;
  },
): RunningWorker {
  const { config, log, metrics, audit } = c;
  const rules = { allowedChannels: config.access.allowedChannels, urls: config.slack };
  const processor = async (job: Job<CommandJobData>, _token?: string, signal?: AbortSignal) => {
    // Job data comes from Redis, which anyone with access can write: validate before anything else.
    const checked = checkCommandJob(job.data, job.id, rules);
    if ('reason' in checked) {
      log.error(
        { jobId: job.id, reason: checked.reason },
        'refused a job that failed validation; not running it',
      );
      await Promise.resolve()
        .then(() =>
          audit.append({
            kind: 'refusal',
            actor: 'unknown',
            command: `job ${String(job.id).slice(0, 64)}`,
            correlationId: String(job.id).slice(0, 64),
            outcome: 'refused',
            detail: checked.reason,
          }),
        )
        .catch((e: unknown) => log.error({ err: e }, 'audit append failed'));
      throw new RefusedJobError(checked.reason);
    }
    const data = checked.data;
    const jobLog = log.child({
      correlationId: data.correlationId,
      jobId: job.id,
      attempt: job.attemptsMade + 1,
    });
    const started = performance.now();
    const endTimer = metrics.jobDuration.startTimer({ job: data.command.name });
    const deliverAndAudit = async (message: Message, outcome: string) => {
      const delivered = await deps.notifier.deliver(data.reply, message, job.id ?? data.correlationId);
      await audit.append({
        kind: 'result',
        actor: data.requester.userId,
        channel: data.reply.channelId,
        command: describeCommand(data.command),
        correlationId: data.correlationId,
        outcome,
      });
      return { delivered: true, ...delivered };
    };
    try {
      let message: Message;
      let outcome = 'delivered';
      const progress = progressReporter(deps.notifier, data, job.id ?? data.correlationId, jobLog);
      try {
        const result = await runCommand(data.command, { ...deps.ports, progress: progress.report }, signal, {
          ...(job.id ? { jobId: job.id } : {}),
          channelId: data.reply.channelId,
          userId: data.requester.userId,
          progress: async (m) => {
            await deps.notifier.deliver(data.reply, m, `${job.id ?? data.correlationId}-progress`);
          },
        }).finally(progress.settle);
        message = present(result, {
          requesterId: data.requester.userId,
          commandText: `/scope ${data.commandText}`,
          elapsedMs: performance.now() - started,
          now: new Date(),
        });
        if (deps.decorate) message = await deps.decorate(result, message, data);
      } catch (err) {
        if (!isUserFacing(err)) throw err;
        // The question cannot be answered as asked (unknown cluster, ambiguous prefix…): say so, no retry.
        message = userErrorMessage(data, err);
        outcome = `answered: ${err.code}`;
      }
      const done = await deliverAndAudit(message, outcome);
      metrics.jobs.inc({ job: data.command.name, outcome: 'completed' });
      jobLog.info(
        { command: data.command.name, ms: Math.round(performance.now() - started), outcome },
        'command job done',
      );
      return done;
    } catch (err) {
      jobLog.warn({ err }, 'command job attempt failed');
      throw err;
    } finally {
      endTimer();
    }
  };

  const connection = c.connect();
  const worker = new Worker<CommandJobData, CommandJobResult>(COMMAND_QUEUE, processor, {
    connection,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: 2,
    name: deps.name ?? `scope-worker-${process.pid}`,
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    if (err instanceof RefusedJobError) {
      metrics.jobs.inc({ job: jobLabel(job), outcome: 'refused' });
      return;
    }
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) {
      metrics.jobs.inc({ job: jobLabel(job), outcome: 'retrying' });
      return;
    }
    metrics.jobs.inc({ job: jobLabel(job), outcome: 'failed' });
    void reportFailure(c, deps.notifier, job, err).catch((e: unknown) =>
      log.error({ err: e, correlationId: job.data.correlationId }, 'could not post the failure message'),
    );
  });
  return {
    worker,
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/**
 * Progress of a long command as an update of the same message the answer will replace (keyed by job id):
 * at most every 3 s, only for 50+ items, serialised so no progress update lands after the answer.
 */
function progressReporter(
  notifier: Notifier,
  data: CommandJobData,
  key: string,
  log: { warn: (o: object, m: string) => void },
) {
  let last = 0;
  let done = false;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    report: (n: number, total: number) => {
      const now = Date.now();
      if (done || total < 50 || now - last < 3000) return;
      last = now;
      const message: Message = {
        summary: `/scope ${data.commandText}: ${n} of ${total}`,
        blocks: [
          {
            kind: 'section',
            text: md`:hourglass_flowing_sand: ${code(`/scope ${data.commandText}`)}: ${n} of ${total} checked…`,
          },
        ],
      };
      chain = chain
        .then(() => notifier.deliver(data.reply, message, key))
        .catch((err: unknown) => log.warn({ err }, 'progress update failed'));
    },
    settle: async () => {
      done = true;
      await chain;
    },
  };
}

function userErrorMessage(data: CommandJobData, err: UserFacingError): Message {
  return {
    summary: `/scope ${data.commandText}: ${err.message}`,
    blocks: [
      { kind: 'section', text: md`:warning: ${code(`/scope ${data.commandText}`)}: ${prose(err.message)}` },
      ...(err.hint ? [{ kind: 'context' as const, text: prose(err.hint) }] : []),
      { kind: 'context', text: md`Asked by ${user(data.requester.userId)}` },
    ],
  };
}

/** Tells the channel a job finally failed, with the correlation id the logs carry; nothing fails silently. */
async function reportFailure(
  c: Container,
  notifier: Notifier,
  job: Job<CommandJobData>,
  err: Error,
): Promise<void> {
  const checked = checkCommandJob(job.data, job.id, {
    allowedChannels: c.config.access.allowedChannels,
    urls: c.config.slack,
  });
  if ('reason' in checked) return;
  const data = checked.data;
  const userMessage = err instanceof UnrecoverableError ? err.message.replace(/^[A-Z_]+: /, '') : undefined;
  c.log.error(
    { err, correlationId: data.correlationId, jobId: job.id, attempts: job.attemptsMade },
    'command job failed for good',
  );
  const blocks: Block[] = [
    {
      kind: 'section',
      text: userMessage
        ? md`:warning: ${code(`/scope ${data.commandText}`)} could not be answered: ${userMessage}`
        : md`:x: ${code(`/scope ${data.commandText}`)} failed after ${job.attemptsMade} attempts. Nothing was changed. Try again, or ask the scope operators with the correlation id below.`,
    },
    {
      kind: 'context',
      text: md`Correlation id ${code(data.correlationId)} · asked by ${user(data.requester.userId)}`,
    },
  ];
  const message: Message = { summary: `/scope ${data.commandText} failed (${data.correlationId})`, blocks };
  await notifier.deliver(data.reply, message, job.id ?? data.correlationId);
  await c.audit.append({
    kind: 'failure',
    actor: data.requester.userId,
    channel: data.reply.channelId,
    command: describeCommand(data.command),
    correlationId: data.correlationId,
    outcome: 'failed',
    detail: err instanceof ScopeError ? err.code : err.name,
  });
}
