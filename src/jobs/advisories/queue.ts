import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { AdvisoriesConfig } from '../../adapters/feeds/config.ts';

/** BullMQ queue for feed polling and re-matching (job schedulers; any worker replica may run them). */
export const ADVISORY_QUEUE = 'scope-advisories';
export const REMATCH_SCHEDULER = 'advisory-rematch';

/** Job data, validated when read back from Redis. */
export const advisoryJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('poll'), feed: z.string().min(1).max(63) }).strict(),
  z.object({ kind: z.literal('rematch') }).strict(),
]);
export type AdvisoryJobData = z.infer<typeof advisoryJobSchema>;

export function feedSchedulerId(feed: string): string {
  return `feed-${feed}`;
}

/**
 * Upserts one job scheduler per enabled feed (every intervalSeconds) and one for re-matching
 * (every rematchSeconds); removes schedulers of feeds no longer configured or disabled. Idempotent, so
 * every worker replica may call it at start.
 */
export async function scheduleAdvisoryJobs(
  queue: Queue<AdvisoryJobData>,
  config: AdvisoriesConfig,
): Promise<string[]> {
  const wanted = new Map<string, { every: number; data: AdvisoryJobData }>();
  for (const f of config.feeds) {
    if (f.enabled)
      wanted.set(feedSchedulerId(f.name), {
        every: f.intervalSeconds * 1000,
        data: { kind: 'poll', feed: f.name },
      });
  }
  if (config.feeds.some((f) => f.enabled)) {
    wanted.set(REMATCH_SCHEDULER, { every: config.rematchSeconds * 1000, data: { kind: 'rematch' } });
  }
  for (const s of await queue.getJobSchedulers()) {
    const id = s.key;
    if ((id.startsWith('feed-') || id === REMATCH_SCHEDULER) && !wanted.has(id))
      await queue.removeJobScheduler(id);
  }
  for (const [id, w] of wanted) {
    await queue.upsertJobScheduler(
      id,
      { every: w.every },
      { name: w.data.kind, data: w.data, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }
  return [...wanted.keys()];
}
