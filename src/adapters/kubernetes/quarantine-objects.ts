import { ApiException, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ClusterConfig } from '../../config.ts';
import { isDigest } from '../../domain/inventory/image-ref.ts';
import { MAX_REFERENCES } from '../../domain/provenance/quarantine.ts';
import { ScopeError } from '../../errors.ts';
import { KubeCluster } from './client.ts';
import { GUARDRAIL_SOURCES } from './guardrails.ts';

/** What a Quarantine button's offer stores server-side: the digest and the tags known to resolve to it. */
export const quarantineInputSchema = z
  .object({
    digest: z.string().refine(isDigest, 'a sha256 digest'),
    references: z.array(z.string().min(1).max(512)).max(MAX_REFERENCES).default([]),
    clusters: z.array(z.string()).optional(),
    /** Also freeze deploys of the workloads that run the digest when the plan is made. */
    freeze: z.boolean().optional(),
  })
  .strict();

export type QuarantineInput = z.input<typeof quarantineInputSchema>;

export const manifestSchema = z
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
export const changeSchema = z.discriminatedUnion('op', [
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

export const priorSchema = z.object({ existed: z.literal(false), requestId: z.string().min(1) });

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

export const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);
export const messageOf = (err: unknown) =>
  err instanceof ApiException
    ? `HTTP ${err.code}${typeof err.body === 'string' ? '' : ''}`
    : err instanceof Error
      ? err.message
      : String(err);

export async function readOrUndefined(
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

export const header = (apiVersion: string, kind: string, name: string): KubernetesObject => ({
  apiVersion,
  kind,
  metadata: { name },
});

/** True when the cluster serves ValidatingAdmissionPolicy (Kubernetes ≥ 1.30); otherwise why not. */
export async function servesAdmissionPolicies(
  cfg: ClusterConfig,
  signal: AbortSignal,
): Promise<true | string> {
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
