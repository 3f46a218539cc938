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
): {
  preview: (input: unknown, signal: AbortSignal) => Promise<ActionPlan>;
  planner: FreezePlanner;
  freeze: FreezeExecutor;
  unfreeze: UnfreezeExecutor;
} {
  // Actions use the cluster's actor credentials when configured (write access kept apart from the reader's).
  const clusters = new Map(
    config.clusters.map((c) => {
      const { actor, ...rest } = c;
      const creds = actor
        ? {
            ...rest,
            inCluster: false,
            kubeconfig: actor.kubeconfig,
            ...(actor.context ? { context: actor.context } : {}),
          }
        : rest;
      return [c.name, new KubeObjects(creds)];
    }),
  );
  const planner = new FreezePlanner(clusters, config.actions.gitops);
  const freeze = new FreezeExecutor(clusters);
  const unfreeze = new UnfreezeExecutor(clusters);
  registry.register(planner, freeze);
  registry.registerExecutor(unfreeze);
  return { preview: (input, signal) => planner.plan(input, signal), planner, freeze, unfreeze };
}
