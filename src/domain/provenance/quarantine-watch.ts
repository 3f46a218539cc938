import type { StepRecord } from '../actions/contract.ts';
import type { ActionRequest } from '../actions/request.ts';
import { type ContainerRole, containerRole, type PodRecord } from '../inventory/inventory.ts';
import { DIGEST_ANNOTATION } from './quarantine.ts';

/**
 * Watching for a quarantined digest that starts running anyway. Admission only sees pod specs as they are
 * created, so a quarantine does not stop a container that restarts in a pod admitted earlier, a reference the
 * policy did not know, or a cluster where the policy was never (or is no longer) in force. The collector calls
 * `breaches` for every pod whose record gained a digest; each breach names precisely how the digest got in.
 * Pure: the stored request and step records in, breaches out.
 */

/** Where one quarantine is in force: per cluster, since when, or why not. */
export type QuarantineWatch = {
  requestId: string;
  digest: string;
  channelId: string;
  requestedBy: string;
  approvedBy: string[];
  /** Every reference spelling the policy rejects besides the digest itself (parsed from the stored rule). */
  spellings: string[];
  /** When the request finished; pods started before it are not breaches. */
  finishedAt: string;
  clusters: Record<string, { since: string } | { notInForce: string }>;
};

/** How a breach got past the quarantine: the one explanation the alert leads with. */
export type BreachCause =
  | { kind: 'not-in-force'; why: string }
  | { kind: 'admitted-before'; podStart: string; since: string }
  | { kind: 'unknown-reference'; reference: string }
  | { kind: 'rejected-reference'; reference: string };

/** One pod that started running a quarantined digest after the quarantine took effect. */
export type QuarantineBreach = {
  requestId: string;
  digest: string;
  cluster: string;
  environment: string;
  namespace: string;
  workload: { kind: string; name: string };
  pod: string;
  podUid: string;
  node?: string;
  containers: Array<{ name: string; role: ContainerRole; image: string; startedAt?: string }>;
  /** The earliest start among those containers (or the pod's), ISO. */
  startedAt: string;
  cause: BreachCause;
};

/**
 * The watch of one active quarantine request, or undefined when the stored request is not a quarantine with a
 * digest annotation (records read back from Redis are input: anything odd watches nothing rather than guesses).
 */
export function quarantineWatch(
  request: ActionRequest,
  records: ReadonlyMap<string, StepRecord>,
): QuarantineWatch | undefined {
  if (request.kind !== 'quarantine' || request.undoneBy) return undefined;
  let digest: string | undefined;
  let spellings: string[] = [];
  const perCluster = new Map<string, { applied: string[]; missing: string[] }>();
  for (const step of request.plan.steps) {
    const object = objectOf(step.change);
    const d = object?.metadata?.annotations?.[DIGEST_ANNOTATION];
    if (typeof d !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d)) continue;
    if (digest !== undefined && d !== digest) return undefined;
    digest = d;
    if (object?.kind === 'ValidatingAdmissionPolicy') {
      const rule = ruleOf(object);
      if (rule !== undefined) spellings = celListLiterals(rule);
    }
    const cluster = step.target.location;
    const entry = perCluster.get(cluster) ?? { applied: [], missing: [] };
    perCluster.set(cluster, entry);
    const record = records.get(step.key);
    if (step.state === 'already-done') entry.applied.push(request.finishedAt ?? request.createdAt);
    else if (record?.state === 'applied') entry.applied.push(record.at);
    else
      entry.missing.push(
        `${step.target.kind} was ${record ? `${record.state}${record.error ? `: ${record.error}` : ''}` : `not created${step.reason ? `: ${step.reason}` : ''}`}`,
      );
  }
  if (digest === undefined) return undefined;
  const clusters: QuarantineWatch['clusters'] = {};
  for (const [cluster, e] of perCluster) {
    clusters[cluster] =
      e.missing.length > 0
        ? { notInForce: e.missing.join('; ') }
        : { since: [...e.applied].sort().at(-1) ?? '' };
  }
  return {
    requestId: request.id,
    digest,
    channelId: request.channelId,
    requestedBy: request.requestedBy,
    approvedBy: request.approvals.map((a) => a.userId),
    spellings,
    finishedAt: request.finishedAt ?? request.createdAt,
    clusters,
  };
}

