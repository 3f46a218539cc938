import pLimit from 'p-limit';
import type { ClusterConfig } from '../../config.ts';
import {
  type ClusterGuardrails,
  type Engine,
  evaluateGuardrails,
  type GuardrailInputs,
  type GuardrailsReport,
  guardrailsReport,
  type SourceProblem,
} from '../../domain/provenance/guardrails.ts';
import { ScopeError } from '../../errors.ts';
import { KubeCluster } from './client.ts';

/** The API paths scope reads to judge signature enforcement; also the reader role's extra rules. */
export const GUARDRAIL_SOURCES = {
  namespaces: { path: '/api/v1/namespaces', resource: 'namespaces' },
  vap: {
    path: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
    resource: 'validatingadmissionpolicies.admissionregistration.k8s.io',
  },
  vapBindings: {
    path: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
    resource: 'validatingadmissionpolicybindings.admissionregistration.k8s.io',
  },
  kyvernoCluster: { path: '/apis/kyverno.io/v1/clusterpolicies', resource: 'clusterpolicies.kyverno.io' },
  kyvernoNamespaced: { path: '/apis/kyverno.io/v1/policies', resource: 'policies.kyverno.io' },
  clusterImagePolicies: {
    path: '/apis/policy.sigstore.dev/v1beta1/clusterimagepolicies',
    resource: 'clusterimagepolicies.policy.sigstore.dev',
  },
} as const;

const HINT =
  'grant list on namespaces, validatingadmissionpolicies(+bindings).admissionregistration.k8s.io, clusterpolicies/policies.kyverno.io and clusterimagepolicies.policy.sigstore.dev (deploy/kubernetes/rbac-reader.yaml)';

type Listed = { items: unknown[] } | { missing: true } | { problem: SourceProblem };

async function listSource(
  cluster: KubeCluster,
  source: { path: string; resource: string },
  engine: Engine | 'namespaces',
  signal: AbortSignal,
): Promise<Listed> {
  try {
    return { items: await cluster.listAll(source.path, source.resource, signal, HINT) };
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof ScopeError && err.code === 'NOT_FOUND') return { missing: true };
    const reason = err instanceof ScopeError && err.code === 'UPSTREAM_FORBIDDEN' ? 'forbidden' : 'error';
    const detail = err instanceof Error ? err.message : String(err);
    return { problem: { engine, reason, detail } };
  }
}

/** Lists what one cluster enforces and evaluates it; throws only when the cluster cannot be reached at all. */
export async function checkClusterGuardrails(
  cluster: KubeCluster,
  signal: AbortSignal,
): Promise<ClusterGuardrails> {
  const s = GUARDRAIL_SOURCES;
  const [namespaces, vaps, bindings, kyC, kyN, cips] = await Promise.all([
    listSource(cluster, s.namespaces, 'namespaces', signal),
    listSource(cluster, s.vap, 'vap', signal),
    listSource(cluster, s.vapBindings, 'vap', signal),
    listSource(cluster, s.kyvernoCluster, 'kyverno', signal),
    listSource(cluster, s.kyvernoNamespaced, 'kyverno', signal),
    listSource(cluster, s.clusterImagePolicies, 'policy-controller', signal),
  ]);
  const nsProblem = 'problem' in namespaces ? namespaces.problem : undefined;
  if (nsProblem?.reason === 'error' && [vaps, kyC, cips].every((l) => 'problem' in l)) {
    throw new ScopeError('UPSTREAM_UNAVAILABLE', nsProblem.detail);
  }
  const items = (l: Listed) => ('items' in l ? l.items : []);
  const problems: SourceProblem[] = [];
  const notInstalled = new Set<Engine>();
  const seen = new Set<string>();
  for (const [l, engine] of [
    [namespaces, 'namespaces'],
    [vaps, 'vap'],
    [bindings, 'vap'],
    [kyC, 'kyverno'],
    [kyN, 'kyverno'],
    [cips, 'policy-controller'],
  ] as const) {
    if ('problem' in l && !seen.has(`${engine}:${l.problem.detail}`)) {
      seen.add(`${engine}:${l.problem.detail}`);
      problems.push(l.problem);
    }
    if ('missing' in l && engine !== 'namespaces') notInstalled.add(engine);
  }
  const input: GuardrailInputs = {
    cluster: cluster.name,
    environment: cluster.environment,
    namespaces: items(namespaces),
    vaps: items(vaps),
    vapBindings: items(bindings),
    kyvernoPolicies: [
      ...items(kyC).map((p) => withKind(p, 'ClusterPolicy')),
      ...items(kyN).map((p) => withKind(p, 'Policy')),
    ],
    clusterImagePolicies: items(cips),
    notInstalled: [...notInstalled],
    problems,
  };
  return evaluateGuardrails(input);
}

function withKind(obj: unknown, kind: string): unknown {
  return typeof obj === 'object' && obj !== null ? { ...obj, kind } : obj;
}

/** Checks every configured cluster (or the named ones), a few at a time; a failing cluster is reported, not fatal. */
export async function checkFleetGuardrails(
  clusters: readonly ClusterConfig[],
  signal: AbortSignal,
  opts: { parallelism?: number; only?: string } = {},
): Promise<GuardrailsReport> {
  const chosen = opts.only ? clusters.filter((c) => c.name === opts.only) : clusters;
  const limit = pLimit(opts.parallelism ?? 4);
  const ok: ClusterGuardrails[] = [];
  const failed: GuardrailsReport['failed'] = [];
  await Promise.all(
    chosen.map((cfg) =>
      limit(async () => {
        const cluster = new KubeCluster(cfg);
        try {
          ok.push(await checkClusterGuardrails(cluster, signal));
        } catch (err) {
          if (signal.aborted) throw err;
          failed.push({
            cluster: cfg.name,
            environment: cfg.environment,
            error: err instanceof Error ? err.message : String(err),
          });
        } finally {
          await cluster.close();
        }
      }),
    ),
  );
  const order = (a: { cluster: string }, b: { cluster: string }) => a.cluster.localeCompare(b.cluster);
  return guardrailsReport(ok.sort(order), failed.sort(order));
}
