import pLimit from 'p-limit';
import type { ActionPlan, ActionPlanner, PlanStep } from '../../../domain/actions/contract.ts';
import {
  automationsWritingTo,
  isRootSyncObject,
  nearestOwner,
  type OwnerRef,
  ownsApplications,
} from '../../../domain/freeze/gitops.ts';
import {
  apiPath,
  isFreezableKind,
  KINDS,
  type KindSpec,
  type RawObject,
  WORKLOAD_KINDS,
} from '../../../domain/freeze/kinds.ts';
import { type FreezeSelector, freezeInputSchema, stepKey } from '../../../domain/freeze/plan.ts';
import { UserFacingError } from '../../../errors.ts';
import { type KubeObjects, KubeRequestError } from '../objects.ts';

/** GitOps settings the planner needs. */
export type GitopsSettings = { argoNamespace: string; roots: readonly string[] };

const NOT_FREEZABLE: Record<string, string> = {
  Job: 'a Job has no update path to freeze (it runs once); quarantine or delete it instead',
  Pod: 'a bare Pod has no update path to freeze; quarantine or delete it instead',
  ReplicaSet: 'a bare ReplicaSet has no rollout to pause; scale or delete it instead',
};

/** Computes a Freeze plan against the live clusters: every object and the exact field change. */
export class FreezePlanner implements ActionPlanner {
  readonly kind = 'freeze' as const;
  readonly #clusters: ReadonlyMap<string, KubeObjects>;
  readonly #gitops: GitopsSettings;

  constructor(clusters: ReadonlyMap<string, KubeObjects>, gitops: GitopsSettings) {
    this.#clusters = clusters;
    this.#gitops = gitops;
  }

  async plan(input: unknown, signal: AbortSignal): Promise<ActionPlan> {
    const parsed = freezeInputSchema.safeParse(input);
    if (!parsed.success) throw new UserFacingError('BAD_INPUT', 'the freeze request names no valid targets');
    const byCluster = new Map<string, FreezeSelector[]>();
    const notes: string[] = [];
    for (const sel of parsed.data.selectors) {
      const names = sel.cluster
        ? [sel.cluster]
        : [...this.#clusters.values()].filter((c) => c.environment === sel.environment).map((c) => c.cluster);
      if (names.length === 0) notes.push(`No configured cluster is in environment "${sel.environment}".`);
      for (const n of names) {
        if (!this.#clusters.has(n)) {
          throw new UserFacingError(
            'NOT_FOUND',
            `scope has no cluster named "${n}"`,
            'See /scope status for the configured clusters.',
          );
        }
        byCluster.set(n, [...(byCluster.get(n) ?? []), sel]);
      }
    }
    const limit = pLimit(8);
    const parts = await Promise.all(
      [...byCluster].map(([name, sels]) =>
        limit(() =>
          new ClusterPlanner(this.#clusters.get(name) as KubeObjects, this.#gitops, signal).plan(sels),
        ),
      ),
    );
    const steps = parts.flatMap((p) => p.steps);
    notes.push(...parts.flatMap((p) => p.notes));
    const todo = steps.filter((s) => s.state === 'todo').length;
    const clusters = [...byCluster.keys()];
    return {
      kind: 'freeze',
      title: `Freeze deploys: ${todo} object${todo === 1 ? '' : 's'} to change in ${clusters.join(', ')}`,
      steps,
      environments: [...new Set(steps.map((s) => s.target.environment))],
      notes,
    };
  }
}

/** One cluster's share of a plan; caches owner lookups so a shared owner is fetched and listed once. */
class ClusterPlanner {
  readonly #c: KubeObjects;
  readonly #gitops: GitopsSettings;
  readonly #signal: AbortSignal;
  readonly #steps = new Map<string, PlanStep>();
  readonly #notes: string[] = [];
  readonly #owners = new Map<string, Promise<void>>();
  #apps: Promise<RawObject[]> | undefined;
  #automations: Promise<RawObject[]> | undefined;

  constructor(c: KubeObjects, gitops: GitopsSettings, signal: AbortSignal) {
    this.#c = c;
    this.#gitops = gitops;
    this.#signal = signal;
  }

  async plan(selectors: readonly FreezeSelector[]): Promise<{ steps: PlanStep[]; notes: string[] }> {
    try {
      for (const sel of selectors) {
        const workloads = await this.#resolve(sel);
        for (const w of workloads) await this.#addWorkload(w.spec, w.obj);
      }
    } catch (err) {
      if (!(err instanceof KubeRequestError)) throw err;
      this.#notes.push(
        `Cluster ${this.#c.cluster} could not be planned: ${err.message}. Nothing there is in the plan.`,
      );
      this.#steps.set(`${this.#c.cluster}/Cluster/-/${this.#c.cluster}`, {
        key: `${this.#c.cluster}/Cluster/-/${this.#c.cluster}`,
        target: this.#target('Cluster', undefined, this.#c.cluster),
        description: 'every matching workload',
        change: null,
        state: 'impossible',
        reason: `cluster did not answer: ${err.message}`,
      });
    }
    // GitOps owners first: they are frozen before the workloads they would otherwise revert.
    const steps = [...this.#steps.values()].sort((a, b) => Number(!a.ownerOf) - Number(!b.ownerOf));
    return { steps, notes: this.#notes };
  }

  #target(kind: string, namespace: string | undefined, name: string) {
    return {
      system: 'kubernetes' as const,
      location: this.#c.cluster,
      environment: this.#c.environment,
      kind,
      ...(namespace ? { namespace } : {}),
      name,
    };
  }

