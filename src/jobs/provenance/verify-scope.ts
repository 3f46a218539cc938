import pLimit from 'p-limit';
import { type ClusterCaveat, caveatsFor } from '../../domain/inventory/completeness.ts';
import type { PodRecord } from '../../domain/inventory/inventory.ts';
import {
  type DigestVerification,
  OUTCOME_ORDER,
  type OutcomeStatus,
} from '../../domain/provenance/outcome.ts';
import type { ProvenancePolicy } from '../../domain/provenance/policy.ts';
import type { ProvenancePorts } from '../../domain/provenance/ports.ts';
import { describeVerifyScope, type VerifyScope } from '../../domain/provenance/scope.ts';
import { type VerifyTarget, verifyDigest } from '../../domain/provenance/verify-digest.ts';
import { UserFacingError } from '../../errors.ts';
import type { SignerRecordWriter } from '../../store/provenance/signer-records.ts';
import type { VerificationCachePort } from '../../store/provenance/verification-cache.ts';
import { type InventoryReader, resolveDigest } from '../inventory-queries.ts';
import type { ClusterSyncState } from '../status.ts';
import type { FanOut } from './verify-chunks.ts';

/** Where a verified digest runs: one line per workload. */
export type RunsAt = {
  cluster: string;
  environment: string;
  namespace: string;
  workload: string;
  pods: number;
};

/** One digest's verification plus where it runs. */
export type VerifiedDigest = DigestVerification & { runsAt: RunsAt[] };

/** Answer to `/scope verify`: counts per outcome, every digest's result (failing first), and what was skipped. */
export type VerifyReport = {
  scope: string;
  policyVersion: string;
  trust: 'custom' | 'public-good';
  counts: Record<OutcomeStatus, number>;
  results: VerifiedDigest[];
  cached: number;
  /** Containers whose runtime reported no repo digest (nothing to verify). */
  withoutDigest: number;
  notRunning?: string;
  /**
   * Clusters in scope whose inventory is not current (never synced, failing, stale): what runs there is not
   * known, so the report can be no better than partial. Absent when every cluster in scope answered.
   */
  unanswered?: ClusterCaveat[];
  /** How many clusters the scope covers (answered or not). */
  clustersInScope?: number;
  generatedAt: string;
};

/**
 * What `/scope verify` needs: the verifier ports and policy, an optional cache, and how many digests at once.
 * `policy`, `ports` and `trust` may be getters over a swappable view (a TUF refresh); they are read once per run.
 */
export type VerifyPorts = {
  policy: ProvenancePolicy;
  ports: ProvenancePorts;
  trust: 'custom' | 'public-good';
  cache?: VerificationCachePort;
  /** Durable record of who signed each digest (signer-identity IOCs match against it). */
  signers?: SignerRecordWriter;
  concurrency?: number;
  /** Child jobs for large scopes (the worker provides it; the CLI verifies in process). */
  fanOut?: FanOut;
  /** Misses from which on `fanOut` is used. */
  fanOutFrom?: number;
};

/** Progress of a large scope, for a "working on it" message. */
export type VerifyProgress = (done: number, total: number) => void;

type Key = string;

