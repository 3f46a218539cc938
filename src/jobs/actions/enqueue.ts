import type { Queue } from 'bullmq';
import { type ActionJobData, actionJobIds, type EngineJobData } from './definitions.ts';

/** Adds an action job under its deterministic id: adding the same event twice yields one job. */
export async function enqueueAction(
  queue: Queue<ActionJobData>,
  data: EngineJobData,
  opts: { execution?: number; rev?: number; delayMs?: number; attempts?: number } = {},
): Promise<void> {
  const jobId =
    data.type === 'plan'
      ? actionJobIds.plan(data.requestId)
      : data.type === 'execute'
        ? actionJobIds.execute(data.requestId, opts.execution ?? 1)
        : data.type === 'card'
          ? actionJobIds.card(data.requestId, opts.rev ?? 0)
          : data.type === 'expire'
            ? actionJobIds.expire(data.requestId)
            : actionJobIds.recheck(data.requestId, opts.execution ?? 1);
  await queue.add(data.type, data, {
    jobId,
    attempts: opts.attempts ?? 5,
    backoff: { type: 'exponential', delay: 500, jitter: 0.2 },
    ...(opts.delayMs ? { delay: opts.delayMs } : {}),
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  });
}
