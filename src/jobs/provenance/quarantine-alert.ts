import type { Queue } from 'bullmq';
import type { StepRecord } from '../../domain/actions/contract.ts';
import type { ActionRequest } from '../../domain/actions/request.ts';
import type { AuditEntry } from '../../domain/audit-log/chain.ts';
import { type QuarantineBreach, quarantineWatch } from '../../domain/provenance/quarantine-watch.ts';
import type { Logger } from '../../log.ts';
import { ACTION_IDS } from '../../render/actions/present-request.ts';
import type { Message } from '../../render/message.ts';
import { presentBreach } from '../../render/provenance/present-breach.ts';
import type { Offer } from '../../store/actions/schemas.ts';
import {
  alertKey,
  breachJobId,
  type QuarantineBreachStore,
} from '../../store/provenance/quarantine-breaches.ts';
import type { ActionJobData } from '../actions/definitions.ts';
import type { ReplyTarget } from '../definitions.ts';

/** Queues one breach under its deterministic job id (one pod running the digest → one job). */
export async function enqueueBreach(queue: Queue<ActionJobData>, breach: QuarantineBreach): Promise<void> {
  await queue.add(
    'quarantine-alert',
    { type: 'quarantine-alert', breach },
    {
      jobId: breachJobId(breach),
      attempts: 8,
      backoff: { type: 'exponential', delay: 500, jitter: 0.2 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
}

export type BreachAlertPorts = {
  requests: {
    getRequest(id: string): Promise<ActionRequest | undefined>;
    steps(id: string): Promise<Map<string, StepRecord>>;
    saveOffer(offer: Omit<Offer, 'id'>): Promise<Offer>;
  };
  breaches: QuarantineBreachStore;
  notifier: { deliver(target: ReplyTarget, message: Message, key: string): Promise<unknown> };
  audit: { append(entry: AuditEntry, now: Date): unknown };
  log: Logger;
  now?: () => Date;
};

/** How long a render waits for more pods of the same workload, so a rollout of many pods is a few updates. */
export const RENDER_DELAY_MS = 1500;

/**
 * One pod that started running a quarantined digest: checked against the stored request (a quarantine released
 * in the meantime alerts nothing), added to its workload's alert, written to the audit trail once, and a render
 * of the alert queued. The breach was validated when the job was read.
 */
export async function runBreachAlert(
  breach: QuarantineBreach,
  ports: BreachAlertPorts & { queue: Queue<ActionJobData> },
): Promise<string> {
  const request = await activeQuarantine(breach.requestId, breach.digest, ports);
  if (!request) return 'stale';
  const { added, version } = await ports.breaches.add(breach);
  if (added) {
    ports.audit.append(
      {
        kind: 'system',
        actor: 'scope',
        channel: request.channelId,
        command: 'quarantine-breach',
        correlationId: request.id,
        outcome: breach.cause.kind,
        detail: `${breach.cluster}/${breach.namespace}/${breach.pod} (${breach.workload.kind}/${breach.workload.name}) runs ${breach.digest}`,
      },
      ports.now?.() ?? new Date(),
    );
  }
  const alert = alertKey(breach);
  // One render job per version: a render that finds the message already showing the latest version does nothing.
  await ports.queue.add(
    'quarantine-alert-render',
    { type: 'quarantine-alert-render', requestId: request.id, alert },
    {
      jobId: `${alert}-v${version}`,
      delay: RENDER_DELAY_MS,
      attempts: 8,
      backoff: { type: 'exponential', delay: 500, jitter: 0.2 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
  return added ? 'recorded' : 'known';
}

/**
 * Posts (first render) or updates (later ones) the alert of one workload in the channel where the quarantine was
 * requested, from what is stored, under the alert's lock. Nothing is sent when the message already shows the
 * latest version, so a rollout of many pods makes a few updates, not one per pod.
 */
export async function runBreachRender(
  job: { requestId: string; alert: string },
  ports: BreachAlertPorts,
): Promise<string> {
  return ports.breaches.withAlertLock(job.alert, async () => {
    const { breaches, more, unreadable, version } = await ports.breaches.read(job.alert, job.requestId);
    const first = breaches[0];
    if (!first) return 'empty';
    const request = await activeQuarantine(job.requestId, first.digest, ports);
    if (!request) return 'stale';
    if ((await ports.breaches.rendered(job.alert)) === version) return 'unchanged';
    const now = ports.now?.() ?? new Date();
    const message = presentBreach(breaches, {
      requestId: request.id,
      requestedBy: request.requestedBy,
      approvedBy: request.approvals.map((a) => a.userId),
      more,
      unreadable,
    });
    const freeze = await ports.requests.saveOffer({
      kind: 'freeze',
      input: {
        selectors: [
          {
            cluster: first.cluster,
            namespace: first.namespace,
            kind: first.workload.kind,
            name: first.workload.name,
          },
        ],
      },
      label: `Freeze deploys of ${first.workload.kind}/${first.workload.name} in ${first.cluster}/${first.namespace}, which runs the quarantined digest ${first.digest.slice(0, 19)}…. A second person must approve before anything changes.`,
      channelId: request.channelId,
      createdBy: 'scope',
      createdAt: now.toISOString(),
    });
    const withButton: Message = {
      ...message,
      blocks: [
        ...message.blocks,
        {
          kind: 'actions',
          buttons: [
            {
              action: ACTION_IDS.offer,
              label: `Freeze ${first.workload.kind}/${first.workload.name}`.slice(0, 75),
              value: freeze.id,
              style: 'danger',
            },
          ],
        },
      ],
    };
    await ports.notifier.deliver({ channelId: request.channelId }, withButton, job.alert);
    await ports.breaches.markRendered(job.alert, version);
    return 'rendered';
  });
}

/** The stored request, if it is still an active quarantine of this digest. */
async function activeQuarantine(
  requestId: string,
  digest: string,
  ports: BreachAlertPorts,
): Promise<ActionRequest | undefined> {
  const request = await ports.requests.getRequest(requestId);
  const watch = request ? quarantineWatch(request, await ports.requests.steps(request.id)) : undefined;
  if (request && watch && watch.digest === digest) return request;
  ports.log.info(
    { requestId, digest },
    'breach of a quarantine that is no longer active (released or unknown); no alert',
  );
  return undefined;
}
