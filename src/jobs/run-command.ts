import type { Command } from '../domain/command.ts';
import type { DigestReport, ImageReport, WhereReport } from '../domain/inventory/fleet-report.ts';
import { UserFacingError } from '../errors.ts';
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
  | { kind: 'verify'; report: VerifyReport };

/** What command jobs need from the outside world; built by the container, replaced by nothing in tests. */
export type CommandPorts = {
  status: () => Promise<StatusReport>;
  inventory: InventoryReader;
  now?: () => Date;
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
