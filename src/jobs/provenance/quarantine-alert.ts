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

/**
 * Posts (first pod) or updates (later pods) the alert of one workload in the channel where the quarantine was
 * requested, and writes the breach to the audit trail. The breach was validated when the job was read; it is
 * also checked against the stored request: a quarantine released in the meantime alerts nothing.
 */
export async function runBreachAlert(breach: QuarantineBreach, ports: BreachAlertPorts): Promise<string> {
  const now = ports.now?.() ?? new Date();
  const request = await ports.requests.getRequest(breach.requestId);
  const watch = request ? quarantineWatch(request, await ports.requests.steps(request.id)) : undefined;
  if (!request || !watch || watch.digest !== breach.digest) {
    ports.log.info(
      { requestId: breach.requestId, digest: breach.digest },
      'breach of a quarantine that is no longer active (released or unknown); no alert',
    );
    return 'stale';
  }
  const key = alertKey(breach);
  return ports.breaches.withAlertLock(key, async () => {
    const { breaches, more, unreadable, added } = await ports.breaches.add(breach);
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
        now,
      );
    }
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
            cluster: breach.cluster,
            namespace: breach.namespace,
            kind: breach.workload.kind,
            name: breach.workload.name,
          },
        ],
      },
      label: `Freeze deploys of ${breach.workload.kind}/${breach.workload.name} in ${breach.cluster}/${breach.namespace}, which runs the quarantined digest ${breach.digest.slice(0, 19)}…. A second person must approve before anything changes.`,
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
              label: `Freeze ${breach.workload.kind}/${breach.workload.name}`.slice(0, 75),
              value: freeze.id,
              style: 'danger',
            },
          ],
        },
      ],
    };
    await ports.notifier.deliver({ channelId: request.channelId }, withButton, key);
    return added ? 'alerted' : 'updated';
  });
}
