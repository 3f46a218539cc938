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
