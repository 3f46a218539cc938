import type { ActionExecutor, ActionKind, ActionPlanner } from '../../domain/actions/contract.ts';

/**
 * Which planner and executor serve each action kind. A capability registers once, in the worker's wiring:
 *   registry.register(new FreezePlanner(...), new FreezeExecutor(...));
 *   registry.registerExecutor(new UnfreezeExecutor(...));   // an inverse kind needs only an executor
 * The engine never imports a capability.
 */
export class ActionRegistry {
  readonly #planners = new Map<ActionKind, ActionPlanner>();
  readonly #executors = new Map<ActionKind, ActionExecutor>();

  register(planner: ActionPlanner, executor: ActionExecutor): this {
    if (planner.kind !== executor.kind)
      throw new Error(`planner ${planner.kind} and executor ${executor.kind} differ`);
    this.#planners.set(planner.kind, planner);
    this.#executors.set(executor.kind, executor);
    return this;
  }

  registerExecutor(executor: ActionExecutor): this {
    this.#executors.set(executor.kind, executor);
    return this;
  }

  planner(kind: ActionKind): ActionPlanner | undefined {
    return this.#planners.get(kind);
  }

  executor(kind: ActionKind): ActionExecutor | undefined {
    return this.#executors.get(kind);
  }

  /** The kind whose executor declares `kind` as its inverse (unfreeze → freeze). */
  forwardOf(kind: ActionKind): ActionExecutor | undefined {
    return [...this.#executors.values()].find((e) => e.inverseKind === kind);
  }
}
