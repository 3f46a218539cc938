import type { Config } from '../../../config.ts';
import type { ActionPlan } from '../../../domain/actions/contract.ts';
import type { ActionRegistry } from '../../../jobs/actions/registry.ts';
import { KubeObjects } from '../objects.ts';
import { FreezeExecutor, UnfreezeExecutor } from './executor.ts';
import { FreezePlanner } from './planner.ts';

/** Registers Freeze (planner + executor) and Unfreeze (executor) on the engine's registry. */
export function registerFreeze(
  registry: ActionRegistry,
  config: Pick<Config, 'clusters' | 'actions'>,
): { preview: (input: unknown, signal: AbortSignal) => Promise<ActionPlan> } {
  const clusters = new Map(config.clusters.map((c) => [c.name, new KubeObjects(c)]));
  const planner = new FreezePlanner(clusters, config.actions.gitops);
  registry.register(planner, new FreezeExecutor(clusters));
  registry.registerExecutor(new UnfreezeExecutor(clusters));
  return { preview: (input, signal) => planner.plan(input, signal) };
}
