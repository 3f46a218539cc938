import type { Config } from '../../../config.ts';
import type { ActionExecutor, ActionPlanner } from '../../../domain/actions/contract.ts';
import { KubeSecrets } from '../../kubernetes/secrets.ts';
import { AwsClients } from '../clients.ts';
import { RotateExecutor } from './executor.ts';
import { RotateFinishPlanner, RotatePlanner } from './planner.ts';

/**
 * Registers Rotate and its second confirmation (rotate-finish: delete the deactivated keys) on the engine's
 * registry. Rotate has no inverse: a leaked secret cannot be un-leaked; the old key stays inactive until
 * rotate-finish, so reactivating it by hand is the way back.
 */
export function registerRotate(
  registry: {
    register(p: ActionPlanner, e: ActionExecutor): unknown;
  },
  config: Pick<Config, 'aws' | 'clusters'>,
): void {
  const clients = new AwsClients(config.aws);
  const kube = new KubeSecrets(config.clusters);
  registry.register(new RotatePlanner(clients, config.aws), new RotateExecutor('rotate', clients, kube));
  registry.register(new RotateFinishPlanner(clients), new RotateExecutor('rotate-finish', clients, kube));
}
