import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { postToResponseUrl } from '../adapters/slack/notifier.ts';
import type { CommandJobData } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { ScopeCommandDeps, SlashCommandInput } from './scope-command.ts';

const ENQUEUE_TIMEOUT_MS = 2000;
const READY_WAIT_MS = 1000;
const DOUBLE_SUBMIT_WINDOW_MS = 5000;

/**
 * What happened to an enqueue, as far as the bot can know within its ack budget: queued; a duplicate of a job
 * already queued; not sent at all (Redis unreachable: nothing will run later); pending (sent, no answer yet:
 * it runs once Redis answers); uncertain (Redis failed while taking it).
 */
export type EnqueueOutcome =
  | { kind: 'queued' }
  | { kind: 'duplicate'; of: string }
  | { kind: 'not-sent' }
  | { kind: 'pending' }
  | { kind: 'uncertain' };

const NOT_WRITABLE = /enableOfflineQueue|Connection is closed|not reachable/;

export async function enqueueTruthfully(
  deps: ScopeCommandDeps,
  data: CommandJobData,
  jobId: string,
  input: SlashCommandInput,
  rlog: Logger,
): Promise<EnqueueOutcome> {
  const started = Date.now();
  const conn = deps.queueConnection;
  if (conn.status !== 'ready' && !(await readyWithin(conn, READY_WAIT_MS))) {
    rlog.error({ status: conn.status }, 'job queue not reachable; nothing queued');
    return { kind: 'not-sent' };
  }
  let sent = false;
  const attempt = (async (): Promise<EnqueueOutcome> => {
    const existing = await deps.queue.getJob(jobId);
    if (existing) return { kind: 'duplicate', of: jobId };
    const dedupId = doubleSubmitId(input.userId, input.channelId, data.commandText);
    sent = true;
    const job = await deps.queue.add(data.command.name, data, {
      jobId,
      attempts: deps.config.worker.attempts,
      backoff: { type: 'exponential', delay: deps.config.worker.backoffMs, jitter: 0.2 },
      deduplication: { id: dedupId, ttl: DOUBLE_SUBMIT_WINDOW_MS },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    return job.id !== jobId && job.id !== undefined ? { kind: 'duplicate', of: job.id } : { kind: 'queued' };
  })();
  const classify = (err: unknown): EnqueueOutcome =>
    !sent || NOT_WRITABLE.test(String((err as Error)?.message))
      ? { kind: 'not-sent' }
      : { kind: 'uncertain' };
  const budget = Math.max(100, ENQUEUE_TIMEOUT_MS - (Date.now() - started));
  const first = await Promise.race([
    attempt.catch((err: unknown) => {
      rlog.error({ err }, 'could not enqueue command');
      return classify(err);
    }),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), budget).unref()),
  ]);
  if (first !== undefined) return first;
  // Still in flight: ioredis resends it when the connection comes back, so it will run; say so, and tell the
  // user if it fails after all.
  rlog.warn('job queue slow to answer; the command is still being queued');
  void attempt.then(
    (late) => rlog.info({ outcome: late.kind }, 'late enqueue finished'),
    async (err: unknown) => {
      rlog.error({ err }, 'late enqueue failed; telling the user');
      if (!input.responseUrl) return;
      await postToResponseUrl(
        input.responseUrl,
        {
          response_type: 'ephemeral',
          text: `scope could not queue /scope ${data.commandText} after all; it will not run. Try again.`,
        },
        deps.config.slack,
      ).catch((e: unknown) => rlog.error({ err: e }, 'could not tell the user'));
    },
  );
  return { kind: 'pending' };
}

/** Same person, same channel, same command: one job within the double-submit window (BullMQ deduplication). */
export function doubleSubmitId(userId: string, channelId: string, commandText: string): string {
  return createHash('sha256').update(`${userId}\n${channelId}\n${commandText}`).digest('hex').slice(0, 24);
}

function readyWithin(conn: Redis, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      conn.off('ready', onReady);
      resolve(false);
    }, ms);
    timer.unref();
    conn.once('ready', onReady);
  });
}