  async #resolve(sel: FreezeSelector): Promise<Array<{ spec: KindSpec; obj: RawObject }>> {
    const ns = sel.namespace;
    if (sel.name && ns) {
      if (sel.kind && !isFreezableKind(sel.kind)) {
        const key = stepKey(this.#c.cluster, sel.kind, ns, sel.name);
        this.#steps.set(key, {
          key,
          target: this.#target(sel.kind, ns, sel.name),
          description: 'no update path',
          change: null,
          state: 'impossible',
          reason: NOT_FREEZABLE[sel.kind] ?? `scope cannot freeze a ${sel.kind}`,
        });
        return [];
      }
      const kinds = sel.kind ? [KINDS[sel.kind as keyof typeof KINDS]] : WORKLOAD_KINDS.map((k) => KINDS[k]);
      const found: Array<{ spec: KindSpec; obj: RawObject }> = [];
      for (const spec of kinds) {
        const obj = await this.#getOrUndefined(apiPath(spec, ns, sel.name));
        if (obj) found.push({ spec, obj });
      }
      if (found.length === 0) {
        const kind = sel.kind ?? 'Workload';
        const key = stepKey(this.#c.cluster, kind, ns, sel.name);
        this.#steps.set(key, {
          key,
          target: this.#target(kind, ns, sel.name),
          description: 'not found',
          change: null,
          state: 'impossible',
          reason: `no ${sel.kind ?? 'Deployment, StatefulSet, DaemonSet, CronJob or Rollout'} named ${sel.name} in namespace ${ns}`,
        });
      }
      return found;
    }
    const found: Array<{ spec: KindSpec; obj: RawObject }> = [];
    for (const k of WORKLOAD_KINDS) {
      const spec = KINDS[k];
      let items: RawObject[];
      try {
        items = (await this.#c.list(apiPath(spec, ns), this.#signal)) as RawObject[];
      } catch (err) {
        if (
          err instanceof KubeRequestError &&
          err.status === 404 &&
          spec.group !== 'apps' &&
          spec.group !== 'batch'
        )
          continue;
        throw err;
      }
      for (const obj of items) found.push({ spec, obj });
    }
    return found;
  }

  async #getOrUndefined(path: string): Promise<RawObject | undefined> {
    try {
      return (await this.#c.get(path, this.#signal)) as RawObject;
    } catch (err) {
      if (err instanceof KubeRequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  #stepFor(spec: KindSpec, obj: RawObject, ownerOf?: string): PlanStep {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? '';
    const key = stepKey(this.#c.cluster, spec.kind, ns, name);
    const frozen = spec.isFrozen(obj);
    return {
      key,
      target: this.#target(spec.kind, ns, name),
      description: frozen
        ? `${spec.field} is already frozen: left as it is (and left alone by Unfreeze)`
        : spec.describe(obj),
      change: { kind: spec.kind, path: apiPath(spec, ns, name) },
      state: frozen ? 'already-done' : 'todo',
      ...(ownerOf ? { ownerOf } : {}),
    };
  }

  async #addWorkload(spec: KindSpec, obj: RawObject): Promise<void> {
    const step = this.#stepFor(spec, obj);
    if (this.#steps.has(step.key)) return;
    this.#steps.set(step.key, step);
    const owner = nearestOwner(obj, this.#gitops.argoNamespace);
    if (owner) await this.#addOwner(owner, step.key);
  }

  #addOwner(owner: OwnerRef, ownerOf: string): Promise<void> {
    const id = `${owner.kind}/${owner.namespace}/${owner.name}`;
    let p = this.#owners.get(id);
    if (!p) {
      p = this.#planOwner(owner, ownerOf);
      this.#owners.set(id, p);
    }
    return p;
  }

  async #planOwner(owner: OwnerRef, ownerOf: string): Promise<void> {
    const spec = KINDS[owner.kind];
    const obj = await this.#getOrUndefinedCrd(apiPath(spec, owner.namespace, owner.name));
    if (!obj) {
      if (!owner.tentative) {
        this.#notes.push(
          `${ownerOf} names ${owner.kind} ${owner.namespace}/${owner.name} as its owner (${owner.via}), but it does not exist in ${this.#c.cluster}.`,
        );
      }
      return;
    }
    let managesApps = false;
    if (owner.kind === 'Application') {
      this.#apps ??= this.#listCrd(apiPath(KINDS.Application, undefined));
      managesApps = ownsApplications(
        owner.name,
        owner.namespace,
        await this.#apps,
        this.#gitops.argoNamespace,
      );
    }
    if (isRootSyncObject(owner, this.#gitops.roots, managesApps)) {
      const key = stepKey(this.#c.cluster, owner.kind, owner.namespace, owner.name);
      this.#steps.set(key, {
        key,
        target: this.#target(owner.kind, owner.namespace, owner.name),
        description: 'root sync object: not suspended',
        change: null,
        state: 'impossible',
        reason:
          'this is the cluster’s root sync object; suspending it would stop GitOps for every team. The frozen workloads may be reverted by it: freeze in git too.',
        ownerOf,
      });
      return;
    }
    const step = this.#stepFor(spec, obj, ownerOf);
    this.#steps.set(step.key, step);
    if (owner.kind === 'Kustomization') {
      this.#automations ??= this.#listCrd(apiPath(KINDS.ImageUpdateAutomation, undefined));
      for (const a of automationsWritingTo(obj, await this.#automations)) {
        const s = this.#stepFor(KINDS.ImageUpdateAutomation, a, step.key);
        if (!this.#steps.has(s.key)) this.#steps.set(s.key, s);
      }
    }
  }

  /** A custom resource that may not be installed: 404 on the kind means "none". */
  async #getOrUndefinedCrd(path: string): Promise<RawObject | undefined> {
    return this.#getOrUndefined(path);
  }

  async #listCrd(path: string): Promise<RawObject[]> {
    try {
      return (await this.#c.list(path, this.#signal)) as RawObject[];
    } catch (err) {
      if (err instanceof KubeRequestError && err.status === 404) return [];
      throw err;
    }
  }
}
