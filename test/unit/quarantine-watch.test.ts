import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../../src/domain/actions/contract.ts';
import type { ActionRequest } from '../../src/domain/actions/request.ts';
import { parseDigest } from '../../src/domain/inventory/image-ref.ts';
import type { PodRecord } from '../../src/domain/inventory/inventory.ts';
import { quarantineObjects, referenceSpellings } from '../../src/domain/provenance/quarantine.ts';
import {
  breaches,
  celListLiterals,
  type QuarantineWatch,
  quarantineWatch,
} from '../../src/domain/provenance/quarantine-watch.ts';

const DIGEST = parseDigest(`sha256:${'ab'.repeat(32)}`);
const OTHER = `sha256:${'cd'.repeat(32)}`;
const APPLIED = '2026-12-02T03:00:00.000Z';
const FINISHED = '2026-12-02T03:00:05.000Z';

function request(over: Partial<ActionRequest> = {}, references = ['registry.example.com/vendor/agent:5.2']) {
  const { policy, binding } = quarantineObjects({ digest: DIGEST, references });
  const step = (cluster: string, obj: typeof policy, state: 'todo' | 'impossible' = 'todo') => ({
    key: `${cluster}/${obj.kind}/${obj.metadata.name}`,
    target: {
      system: 'kubernetes' as const,
      location: cluster,
      environment: 'prod',
      kind: obj.kind,
      name: obj.metadata.name,
    },
    description: 'create',
    change: { op: 'create', object: obj },
    state,
    ...(state === 'impossible' ? { reason: 'Kubernetes ≥ 1.30 needed' } : {}),
  });
  const r: ActionRequest = {
    id: 'a'.repeat(32),
    kind: 'quarantine',
    rev: 5,
    state: 'partial',
    requestedBy: 'U0RESPONDER',
    reason: 'compromised',
    channelId: 'C0INCIDENT',
    createdAt: '2026-12-02T02:59:00.000Z',
    expiresAt: '2026-12-02T04:00:00.000Z',
    finishedAt: FINISHED,
    plan: {
      kind: 'quarantine',
      title: 'Quarantine',
      environments: ['prod'],
      notes: [],
      steps: [
        step('prod-eu', policy),
        step('prod-eu', binding),
        step('legacy', policy, 'impossible'),
        step('legacy', binding, 'impossible'),
      ],
    },
    approvals: [{ userId: 'U0APPROVER1', at: APPLIED }],
    executions: 1,
    ...over,
  };
  const records = new Map<string, StepRecord>(
    r.plan.steps
      .filter((s) => s.target.location === 'prod-eu')
      .map((s) => [s.key, { key: s.key, state: 'applied', at: APPLIED }]),
  );
  return { r, records };
}

function pod(over: Partial<PodRecord> & { image?: string; startedAt?: string } = {}): PodRecord {
  const {
    image = 'registry.example.com/vendor/agent:5.2',
    startedAt = '2026-12-02T03:10:00Z',
    ...rest
  } = over;
  return {
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'agents',
    name: 'agent-7f9-abc',
    uid: 'uid-1',
    startTime: '2026-12-02T03:09:58Z',
    workload: { kind: 'Deployment', name: 'agent' },
    containers: [{ name: 'agent', type: 'container', image, digest: DIGEST, startedAt }],
    ...rest,
  };
}

const watchOf = (w: QuarantineWatch | undefined) => new Map(w ? [[w.digest, [w]]] : []);
const NOW = new Date('2026-12-02T03:15:00Z');

