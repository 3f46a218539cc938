import type { ActionPlan } from '../domain/actions/contract.ts';
import type { AuditRequest } from '../domain/audit/request.ts';
import type { AuditReader, StoredAuditEntry } from '../domain/audit-log/chain.ts';
import type { Command } from '../domain/command.ts';
import { type ActiveFreeze, freezeInputFor } from '../domain/freeze/plan.ts';
import type { DigestReport, ImageReport, WhereReport } from '../domain/inventory/fleet-report.ts';
import type { GuardrailsReport } from '../domain/provenance/guardrails.ts';
import { UserFacingError } from '../errors.ts';
import type { Message } from '../render/message.ts';
import {
  type AdvisoriesReport,
  type AdvisoryCommandPorts,
  type AdvisoryReport,
  type DiffReport,
  diffImages,
  listAdvisories,
  showAdvisory,
  type WatchReport,
  watch,
} from './advisories/commands.ts';
import type { AuditReport } from './audit/audit-job.ts';
import { digestQuery, type InventoryReader, imageQuery, whereQuery } from './inventory-queries.ts';
import {
  type VerifyPorts,
  type VerifyProgress,
  type VerifyReport,
  verifyScope,
} from './provenance/verify-scope.ts';
import type { StatusReport } from './status.ts';

/** The data a command produces; renderers (Slack, terminal) and `--json` output all start from this. */
export type CommandResult =
  | { kind: 'help'; topic?: string }
  | { kind: 'status'; report: StatusReport }
  | { kind: 'digest'; report: DigestReport }
  | { kind: 'image'; report: ImageReport }
  | { kind: 'where'; report: WhereReport }
  | { kind: 'advisories'; report: AdvisoriesReport }
  | { kind: 'advisory'; report: AdvisoryReport }
  | { kind: 'diff'; report: DiffReport }
  | { kind: 'watch'; report: WatchReport }
  | { kind: 'guardrails'; report: GuardrailsReport }
  | { kind: 'log'; entries: StoredAuditEntry[]; unreadable: string[] }
  | { kind: 'audit'; report: AuditReport }
  | { kind: 'freeze-plan'; plan: ActionPlan }
  | { kind: 'frozen'; freezes: ActiveFreeze[] }
  | { kind: 'verify'; report: VerifyReport };

/** What a running job offers a long command: its id (for a Cancel button) and a way to post progress. */
export type JobContext = {
  jobId?: string;
  progress?: (message: Message) => Promise<void>;
  /** Where and by whom it was asked: commands that act per channel (watch) need it. */
  channelId?: string;
  userId?: string;
};

/** What command jobs need from the outside world; built by the container, replaced by nothing in tests. */
export type CommandPorts = {
  status: () => Promise<StatusReport>;
  inventory: InventoryReader;
  /** The audit trail, for `log`; absent where there is none (CLI --live). */
  auditLog?: AuditReader;
  now?: () => Date;
  /** Advisory feeds, matches and subscriptions; absent where they are not wired. */
  advisories?: AdvisoryCommandPorts;
  /** Live check of admission enforcement; absent where no cluster can be reached (the CLI without config). */
  guardrails?: (cluster: string | undefined, signal: AbortSignal) => Promise<GuardrailsReport>;
  /** Names of the configured clusters, to tell a typo from a cluster with nothing to report. */
  clusterNames?: () => readonly string[];
  /** CloudTrail audits; absent when no AWS region is configured. */
  audit?: (request: AuditRequest, signal: AbortSignal, job: JobContext) => Promise<AuditReport>;
  /** Approval engine reads: active freezes, and a plan preview (the CLI; Slack asks for approval instead). */
  actions?: {
    activeFreezes: () => Promise<ActiveFreeze[]>;
    previewFreeze?: (input: unknown, signal: AbortSignal) => Promise<ActionPlan>;
  };
  /** Signature verification; absent when no provenance policy is configured. */
  provenance?: VerifyPorts;
  /** Called as a long command makes progress (`/scope verify` of a large scope). */
  progress?: VerifyProgress;
};

