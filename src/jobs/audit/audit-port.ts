import type { Redis } from 'ioredis';
import { AwsClients } from '../../adapters/aws/clients.ts';
import { CloudTrailAuditSource } from '../../adapters/aws/cloudtrail.ts';
import type { AwsConfig } from '../../adapters/aws/config.ts';
import type { AuditRequest } from '../../domain/audit/request.ts';
import type { AuditEventSource } from '../../domain/audit/source.ts';
import type { Logger } from '../../log.ts';
import { presentAuditFinished, presentAuditProgress } from '../../render/audit/present-audit.ts';
import { CancelFlags } from '../../store/jobs/cancel-flags.ts';
import type { CommandPorts, JobContext } from '../run-command.ts';
import { type AuditReport, runAudit } from './audit-job.ts';

/**
 * The audit port of command jobs: runs the audit, posts progress (one message, updated at most every 5 s, with a
 * Cancel button) and stops when someone presses Cancel.
 */
export function auditPort(deps: {
  source: AuditEventSource;
  baselineDays: number;
  progressEveryMs: number;
  flags?: CancelFlags;
  log?: Logger;
}): NonNullable<CommandPorts['audit']> {
  return async (request: AuditRequest, signal: AbortSignal, job: JobContext): Promise<AuditReport> => {
    let lastPost = Date.now();
    let posted = false;
    let posting: Promise<void> = Promise.resolve();
    const { jobId, progress } = job;
    const flags = deps.flags;
    const report = await runAudit(request, {
      source: deps.source,
      baselineDays: deps.baselineDays,
      signal,
      ...(flags && jobId ? { cancelledBy: () => flags.requestedBy(jobId) } : {}),
      onProgress: (p) => {
        if (!progress || Date.now() - lastPost < deps.progressEveryMs) return;
        lastPost = Date.now();
        posted = true;
        posting = posting
          .then(() => progress(presentAuditProgress(request.principal, p, jobId)))
          .catch((err: unknown) => deps.log?.warn({ err }, 'could not post audit progress'));
      },
    });
    await posting;
    // The progress message loses its Cancel button once the audit is over.
    if (posted && progress) {
      await progress(presentAuditFinished(request.principal, report)).catch((err: unknown) =>
        deps.log?.warn({ err }, 'could not close the audit progress message'),
      );
    }
    return report;
  };
}

/** The production wiring: CloudTrail through the SDK's standard chain; undefined when AWS is not configured. */
export function auditPortFromConfig(
  aws: AwsConfig,
  redis: Redis,
  prefix: string,
  log?: Logger,
): CommandPorts['audit'] {
  if (aws.regions.length === 0 && !aws.accounts.some((a) => (a.regions?.length ?? 0) > 0)) return undefined;
  return auditPort({
    source: new CloudTrailAuditSource(new AwsClients(aws), aws.audit),
    baselineDays: aws.audit.baselineDays,
    progressEveryMs: aws.audit.progressEveryMs,
    flags: new CancelFlags(redis, prefix),
    ...(log ? { log } : {}),
  });
}