describe('the watch of a stored quarantine request', () => {
  it('knows the digest, the policy spellings, and per cluster whether it is in force and since when', () => {
    const { r, records } = request();
    const w = quarantineWatch(r, records);
    expect(w?.digest).toBe(DIGEST);
    expect(w?.spellings).toEqual(referenceSpellings(['registry.example.com/vendor/agent:5.2']));
    expect(w?.clusters['prod-eu']).toEqual({ since: APPLIED });
    expect(w?.clusters.legacy).toEqual({
      notInForce:
        'ValidatingAdmissionPolicy was not created: Kubernetes ≥ 1.30 needed; ValidatingAdmissionPolicyBinding was not created: Kubernetes ≥ 1.30 needed',
    });
  });

  it('watches nothing for a released request, another kind, or steps naming two digests', () => {
    const { r, records } = request();
    expect(quarantineWatch({ ...r, undoneBy: 'b'.repeat(32) }, records)).toBeUndefined();
    expect(quarantineWatch({ ...r, kind: 'freeze' }, records)).toBeUndefined();
    const tampered = structuredClone(r);
    const obj = (
      (tampered.plan.steps[1] as { change: unknown }).change as {
        object: { metadata: { annotations: Record<string, string> } };
      }
    ).object;
    obj.metadata.annotations['scope.dev/quarantined-digest'] = OTHER;
    expect(quarantineWatch(tampered, records)).toBeUndefined();
  });

  it('a binding that failed keeps the cluster out of force, with the error', () => {
    const { r, records } = request();
    const binding = r.plan.steps[1]?.key as string;
    records.set(binding, { key: binding, state: 'failed', error: 'forbidden (403)', at: APPLIED });
    expect(quarantineWatch(r, records)?.clusters['prod-eu']).toEqual({
      notInForce: 'ValidatingAdmissionPolicyBinding was failed: forbidden (403)',
    });
  });

  it('reads back exactly the spellings it wrote, hostile quotes and backslashes included', () => {
    const refs = ["evil.example/x:a'b", 'evil.example/y:c\\d', 'nginx:1.25'];
    const { policy } = quarantineObjects({ digest: DIGEST, references: refs });
    const rule = (policy.spec.validations as Array<{ expression: string }>)[0]?.expression as string;
    expect(celListLiterals(rule)).toEqual(referenceSpellings(refs));
    expect(celListLiterals("!variables.images.exists(i, i.endsWith('@x'))")).toEqual([]);
    expect(celListLiterals("x in ['unterminated")).toEqual([]);
  });
});

describe('breaches: a pod that starts running a quarantined digest', () => {
  const { r, records } = request();
  const w = quarantineWatch(r, records);

  it('a container started after the quarantine took effect is a breach; one started before is old exposure', () => {
    expect(breaches(pod(), [DIGEST], watchOf(w), NOW)).toHaveLength(1);
    expect(
      breaches(
        pod({ startedAt: '2026-12-02T02:00:00Z', startTime: '2026-12-02T01:59:00Z' }),
        [DIGEST],
        watchOf(w),
        NOW,
      ),
    ).toEqual([]);
    expect(breaches(pod(), [OTHER], watchOf(w), NOW)).toEqual([]);
  });

  it('says how: a reference the policy rejects, one it does not list, a pod admitted before, a cluster not in force', () => {
    const cause = (p: PodRecord) => breaches(p, [DIGEST], watchOf(w), NOW)[0]?.cause;
    expect(cause(pod())).toEqual({
      kind: 'rejected-reference',
      reference: 'registry.example.com/vendor/agent:5.2',
    });
    expect(cause(pod({ image: `registry.example.com/vendor/agent@${DIGEST}` }))?.kind).toBe(
      'rejected-reference',
    );
    expect(cause(pod({ image: 'registry.example.com/vendor/agent:latest' }))).toEqual({
      kind: 'unknown-reference',
      reference: 'registry.example.com/vendor/agent:latest',
    });
    expect(cause(pod({ startTime: '2026-12-01T00:00:00Z' }))).toEqual({
      kind: 'admitted-before',
      podStart: '2026-12-01T00:00:00Z',
      since: APPLIED,
    });
    expect(cause(pod({ cluster: 'legacy' }))?.kind).toBe('not-in-force');
    expect(cause(pod({ cluster: 'unplanned' }))).toEqual({
      kind: 'not-in-force',
      why: 'the quarantine was not planned for this cluster',
    });
  });

  it('names each container running the digest with its role', () => {
    const p = pod();
    p.containers.push(
      {
        name: 'vendor',
        type: 'init',
        sidecar: true,
        image: 'x:1',
        digest: DIGEST,
        startedAt: '2026-12-02T03:10:01Z',
      },
      { name: 'other', type: 'container', image: 'y:1', digest: OTHER },
    );
    const [b] = breaches(p, [DIGEST], watchOf(w), NOW);
    expect(b?.containers.map((c) => `${c.name}:${c.role}`)).toEqual(['agent:app', 'vendor:sidecar']);
    expect(b?.startedAt).toBe('2026-12-02T03:10:00Z');
  });
});

