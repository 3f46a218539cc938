import type { KubernetesObject } from '@kubernetes/client-node';
import type {
  ActionContext,
  ActionExecutor,
  ActionPlan,
  PlanStep,
  StepRecord,
} from '../../domain/actions/contract.ts';
import { REQUEST_ANNOTATION, stampRequest } from '../../domain/provenance/quarantine.ts';
import {
  FREEZE_PREFIX,
  freezePart,
  UNFREEZE_PREFIX,
  unprefixed,
  withUnfreezeSteps,
} from '../../domain/provenance/quarantine-freeze.ts';
import type { QuarantineFreeze } from './quarantine.ts';
import {
  type ClusterClients,
  changeSchema,
  header,
  messageOf,
  priorSchema,
  readOrUndefined,
  statusOf,
} from './quarantine-objects.ts';

/** Creates (quarantine) or deletes (release) the scope-managed policy objects; recognises its own marker. */
export class QuarantineExecutor implements ActionExecutor {
  readonly kind: 'quarantine' | 'release';
  readonly inverseKind?: 'release';
  readonly #clients: ClusterClients;
  readonly #freeze: Pick<QuarantineFreeze, 'freeze' | 'unfreeze'> | undefined;

  constructor(
    kind: 'quarantine' | 'release',
    clients: ClusterClients,
    freeze?: Pick<QuarantineFreeze, 'freeze' | 'unfreeze'>,
  ) {
    this.kind = kind;
    if (kind === 'quarantine') this.inverseKind = 'release';
    this.#clients = clients;
    this.#freeze = freeze;
  }

  async apply(step: PlanStep, ctx: ActionContext): Promise<StepRecord> {
    const prefix = this.kind === 'quarantine' ? FREEZE_PREFIX : UNFREEZE_PREFIX;
    if (step.key.startsWith(prefix)) {
      const delegate = this.kind === 'quarantine' ? this.#freeze?.freeze : this.#freeze?.unfreeze;
      if (!delegate)
        return {
          key: step.key,
          state: 'failed',
          error: 'freeze is not available in this worker; nothing was sent',
          at: ctx.now().toISOString(),
        };
      const record = await delegate.apply(unprefixed(step, prefix), ctx);
      return { ...record, key: step.key };
    }
    return this.#applyPolicy(step, ctx);
  }

  async #applyPolicy(step: PlanStep, ctx: ActionContext): Promise<StepRecord> {
    const at = () => ctx.now().toISOString();
    const change = changeSchema.safeParse(step.change);
    if (!change.success)
      return {
        key: step.key,
        state: 'failed',
        error: 'stored step is malformed; nothing was sent',
        at: at(),
      };
    if (step.state !== 'todo')
      return { key: step.key, state: 'skipped', error: step.reason ?? step.state, at: at() };
    ctx.signal.throwIfAborted();
    const { objects: client } = this.#clients(step.target.location);
    const c = change.data;
    try {
      if (c.op === 'create') {
        const obj = stampRequest(c.object, {
          requestId: ctx.requestId,
          requestedBy: ctx.requestedBy,
          reason: ctx.reason,
        });
        const existing = await readOrUndefined(client, header(obj.apiVersion, obj.kind, obj.metadata.name));
        if (existing !== undefined) {
          // Created by this request before a crash (our marker): done. Anything else is not ours to replace.
          if (existing.metadata?.annotations?.[REQUEST_ANNOTATION] === ctx.requestId) {
            return {
              key: step.key,
              state: 'applied',
              prior: { existed: false, requestId: ctx.requestId },
              at: at(),
            };
          }
          return {
            key: step.key,
            state: 'failed',
            error: `${obj.kind} ${obj.metadata.name} exists and was not created by this request`,
            at: at(),
          };
        }
        await client.create(obj as KubernetesObject);
        return {
          key: step.key,
          state: 'applied',
          prior: { existed: false, requestId: ctx.requestId },
          at: at(),
        };
      }
      const existing = await readOrUndefined(client, header(c.apiVersion, c.kind, c.name));
      if (existing === undefined)
        return { key: step.key, state: 'applied', prior: { existed: false }, at: at() };
      if (existing.metadata?.annotations?.[REQUEST_ANNOTATION] !== c.requestId) {
        return {
          key: step.key,
          state: 'skipped',
          error: `${c.kind} ${c.name} was not created by request ${c.requestId}; left in place`,
          at: at(),
        };
      }
      await client.delete(header(c.apiVersion, c.kind, c.name));
      return { key: step.key, state: 'applied', prior: { existed: true, requestId: c.requestId }, at: at() };
    } catch (err) {
      const code = statusOf(err);
      const why =
        code === 403
          ? 'forbidden (403): the actor role lacks this verb'
          : code === 409
            ? 'conflict (409)'
            : messageOf(err);
      return { key: step.key, state: 'failed', error: why, at: at() };
    }
  }

  /**
   * Release: delete what this quarantine created, bindings before policies, nothing else; then restore the
   * workloads it froze, from the prior values their freeze steps recorded.
   */
  inverse(plan: ActionPlan, records: StepRecord[], requestId = ''): ActionPlan {
    const release = this.#releasePolicies(plan, records);
    const { steps, records: frozen } = freezePart(plan, records);
    if (steps.length === 0 || !this.#freeze?.freeze.inverse) return release;
    return withUnfreezeSteps(
      release,
      this.#freeze.freeze.inverse({ ...plan, kind: 'freeze', steps }, frozen, requestId),
    );
  }

  #releasePolicies(plan: ActionPlan, records: StepRecord[]): ActionPlan {
    const createdBy = new Map<string, string>();
    for (const r of records) {
      const prior = priorSchema.safeParse(r.prior);
      if (r.state === 'applied' && prior.success) createdBy.set(r.key, prior.data.requestId);
    }
    const steps: PlanStep[] = [];
    for (const s of plan.steps) {
      const requestId = createdBy.get(s.key);
      if (requestId === undefined) continue;
      const c = changeSchema.safeParse(s.change);
      if (!c.success || c.data.op !== 'create') continue;
      const obj = c.data.object;
      steps.push({
        key: `${s.key}#release`,
        target: s.target,
        description: `delete ${obj.kind} ${obj.metadata.name}`,
        change: {
          op: 'delete',
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          requestId,
        },
        state: 'todo',
      });
    }
    steps.sort((a, b) =>
      a.target.kind === b.target.kind
        ? a.key.localeCompare(b.key)
        : a.target.kind === 'ValidatingAdmissionPolicyBinding'
          ? -1
          : 1,
    );
    return {
      kind: 'release',
      title: plan.title.replace(/^Quarantine/, 'Release quarantine of'),
      steps,
      environments: plan.environments,
      notes: [],
    };
  }
}