export async function verifyScope(
  inv: InventoryReader,
  vp: VerifyPorts,
  scope: VerifyScope,
  now: Date,
  signal?: AbortSignal,
  progress?: VerifyProgress,
): Promise<VerifyReport> {
  const { pods, label, direct } = await podsInScope(inv, scope);
  const inScope = clustersInScope((await inv.syncStates()) as ClusterSyncState[], scope);
  const unanswered = caveatsFor(inScope, now);
  const targets = new Map<Key, { target: VerifyTarget; runsAt: Map<string, RunsAt> }>();
  let withoutDigest = 0;
  for (const p of pods) {
    for (const c of p.containers) {
      if (!c.digest || !c.repository) {
        withoutDigest++;
        continue;
      }
      if (scope.kind === 'digest' && direct?.digest !== c.digest) continue;
      const slash = c.repository.indexOf('/');
      const key = `${c.repository}@${c.digest}`;
      let t = targets.get(key);
      if (!t) {
        t = {
          target: {
            registry: c.repository.slice(0, slash),
            repository: c.repository.slice(slash + 1),
            digest: c.digest,
            ...(c.tag ? { tag: c.tag } : {}),
          },
          runsAt: new Map(),
        };
        targets.set(key, t);
      }
      const wk = `${p.cluster}|${p.namespace}|${p.workload.kind}/${p.workload.name}`;
      const at = t.runsAt.get(wk);
      if (at) at.pods++;
      else
        t.runsAt.set(wk, {
          cluster: p.cluster,
          environment: p.environment,
          namespace: p.namespace,
          workload: `${p.workload.kind.toLowerCase()}/${p.workload.name}`,
          pods: 1,
        });
    }
  }
  if (direct?.ref && targets.size === 0) {
    targets.set(`${direct.ref.registry}/${direct.ref.repository}@${direct.digest}`, {
      target: { registry: direct.ref.registry, repository: direct.ref.repository, digest: direct.digest },
      runsAt: new Map(),
    });
  }
  const list = [...targets.values()];
  // One view for the whole run, read in one synchronous step: a trusted-root refresh that lands meanwhile
  // applies to the next verification, never to half of this one.
  const { policy, ports, trust } = vp;
  const version = policy.version;
  const cached = vp.cache
    ? await vp.cache.getMany(
        version,
        list.map((t) => ({
          repository: `${t.target.registry}/${t.target.repository}`,
          digest: t.target.digest,
        })),
      )
    : list.map(() => undefined);
  const limit = pLimit(vp.concurrency ?? 32);
  let done = cached.filter(Boolean).length;
  progress?.(done, list.length);
  const misses = list.flatMap((_t, i) => (cached[i] ? [] : [i]));
  const fresh = new Map<number, DigestVerification>();
  if (vp.fanOut && misses.length >= (vp.fanOutFrom ?? 200)) {
    // Large scope: child jobs verify (and cache) chunks, spread over every worker.
    const out = await vp.fanOut(
      misses.map((i) => (list[i] as (typeof list)[number]).target),
      now,
      signal,
      (n) => {
        done += n;
        progress?.(done, list.length);
      },
      version,
    );
    for (const [k, i] of misses.entries()) fresh.set(i, out[k] as DigestVerification);
  } else {
    await Promise.all(
      misses.map((i) =>
        limit(async () => {
          signal?.throwIfAborted();
          const r = await verifyDigest(ports, policy, (list[i] as (typeof list)[number]).target, now, signal);
          fresh.set(i, r);
          progress?.(++done, list.length);
        }),
      ),
    );
    if (vp.cache && fresh.size) await vp.cache.putMany(version, [...fresh.values()]);
    // Fan-out chunks record their own results; these are the ones verified here.
    if (vp.signers && fresh.size) await vp.signers.record([...fresh.values()]);
  }
  const results = list.map((_, i) => (cached[i] ?? fresh.get(i)) as DigestVerification);
  const counts = Object.fromEntries(OUTCOME_ORDER.map((s) => [s, 0])) as Record<OutcomeStatus, number>;
  const withWhere: VerifiedDigest[] = results.map((r, i) => {
    counts[r.outcome.status]++;
    return { ...r, runsAt: [...(list[i]?.runsAt.values() ?? [])] };
  });
  withWhere.sort(
    (a, b) =>
      OUTCOME_ORDER.indexOf(a.outcome.status) - OUTCOME_ORDER.indexOf(b.outcome.status) ||
      b.runsAt.length - a.runsAt.length ||
      a.digest.localeCompare(b.digest),
  );
  return {
    scope: label,
    policyVersion: version,
    trust,
    counts,
    results: withWhere,
    cached: cached.filter(Boolean).length,
    withoutDigest,
    ...(direct && list.length === 0 ? { notRunning: direct.digest } : {}),
    ...(unanswered.length > 0 ? { unanswered, clustersInScope: inScope.length } : {}),
    generatedAt: now.toISOString(),
  };
}

/** The clusters a scope covers: the named cluster, an environment's clusters, or all (digest, image, all). */
function clustersInScope(states: readonly ClusterSyncState[], scope: VerifyScope): ClusterSyncState[] {
  if (scope.kind === 'env') return states.filter((s) => s.environment.toLowerCase() === scope.environment);
  if (scope.kind === 'cluster-or-image' && scope.cluster) {
    const named = states.filter((s) => s.cluster === scope.cluster?.cluster);
    if (named.length > 0) return named;
  }
  return [...states];
}

async function podsInScope(
  inv: InventoryReader,
  scope: VerifyScope,
): Promise<{
  pods: PodRecord[];
  label: string;
  direct?: { digest: string; ref?: { registry: string; repository: string } };
}> {
  const label = describeVerifyScope(scope);
  switch (scope.kind) {
    case 'digest': {
      const digest = await resolveDigest(inv, scope.query);
      const ref =
        scope.query.kind === 'image'
          ? { registry: scope.query.ref.registry, repository: scope.query.ref.repository }
          : undefined;
      return {
        pods: await inv.podsRunningDigest(digest),
        label,
        direct: { digest, ...(ref ? { ref } : {}) },
      };
    }
    case 'image':
      return {
        pods: await inv.podsRunningRepository(
          `${scope.query.registry}/${scope.query.repository}`,
          scope.query.tag,
        ),
        label,
      };
    case 'cluster-or-image': {
      const states = await inv.syncStates();
      if (scope.cluster && states.some((s) => s.cluster === scope.cluster?.cluster)) {
        return { pods: await inv.podsInCluster(scope.cluster.cluster, scope.cluster.namespace), label };
      }
      if (scope.image) {
        const q = scope.image;
        return {
          pods: await inv.podsRunningRepository(`${q.registry}/${q.repository}`, q.tag),
          label: `${q.registry}/${q.repository}${q.tag ? `:${q.tag}` : ''}`,
        };
      }
      throw new UserFacingError(
        'NOT_FOUND',
        `There is no cluster named ${scope.cluster?.cluster}.`,
        `Known clusters: ${states.map((s) => s.cluster).join(', ') || 'none configured'}.`,
      );
    }
    case 'env':
    case 'all': {
      const states = await inv.syncStates();
      const clusters = states.filter(
        (s) => scope.kind === 'all' || s.environment.toLowerCase() === scope.environment,
      );
      if (scope.kind === 'env' && clusters.length === 0) {
        throw new UserFacingError(
          'NOT_FOUND',
          `No cluster is in environment ${scope.environment}.`,
          `Environments: ${[...new Set(states.map((s) => s.environment))].join(', ') || 'none configured'}.`,
        );
      }
      const pods = (await Promise.all(clusters.map((c) => inv.podsInCluster(c.cluster)))).flat();
      return { pods, label };
    }
  }
}
