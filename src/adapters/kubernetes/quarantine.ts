import type { ClusterConfig } from '../../config.ts';
import type { ActionExecutor, ActionPlan, ActionPlanner, PlanStep } from '../../domain/actions/contract.ts';
import {
  DIGEST_ANNOTATION,
  MAX_REFERENCES,
  quarantineName,
  quarantineObjects,
} from '../../domain/provenance/quarantine.ts';
import { withFreezeSteps, withNote } from '../../domain/provenance/quarantine-freeze.ts';
import { QuarantineExecutor } from './quarantine-executor.ts';
import {
  type ClusterClients,
  header,
  kubeObjectClients,
  messageOf,
  quarantineInputSchema,
  readOrUndefined,
  servesAdmissionPolicies,
  statusOf,
} from './quarantine-objects.ts';

export { QuarantineExecutor } from './quarantine-executor.ts';
export {
  type ClusterClients,
  kubeObjectClients,
  type ObjectClient,
  type QuarantineInput,
  quarantineInputSchema,
} from './quarantine-objects.ts';

/** Plans a quarantine in every configured cluster (or the chosen ones), reading what already exists. */
export class QuarantinePlanner implements ActionPlanner {
  readonly kind = 'quarantine' as const;
  readonly #clusters: readonly ClusterConfig[];
  readonly #clients: ClusterClients;
  readonly #references: ((digest: string) => Promise<string[]>) | undefined;
  readonly #freeze: QuarantineFreeze | undefined;

  /**
   * `references` looks up, at plan time, the image references the inventory has seen for the digest (running
   * and in history), so the policy also rejects the tags that resolve to it. `freeze`, when given, lets an offer
   * with `freeze: true` also freeze deploys of the workloads that run the digest (one request, one approval).
   */
  constructor(
    clusters: readonly ClusterConfig[],
    clients: ClusterClients = kubeObjectClients(clusters),
    references?: (digest: string) => Promise<string[]>,
    freeze?: QuarantineFreeze,
  ) {
    this.#clusters = clusters;
    this.#clients = clients;
    this.#references = references;
    this.#freeze = freeze;
  }