describe('the watch read back from a stored request is input: odd steps watch nothing rather than guess', () => {
  it('skips steps whose change is not an object with a digest annotation, and watches nothing without one', () => {
    const { r, records } = request();
    const odd = (change: unknown) => ({
      ...(r.plan.steps[0] as ActionRequest['plan']['steps'][number]),
      change,
    });
    for (const change of [null, 'x', {}, { object: null }, { object: 'x' }, { object: { metadata: {} } }]) {
      expect(quarantineWatch({ ...r, plan: { ...r.plan, steps: [odd(change)] } }, records)).toBeUndefined();
    }
    const notADigest = {
      object: {
        kind: 'ValidatingAdmissionPolicy',
        metadata: { annotations: { 'scope.dev/quarantined-digest': `x${DIGEST}` } },
      },
    };
    expect(quarantineWatch({ ...r, plan: { ...r.plan, steps: [odd(notADigest)] } }, records)).toBeUndefined();
    const trailing = structuredClone(notADigest);
    trailing.object.metadata.annotations['scope.dev/quarantined-digest'] = `${DIGEST}0`;
    expect(quarantineWatch({ ...r, plan: { ...r.plan, steps: [odd(trailing)] } }, records)).toBeUndefined();
    // One odd step among good ones is skipped; the rest still watch.
    const mixed = { ...r, plan: { ...r.plan, steps: [odd(null), ...r.plan.steps] } };
    expect(quarantineWatch(mixed, records)?.digest).toBe(DIGEST);
  });

  it('a policy without a readable rule rejects only the digest (no spellings), and nothing throws', () => {
    const { r, records } = request();
    const steps = r.plan.steps.map((s) => {
      const c = structuredClone(s.change) as { object: { kind: string; spec: Record<string, unknown> } };
      if (c.object.kind === 'ValidatingAdmissionPolicy') c.object.spec = {};
      return { ...s, change: c };
    });
    const w = quarantineWatch({ ...r, plan: { ...r.plan, steps } }, records);
    expect(w?.spellings).toEqual([]);
    // The binding's spec has no rule: only the policy's rule gives spellings.
    const bindingOnly = quarantineWatch(
      {
        ...r,
        plan: { ...r.plan, steps: r.plan.steps.filter((s) => s.target.kind !== 'ValidatingAdmissionPolicy') },
      },
      records,
    );
    expect(bindingOnly?.spellings).toEqual([]);
    expect(bindingOnly?.digest).toBe(DIGEST);
  });

  it('in force since the later of the two objects; an already-existing quarantine counts from when the request finished', () => {
    const { r, records } = request();
    const [policy, binding] = r.plan.steps as [PlanStepOf, PlanStepOf];
    records.set(policy.key, { key: policy.key, state: 'applied', at: '2026-12-02T03:00:01.000Z' });
    records.set(binding.key, { key: binding.key, state: 'applied', at: '2026-12-02T03:00:03.000Z' });
    expect(quarantineWatch(r, records)?.clusters['prod-eu']).toEqual({ since: '2026-12-02T03:00:03.000Z' });
    const already = {
      ...r,
      plan: { ...r.plan, steps: r.plan.steps.map((s) => ({ ...s, state: 'already-done' as const })) },
    };
    expect(quarantineWatch(already, new Map())?.clusters['prod-eu']).toEqual({ since: FINISHED });
    const unfinished = { ...already, finishedAt: undefined } as unknown as ActionRequest;
    const w = quarantineWatch(unfinished, new Map());
    expect(w?.clusters['prod-eu']).toEqual({ since: r.createdAt });
    expect(w?.finishedAt).toBe(r.createdAt);
  });

  it('carries who asked and who approved, and the request finish time', () => {
    const { r, records } = request();
    const w = quarantineWatch(r, records);
    expect(w).toMatchObject({
      requestId: r.id,
      channelId: 'C0INCIDENT',
      requestedBy: 'U0RESPONDER',
      approvedBy: ['U0APPROVER1'],
      finishedAt: FINISHED,
    });
  });
});

