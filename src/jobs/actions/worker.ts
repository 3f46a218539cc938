import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Container } from '../../container.ts';
import { QuarantineBreachStore } from '../../store/provenance/quarantine-breaches.ts';
import { runBreachAlert, runBreachRender } from '../provenance/quarantine-alert.ts';
import { ACTION_QUEUE, type ActionJobData, actionJobSchema } from './definitions.ts';
import { ActionEngine, type EnginePorts } from './engine.ts';

/** A running action worker; `close()` lets in-flight jobs finish. */
export type RunningActionWorker = {
  engine: ActionEngine;
  worker: Worker<ActionJobData, string>;
  close: () => Promise<void>;
};

/** Consumes the action queue; job data is validated before anything runs. */
export function startActionWorker(
  c: Container,
  ports: Omit<EnginePorts, 'queue' | 'store' | 'audit' | 'actions' | 'defaultApprovers' | 'log'> &
    Partial<Pick<EnginePorts, 'log'>>,
  opts: { name?: string } = {},
): RunningActionWorker {
  const log = ports.log ?? c.log.child({ component: 'actions' });
  const engine = new ActionEngine({
    ...ports,
    queue: c.actionQueue,
    store: c.actions,
    audit: c.audit,
    actions: c.config.actions,
    defaultApprovers: c.config.access.approvers,
    log,
  });
  const breaches = new QuarantineBreachStore(c.redis, c.config.redis.prefix);
  const processor = async (job: Job<ActionJobData>, _token?: string, signal?: AbortSignal) => {
    const parsed = actionJobSchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ jobId: job.id }, 'action job with invalid data refused');
      throw new UnrecoverableError('invalid action job data');
    }
    const d = parsed.data;
    const alertPorts = { requests: c.actions, breaches, notifier: ports.notifier, audit: c.audit, log };
    const outcome =
      d.type === 'quarantine-alert'
        ? await runBreachAlert(d.breach, { ...alertPorts, queue: c.actionQueue })
        : d.type === 'quarantine-alert-render'
          ? await runBreachRender(d, alertPorts)
          : await engine.run(d, signal ?? new AbortController().signal);
    log.info({ jobId: job.id, type: parsed.data.type, outcome }, 'action job done');
    return outcome;
  };
  const connection = c.connect();
  const worker = new Worker<ActionJobData, string>(ACTION_QUEUE, processor, {
    connection,
    prefix: c.config.redis.prefix,
    concurrency: c.config.worker.concurrency,
    lockDuration: c.config.worker.lockDurationMs,
    stalledInterval: c.config.worker.stalledIntervalMs,
    maxStalledCount: 5,
    name: opts.name ?? `scope-actions-${process.pid}`,
  });
  worker.on('error', (err) => log.error({ err }, 'action worker error'));
  worker.on('failed', (job, err) => log.warn({ err, jobId: job?.id }, 'action job attempt failed'));
  return {
    engine,
    worker,
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