  async plan(raw: unknown, signal: AbortSignal): Promise<ActionPlan> {
    const parsed = quarantineInputSchema.parse(raw);
    const known = this.#references ? await this.#references(parsed.digest) : [];
    const input = {
      ...parsed,
      references: [...new Set([...parsed.references, ...known])].slice(0, MAX_REFERENCES),
    };
    const digest = input.digest as Parameters<typeof quarantineObjects>[0]['digest'];
    const objects = quarantineObjects({ digest, references: input.references });
    const chosen = input.clusters
      ? this.#clusters.filter((c) => input.clusters?.includes(c.name))
      : this.#clusters;
    const notes: string[] = [];
    for (const missing of (input.clusters ?? []).filter((n) => !this.#clusters.some((c) => c.name === n))) {
      notes.push(`cluster ${missing} is not configured; nothing is planned there`);
    }
    const steps: PlanStep[] = [];
    await Promise.all(
      chosen.map(async (cfg) => {
        signal.throwIfAborted();
        const { objects: client } = this.#clients(cfg.name);
        const served = await servesAdmissionPolicies(cfg, signal);
        for (const obj of [objects.policy, objects.binding]) {
          const target = {
            system: 'kubernetes' as const,
            location: cfg.name,
            environment: cfg.environment,
            kind: obj.kind,
            name: obj.metadata.name,
          };
          const key = `${cfg.name}/${obj.kind}/${obj.metadata.name}`;
          const description = `create ${obj.kind} ${obj.metadata.name} (Deny pods using ${input.digest}${input.references.length ? ` or ${input.references.length} tag(s) that resolve to it` : ''})`;
          if (served !== true) {
            const change = { op: 'create', object: obj };
            steps.push({ key, target, description, change, state: 'impossible', reason: served });
            continue;
          }
          try {
            const existing = await readOrUndefined(
              client,
              header(obj.apiVersion, obj.kind, obj.metadata.name),
            );
            const sameDigest = existing?.metadata?.annotations?.[DIGEST_ANNOTATION] === input.digest;
            steps.push({
              key,
              target,
              description,
              change: { op: 'create', object: obj },
              state: existing === undefined ? 'todo' : sameDigest ? 'already-done' : 'impossible',
              ...(existing === undefined
                ? {}
                : {
                    reason: sameDigest
                      ? 'already quarantined'
                      : `an object named ${obj.metadata.name} exists and is not scope's`,
                  }),
            });
          } catch (err) {
            const code = statusOf(err);
            steps.push({
              key,
              target,
              description,
              change: { op: 'create', object: obj },
              state: 'impossible',
              reason:
                code === 404
                  ? 'this cluster does not serve ValidatingAdmissionPolicy (Kubernetes ≥ 1.30 needed)'
                  : code === 403
                    ? 'scope may not read admission policies here (grant the actor role)'
                    : `cluster did not answer: ${messageOf(err)}`,
            });
          }
        }
      }),
    );
    steps.sort(
      (a, b) => a.key.localeCompare(b.key) || (a.target.kind === 'ValidatingAdmissionPolicy' ? -1 : 1),
    );
    const locations = [...new Set(steps.map((s) => s.target.location))];
    const plan: ActionPlan = {
      kind: 'quarantine',
      title: `Quarantine ${input.digest} in ${locations.length} cluster(s)`,
      steps,
      environments: [...new Set(chosen.map((c) => c.environment))].sort(),
      notes,
    };
    return input.freeze ? this.#withFreeze(plan, input.digest, signal) : plan;
  }

  /** Appends the freeze of the workloads running the digest (see `withFreezeSteps`). */
  async #withFreeze(plan: ActionPlan, digest: string, signal: AbortSignal): Promise<ActionPlan> {
    if (!this.#freeze) return withNote(plan, 'Freeze is not available here; only the quarantine is planned.');
    const selectors = await this.#freeze.workloads(digest);
    if (selectors.length === 0) {
      return withNote(
        plan,
        'No workload runs the digest now (as far as the inventory knows): nothing to freeze.',
      );
    }
    return withFreezeSteps(plan, await this.#freeze.planner.plan({ selectors }, signal), selectors.length);
  }
}

/** What Quarantine needs to offer "and freeze": the Freeze planner and executors, and who runs a digest now. */
export type QuarantineFreeze = {
  planner: ActionPlanner;
  workloads: (
    digest: string,
  ) => Promise<Array<{ cluster: string; namespace: string; kind: string; name: string }>>;
  freeze: ActionExecutor;
  unfreeze: ActionExecutor;
};

export { quarantineName };

/**
 * Registers Quarantine (planner + executor) and Release (executor) on the engine's registry, with each cluster's
 * actor credentials when configured (rbac-quarantine.yaml), the reader's otherwise.
 */
export function registerQuarantine(
  registry: {
    register(p: ActionPlanner, e: ActionExecutor): unknown;
    registerExecutor(e: ActionExecutor): unknown;
  },
  clusters: readonly (ClusterConfig & { actor?: { kubeconfig: string; context?: string | undefined } })[],
  references?: (digest: string) => Promise<string[]>,
  freeze?: QuarantineFreeze,
): void {
  const creds = clusters.map(({ actor, ...rest }) =>
    actor
      ? {
          ...rest,
          inCluster: false,
          kubeconfig: actor.kubeconfig,
          ...(actor.context ? { context: actor.context } : {}),
        }
      : rest,
  );
  const clients = kubeObjectClients(creds);
  registry.register(
    new QuarantinePlanner(creds, clients, references, freeze),
    new QuarantineExecutor('quarantine', clients, freeze),
  );
  registry.registerExecutor(new QuarantineExecutor('release', clients, freeze));
}