/** Runs one parsed command to its result. Pure dispatch: the I/O lives behind the ports. */
export async function runCommand(
  cmd: Command,
  ports: CommandPorts,
  signal?: AbortSignal,
  job: JobContext = {},
): Promise<CommandResult> {
  signal?.throwIfAborted();
  switch (cmd.name) {
    case 'help':
      return cmd.topic === undefined ? { kind: 'help' } : { kind: 'help', topic: cmd.topic };
    case 'status':
      return { kind: 'status', report: await ports.status() };
    case 'digest':
      return { kind: 'digest', report: await digestQuery(ports.inventory, cmd.query, now(ports)) };
    case 'image':
      return { kind: 'image', report: await imageQuery(ports.inventory, cmd.query, now(ports)) };
    case 'where':
      return { kind: 'where', report: await whereQuery(ports.inventory, cmd.target, now(ports)) };
    case 'advisories':
      return { kind: 'advisories', report: await listAdvisories(advisoryPorts(ports)) };
    case 'advisory':
      return { kind: 'advisory', report: await showAdvisory(advisoryPorts(ports), cmd.id) };
    case 'diff':
      return { kind: 'diff', report: await diffImages(advisoryPorts(ports), cmd.good, cmd.suspicious) };
    case 'watch':
    case 'unwatch':
      return {
        kind: 'watch',
        report: await watch(advisoryPorts(ports), job.channelId, cmd.feed, cmd.name, job.userId),
      };
    case 'guardrails':
      return { kind: 'guardrails', report: await guardrails(cmd.cluster, ports, signal) };
    case 'log': {
      if (!ports.auditLog)
        throw new UserFacingError(
          'BAD_INPUT',
          'the audit trail is in Redis; `log` does not work with --live',
        );
      return { kind: 'log', ...(await ports.auditLog.read(cmd.count)) };
    }
    case 'audit':
      if (!ports.audit) {
        throw new UserFacingError(
          'CONFIG_INVALID',
          'CloudTrail audits are not set up: no AWS region is configured.',
          'Set aws.regions (or SCOPE_AWS_REGIONS) and credentials for scope.',
        );
      }
      return {
        kind: 'audit',
        report: await ports.audit(cmd.request, signal ?? new AbortController().signal, job),
      };
    case 'frozen':
      return { kind: 'frozen', freezes: (await ports.actions?.activeFreezes()) ?? [] };
    case 'freeze': {
      const preview = ports.actions?.previewFreeze;
      if (!preview) throw new UserFacingError('BAD_INPUT', 'freeze needs approval: run it from Slack.');
      const plan = await preview(freezeInputFor(cmd.target), signal ?? new AbortController().signal);
      return { kind: 'freeze-plan', plan };
    }
    case 'verify':
      if (!ports.provenance) {
        throw new UserFacingError(
          'NOT_FOUND',
          'Signature verification is not configured here.',
          'Add `provenance.registries` and `provenance.rules` to the configuration (docs/CONFIGURATION.md).',
        );
      }
      return {
        kind: 'verify',
        report: await verifyScope(
          ports.inventory,
          ports.provenance,
          cmd.scope,
          now(ports),
          signal,
          ports.progress,
        ),
      };
  }
}

function now(ports: CommandPorts): Date {
  return ports.now ? ports.now() : new Date();
}

function advisoryPorts(ports: CommandPorts): AdvisoryCommandPorts {
  if (!ports.advisories) {
    throw new UserFacingError(
      'BAD_INPUT',
      'Advisory feeds are not available here.',
      'Run it through the bot or `scope cli`.',
    );
  }
  return ports.advisories;
}

async function guardrails(
  cluster: string | undefined,
  ports: CommandPorts,
  signal: AbortSignal | undefined,
): Promise<GuardrailsReport> {
  if (ports.guardrails === undefined) {
    throw new UserFacingError(
      'BAD_INPUT',
      'guardrail checks need the configured clusters; none are wired here.',
    );
  }
  const names = ports.clusterNames?.() ?? [];
  if (cluster !== undefined && !names.includes(cluster)) {
    throw new UserFacingError(
      'NOT_FOUND',
      `"${cluster}" is not a configured cluster.`,
      names.length ? `Configured clusters: ${names.join(', ')}.` : 'No clusters are configured.',
    );
  }
  return ports.guardrails(cluster, signal ?? new AbortController().signal);
}
