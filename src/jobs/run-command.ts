import type { Command } from '../domain/command.ts';
import type { DigestReport, ImageReport, WhereReport } from '../domain/inventory/fleet-report.ts';
import type { GuardrailsReport } from '../domain/provenance/guardrails.ts';
import { UserFacingError } from '../errors.ts';
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
import { digestQuery, type InventoryReader, imageQuery, whereQuery } from './inventory-queries.ts';
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
  | { kind: 'guardrails'; report: GuardrailsReport };

/** What command jobs need from the outside world; built by the container, replaced by nothing in tests. */
export type CommandPorts = {
  status: () => Promise<StatusReport>;
  inventory: InventoryReader;
  now?: () => Date;
  /** Advisory feeds, matches and subscriptions; absent where they are not wired. */
  advisories?: AdvisoryCommandPorts;
  /** Live check of admission enforcement; absent where no cluster can be reached (the CLI without config). */
  guardrails?: (cluster: string | undefined, signal: AbortSignal) => Promise<GuardrailsReport>;
  /** Names of the configured clusters, to tell a typo from a cluster with nothing to report. */
  clusterNames?: () => readonly string[];
};

/** Who asked and where: commands that act per channel (watch) need it. */
export type CommandContext = { channelId?: string; userId?: string };

/** Runs one parsed command to its result. Pure dispatch: the I/O lives behind the ports. */
export async function runCommand(
  cmd: Command,
  ports: CommandPorts,
  signal?: AbortSignal,
  context: CommandContext = {},
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
        report: await watch(advisoryPorts(ports), context.channelId, cmd.feed, cmd.name, context.userId),
      };
    case 'guardrails':
      return { kind: 'guardrails', report: await guardrails(cmd.cluster, ports, signal) };
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
