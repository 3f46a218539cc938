import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Container } from '../../container.ts';
import { type AdvisoryMatcher, enabledFeeds } from './matcher.ts';
import { pollFeed } from './poll-feed.ts';
import { ADVISORY_QUEUE, type AdvisoryJobData, advisoryJobSchema } from './queue.ts';

export type RunningAdvisoryWorker = { worker: Worker<AdvisoryJobData>; close: () => Promise<void> };

/** Runs feed polls and re-matches from the advisory queue; one job at a time per replica. */
export function startAdvisoryWorker(
  c: Container,
  deps: { matcher: AdvisoryMatcher; name?: string },
): RunningAdvisoryWorker {
  const log = c.log.child({ component: 'advisories' });
  const processor = async (job: Job<AdvisoryJobData>, _token?: string, signal?: AbortSignal) => {
    const parsed = advisoryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`BAD_INPUT: malformed advisory job ${job.id}`);
    const data = parsed.data;
    if (data.kind === 'poll') {
      const res = await pollFeed(
        data.feed,
        { config: c.config.advisories, store: c.advisories, log },
        new Date(),
        signal,
      );
      // New records are matched right away rather than at the next scheduled re-match.
      if (res.status === 'updated') return { poll: res, rematch: await deps.matcher.rematch() };
      return { poll: res };
    }
    if (enabledFeeds(c.config.advisories).length === 0) return { skipped: 'no feeds' };
    return { rematch: await deps.matcher.rematch() };
  };
  const connection = c.connect();
  const worker = new Worker<AdvisoryJobData>(ADVISORY_QUEUE, processor, {
    connection,
    prefix: c.config.redis.prefix,
    concurrency: 1,
    lockDuration: Math.max(c.config.worker.lockDurationMs, 60_000),
    stalledInterval: c.config.worker.stalledIntervalMs,
    name: deps.name ?? `scope-advisories-${process.pid}`,
  });
  worker.on('error', (err) => log.error({ err }, 'advisory worker error'));
  worker.on('failed', (job, err) => log.warn({ err, jobId: job?.id }, 'advisory job failed'));
  return {
    worker,
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
