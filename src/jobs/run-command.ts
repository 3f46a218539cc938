import type { ActionPlan } from '../domain/actions/contract.ts';
import type { Command } from '../domain/command.ts';
import { type ActiveFreeze, freezeInputFor } from '../domain/freeze/plan.ts';
import type { DigestReport, ImageReport, WhereReport } from '../domain/inventory/fleet-report.ts';
import { UserFacingError } from '../errors.ts';
import { digestQuery, type InventoryReader, imageQuery, whereQuery } from './inventory-queries.ts';
import type { StatusReport } from './status.ts';

/** The data a command produces; renderers (Slack, terminal) and `--json` output all start from this. */
export type CommandResult =
  | { kind: 'help'; topic?: string }
  | { kind: 'status'; report: StatusReport }
  | { kind: 'digest'; report: DigestReport }
  | { kind: 'image'; report: ImageReport }
  | { kind: 'where'; report: WhereReport }
  | { kind: 'freeze-plan'; plan: ActionPlan }
  | { kind: 'frozen'; freezes: ActiveFreeze[] };

/** What command jobs need from the outside world; built by the container, replaced by nothing in tests. */
export type CommandPorts = {
  status: () => Promise<StatusReport>;
  inventory: InventoryReader;
  now?: () => Date;
  /** Approval engine reads: active freezes, and a plan preview (the CLI; Slack asks for approval instead). */
  actions?: {
    activeFreezes: () => Promise<ActiveFreeze[]>;
    previewFreeze?: (input: unknown, signal: AbortSignal) => Promise<ActionPlan>;
  };
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
    case 'frozen':
      return { kind: 'frozen', freezes: (await ports.actions?.activeFreezes()) ?? [] };
    case 'freeze': {
      const preview = ports.actions?.previewFreeze;
      if (!preview) throw new UserFacingError('BAD_INPUT', 'freeze needs approval: run it from Slack.');
      const plan = await preview(freezeInputFor(cmd.target), signal ?? new AbortController().signal);
      return { kind: 'freeze-plan', plan };
    }
  }
}

function now(ports: CommandPorts): Date {
  return ports.now ? ports.now() : new Date();
}