type PlanStepOf = ActionRequest['plan']['steps'][number];

describe('breaches: the time rules, exactly', () => {
  const { r, records } = request();
  const w = quarantineWatch(r, records);

  it('a container that started at the very moment the quarantine took effect is a breach; the pod is named with its node', () => {
    const [b] = breaches(
      pod({ startedAt: APPLIED, startTime: APPLIED, node: 'node-7' }),
      [DIGEST],
      watchOf(w),
      NOW,
    );
    expect(b).toMatchObject({ startedAt: APPLIED, node: 'node-7', podUid: 'uid-1', pod: 'agent-7f9-abc' });
    // A pod that started at that same moment was admitted after, not before.
    expect(b?.cause.kind).toBe('rejected-reference');
  });

  it('counts from when the quarantine took effect in that cluster, not from when the request finished', () => {
    // Applied at 03:00:00, request finished 03:00:05: a container started in between is a breach.
    expect(
      breaches(
        pod({ startedAt: '2026-12-02T03:00:02Z', startTime: '2026-12-02T03:00:01Z' }),
        [DIGEST],
        watchOf(w),
        NOW,
      ),
    ).toHaveLength(1);
  });

  it('where the quarantine is not in force, counts from when the request finished', () => {
    const at = (t: string) =>
      breaches(pod({ cluster: 'legacy', startedAt: t, startTime: t }), [DIGEST], watchOf(w), NOW);
    expect(at('2026-12-02T03:00:02Z')).toEqual([]);
    expect(at('2026-12-02T03:00:06Z')).toHaveLength(1);
  });

  it('the breach starts with the earliest container on the digest, and each container keeps its own start', () => {
    const p = pod({ startedAt: '2026-12-02T03:12:00Z' });
    p.containers.push({
      name: 'early',
      type: 'container',
      image: 'x:1',
      digest: DIGEST,
      startedAt: '2026-12-02T03:11:00Z',
    });
    const [b] = breaches(p, [DIGEST], watchOf(w), NOW);
    expect(b?.startedAt).toBe('2026-12-02T03:11:00Z');
    expect(b?.containers.map((c) => c.startedAt)).toEqual(['2026-12-02T03:12:00Z', '2026-12-02T03:11:00Z']);
  });

  it('without container start times, the pod start decides; without either, now', () => {
    const p = pod({ startTime: '2026-12-02T03:10:00Z' });
    delete (p.containers[0] as { startedAt?: string }).startedAt;
    expect(breaches(p, [DIGEST], watchOf(w), NOW)[0]?.startedAt).toBe('2026-12-02T03:10:00Z');
    const q = pod();
    delete (q.containers[0] as { startedAt?: string }).startedAt;
    delete (q as { startTime?: string }).startTime;
    expect(breaches(q, [DIGEST], watchOf(w), NOW)[0]?.startedAt).toBe(NOW.toISOString());
  });
});

describe('celListLiterals: only the list the planner wrote', () => {
  it.each([
    [" in ['a']", ['a']],
    ["x in ['a', 'b']", ['a', 'b']],
    ["x in ['a',", []],
    ["x in ['a'", []],
    ['x in [a]', []],
    ["x in ['a\\", []],
    ["x in ['it\\'s']", ["it's"]],
    ["x in ['c:\\\\d']", ['c:\\d']],
  ])('%s → %j', (rule, want) => {
    expect(celListLiterals(rule)).toEqual(want);
  });
});
