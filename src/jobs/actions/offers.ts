import { ACTION_IDS } from '../../render/actions/present-request.ts';
import type { Message } from '../../render/message.ts';
import type { ActionStore } from '../../store/actions/action-store.ts';
import type { CommandResult } from '../run-command.ts';

const MAX_BUTTONS = 5;

/**
 * Adds action buttons to a result: a **Freeze deploys** button per environment on `/scope digest`. The
 * targets are stored server-side as an offer; the button carries only the offer id. A presenter for another
 * capability adds its buttons here the same way (save an offer, add a button with ACTION_IDS.offer).
 */
export async function withActionButtons(
  result: CommandResult,
  message: Message,
  ctx: { store: ActionStore; channelId: string; userId: string; now: Date },
): Promise<Message> {
  if (result.kind !== 'digest') return message;
  const buttons = [];
  for (const env of result.report.environments.slice(0, MAX_BUTTONS)) {
    const uses = env.uses.filter((u) => u.running);
    if (uses.length === 0) continue;
    const selectors = [
      ...new Map(
        uses.map((u) => [
          `${u.cluster}/${u.namespace}/${u.workload.kind}/${u.workload.name}`,
          { cluster: u.cluster, namespace: u.namespace, kind: u.workload.kind, name: u.workload.name },
        ]),
      ).values(),
    ];
    const offer = await ctx.store.saveOffer({
      kind: 'freeze',
      input: { selectors },
      label: `Freeze deploys of the ${selectors.length} workload(s) running ${result.report.digest.slice(0, 19)}… in ${env.environment}. A second person must approve before anything changes.`,
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: `Freeze deploys in ${env.environment} (${selectors.length})`,
      value: offer.id,
      style: 'danger' as const,
    });
  }
  if (buttons.length === 0) return message;
  return { ...message, blocks: [...message.blocks, { kind: 'actions', buttons }] };
}