/**
 * The breaches one pod shows for the digests it newly runs. A container counts only when it started (or, without
 * a start time, its pod started) at or after the quarantine took effect in that cluster: a pod that was already
 * running the digest is old exposure, not a breach.
 */
export function breaches(
  pod: PodRecord,
  digests: Iterable<string>,
  watches: ReadonlyMap<string, readonly QuarantineWatch[]>,
  now: Date,
): QuarantineBreach[] {
  const out: QuarantineBreach[] = [];
  for (const digest of digests) {
    for (const w of watches.get(digest) ?? []) {
      const inForce = w.clusters[pod.cluster];
      const since = inForce && 'since' in inForce ? inForce.since : w.finishedAt;
      const containers = pod.containers
        .filter((c) => c.digest === digest)
        .map((c) => ({
          name: c.name,
          role: containerRole(c),
          image: c.image,
          ...(c.startedAt ? { startedAt: c.startedAt } : {}),
        }));
      const started = containers
        .map((c) => c.startedAt ?? pod.startTime ?? now.toISOString())
        .filter((t) => t >= since)
        .sort();
      const first = started[0];
      if (first === undefined) continue;
      out.push({
        requestId: w.requestId,
        digest,
        cluster: pod.cluster,
        environment: pod.environment,
        namespace: pod.namespace,
        workload: { kind: pod.workload.kind, name: pod.workload.name },
        pod: pod.name,
        podUid: pod.uid,
        ...(pod.node ? { node: pod.node } : {}),
        containers,
        startedAt: first,
        cause: causeOf(pod, containers, w, digest),
      });
    }
  }
  return out;
}

function causeOf(
  pod: PodRecord,
  containers: QuarantineBreach['containers'],
  w: QuarantineWatch,
  digest: string,
): BreachCause {
  const inForce = w.clusters[pod.cluster];
  if (!inForce) return { kind: 'not-in-force', why: 'the quarantine was not planned for this cluster' };
  if ('notInForce' in inForce) return { kind: 'not-in-force', why: inForce.notInForce };
  if (pod.startTime && pod.startTime < inForce.since)
    return { kind: 'admitted-before', podStart: pod.startTime, since: inForce.since };
  const spellings = new Set(w.spellings);
  const unknown = containers.find((c) => !c.image.endsWith(`@${digest}`) && !spellings.has(c.image));
  if (unknown) return { kind: 'unknown-reference', reference: unknown.image };
  return { kind: 'rejected-reference', reference: containers[0]?.image ?? '' };
}

type LooseObject = { kind?: unknown; metadata?: { annotations?: Record<string, unknown> }; spec?: unknown };

function objectOf(change: unknown): LooseObject | undefined {
  if (typeof change !== 'object' || change === null) return undefined;
  const object = (change as { object?: unknown }).object;
  return typeof object === 'object' && object !== null ? (object as LooseObject) : undefined;
}

function ruleOf(object: LooseObject): string | undefined {
  const spec = object.spec as { validations?: Array<{ expression?: unknown }> } | undefined;
  const expression = spec?.validations?.[0]?.expression;
  return typeof expression === 'string' ? expression : undefined;
}

/**
 * The single-quoted string literals inside the `in [...]` list of a quarantine rule, unescaped exactly as
 * `quarantineExpressions` escaped them (`\\` and `\'`). Anything else yields no spellings.
 */
export function celListLiterals(rule: string): string[] {
  const start = rule.indexOf(' in [');
  if (start < 0) return [];
  const out: string[] = [];
  let i = start + 5;
  while (i < rule.length) {
    const ch = rule[i];
    if (ch === ']') return out;
    if (ch === ' ' || ch === ',') {
      i++;
      continue;
    }
    if (ch !== "'") return [];
    let value = '';
    i++;
    while (i < rule.length && rule[i] !== "'") {
      if (rule[i] === '\\' && i + 1 < rule.length) i++;
      value += rule[i];
      i++;
    }
    if (i >= rule.length) return [];
    out.push(value);
    i++;
  }
  return [];
}
