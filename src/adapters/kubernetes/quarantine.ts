import { ApiException, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ClusterConfig } from '../../config.ts';
import type {
  ActionContext,
  ActionExecutor,
  ActionPlan,
  ActionPlanner,
  PlanStep,
  StepRecord,
} from '../../domain/actions/contract.ts';
import { isDigest } from '../../domain/inventory/image-ref.ts';
import {
  DIGEST_ANNOTATION,
  MAX_REFERENCES,
  quarantineName,
  quarantineObjects,
  REQUEST_ANNOTATION,
  stampRequest,
} from '../../domain/provenance/quarantine.ts';
import { ScopeError } from '../../errors.ts';
import { KubeCluster } from './client.ts';
import { GUARDRAIL_SOURCES } from './guardrails.ts';

/** What a Quarantine button's offer stores server-side: the digest and the tags known to resolve to it. */
export const quarantineInputSchema = z
  .object({
    digest: z.string().refine(isDigest, 'a sha256 digest'),
    references: z.array(z.string().min(1).max(512)).max(MAX_REFERENCES).default([]),
    clusters: z.array(z.string()).optional(),
  })
  .strict();

export type QuarantineInput = z.input<typeof quarantineInputSchema>;

const manifestSchema = z
  .object({
    apiVersion: z.literal('admissionregistration.k8s.io/v1'),
    kind: z.enum(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
    metadata: z.object({
      name: z.string().regex(/^scope-quarantine-[0-9a-f]{16}$/),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()),
    }),
    spec: z.record(z.string(), z.unknown()),
  })
  .strict();

/** A stored step's `change`, validated before anything is sent: the plan read back from Redis is input too. */
const changeSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), object: manifestSchema }).strict(),
  z
    .object({
      op: z.literal('delete'),
      apiVersion: z.literal('admissionregistration.k8s.io/v1'),
      kind: z.enum(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
      name: z.string().regex(/^scope-quarantine-[0-9a-f]{16}$/),
      requestId: z.string().min(1),
    })
    .strict(),
]);

const priorSchema = z.object({ existed: z.literal(false), requestId: z.string().min(1) });

/** Reaches one cluster's objects; the only Kubernetes writes Quarantine makes go through here. */
export type ObjectClient = Pick<KubernetesObjectApi, 'create' | 'read' | 'delete'>;

export type ClusterClients = (cluster: string) => { config: ClusterConfig; objects: ObjectClient };

/** Builds object clients for configured clusters from their kubeconfigs (cached per cluster). */
export function kubeObjectClients(clusters: readonly ClusterConfig[]): ClusterClients {
  const cache = new Map<string, { config: ClusterConfig; objects: ObjectClient }>();
  return (name) => {
    const hit = cache.get(name);
    if (hit) return hit;
    const config = clusters.find((c) => c.name === name);
    if (!config) throw new Error(`cluster ${name} is not configured`);
    const entry = {
      config,
      objects: KubernetesObjectApi.makeApiClient(new KubeCluster(config).kubeConfig()),
    };
    cache.set(name, entry);
    return entry;
  };
}

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);
const messageOf = (err: unknown) =>
  err instanceof ApiException
    ? `HTTP ${err.code}${typeof err.body === 'string' ? '' : ''}`
    : err instanceof Error
      ? err.message
      : String(err);

async function readOrUndefined(
  client: ObjectClient,
  header: KubernetesObject,
): Promise<KubernetesObject | undefined> {
  try {
    return await client.read(header as Parameters<ObjectClient['read']>[0]);
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

const header = (apiVersion: string, kind: string, name: string): KubernetesObject => ({
  apiVersion,
  kind,
  metadata: { name },
});

/** True when the cluster serves ValidatingAdmissionPolicy (Kubernetes ≥ 1.30); otherwise why not. */
async function servesAdmissionPolicies(cfg: ClusterConfig, signal: AbortSignal): Promise<true | string> {
  const cluster = new KubeCluster(cfg);
  try {
    await cluster.listAll(
      GUARDRAIL_SOURCES.vap.path,
      GUARDRAIL_SOURCES.vap.resource,
      signal,
      'grant list on validatingadmissionpolicies.admissionregistration.k8s.io to the actor role',
    );
    return true;
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof ScopeError && err.code === 'NOT_FOUND') {
      return 'this cluster does not serve ValidatingAdmissionPolicy (Kubernetes ≥ 1.30 needed)';
    }
    return `cannot read admission policies here: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await cluster.close();
  }
}

/** Plans a quarantine in every configured cluster (or the chosen ones), reading what already exists. */
export class QuarantinePlanner implements ActionPlanner {
  readonly kind = 'quarantine' as const;
  readonly #clusters: readonly ClusterConfig[];
  readonly #clients: ClusterClients;
  readonly #references: ((digest: string) => Promise<string[]>) | undefined;

  /**
   * `references` looks up, at plan time, the image references the inventory has seen for the digest (running
   * and in history), so the policy also rejects the tags that resolve to it.
   */
  constructor(
    clusters: readonly ClusterConfig[],
    clients: ClusterClients = kubeObjectClients(clusters),
    references?: (digest: string) => Promise<string[]>,
  ) {
    this.#clusters = clusters;
    this.#clients = clients;
    this.#references = references;
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
    return {
      kind: 'quarantine',
      title: `Quarantine ${input.digest} in ${locations.length} cluster(s)`,
      steps,
      environments: [...new Set(chosen.map((c) => c.environment))].sort(),
      notes,
    };
  }
}

/** Creates (quarantine) or deletes (release) the scope-managed policy objects; recognises its own marker. */
export class QuarantineExecutor implements ActionExecutor {
  readonly kind: 'quarantine' | 'release';
  readonly inverseKind?: 'release';
  readonly #clients: ClusterClients;

  constructor(kind: 'quarantine' | 'release', clients: ClusterClients) {
    this.kind = kind;
    if (kind === 'quarantine') this.inverseKind = 'release';
    this.#clients = clients;
  }

  async apply(step: PlanStep, ctx: ActionContext): Promise<StepRecord> {
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

  /** Release: delete what this quarantine created, bindings before policies, nothing else. */
  inverse(plan: ActionPlan, records: StepRecord[]): ActionPlan {
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
    new QuarantinePlanner(creds, clients, references),
    new QuarantineExecutor('quarantine', clients),
  );
  registry.registerExecutor(new QuarantineExecutor('release', clients));
}
