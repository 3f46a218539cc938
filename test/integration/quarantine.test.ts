import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  kubeObjectClients,
  QuarantineExecutor,
  QuarantinePlanner,
} from '../../src/adapters/kubernetes/quarantine.ts';
import type { ClusterConfig } from '../../src/config.ts';
import type { ActionContext, StepRecord } from '../../src/domain/actions/contract.ts';
import { admits } from '../../src/testing/admission-cel.ts';
import { serveAdmissionKinds } from '../../src/testing/admission-fixtures.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';

const digest = `sha256:${'5e'.repeat(32)}`;
const name = 'scope-quarantine-5e5e5e5e5e5e5e5e';
const VAP = 'admissionregistration.k8s.io/v1';

// Real client-node (KubernetesObjectApi: discovery, create, read, delete) against fake API servers.
describe('Quarantine: planner and executor against live clusters', () => {
  let dir: string;
  let prod: FakeKube;
  let old: FakeKube;
  let clusters: ClusterConfig[];
  const ctx = (requestId: string): ActionContext => ({
    requestId,
    requestedBy: 'U0REQUEST',
    approvedBy: ['U0APPROVE'],
    reason: 'compromised base image',
    now: () => new Date('2026-12-02T03:12:00Z'),
    signal: AbortSignal.timeout(20_000),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scope-quarantine-'));
    prod = await startFakeKube({ name: 'prod-eu' });
    serveAdmissionKinds(prod);
    old = await startFakeKube({ name: 'legacy' }); // Kubernetes < 1.30: no ValidatingAdmissionPolicy served
    clusters = [
      {
        name: 'prod-eu',
        environment: 'prod',
        kubeconfig: await prod.writeKubeconfig(dir),
        inCluster: false,
        timeoutSeconds: 5,
      },
      {
        name: 'legacy',
        environment: 'dev',
        kubeconfig: await old.writeKubeconfig(dir),
        inCluster: false,
        timeoutSeconds: 5,
      },
    ];
  });
  afterAll(async () => {
    await Promise.all([prod.close(), old.close()]);
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    prod.remove(VAP, 'ValidatingAdmissionPolicyBinding', undefined, name);
    prod.remove(VAP, 'ValidatingAdmissionPolicy', undefined, name);
    prod.resetRequests();
  });

  async function run(requestId: string) {
    const clients = kubeObjectClients(clusters);
    const plan = await new QuarantinePlanner(clusters, clients).plan(
      { digest, references: ['registry.example.com/payments/api:1.4.2'] },
      AbortSignal.timeout(20_000),
    );
    const exec = new QuarantineExecutor('quarantine', clients);
    const records: StepRecord[] = [];
    for (const step of plan.steps) records.push(await exec.apply(step, ctx(requestId)));
    return { plan, records, exec, clients };
  }

  it('plans per cluster, says where it cannot, creates policy + Deny binding that reject the digest and its tags', async () => {
    const { plan, records } = await run('req-1');
    const byKey = Object.fromEntries(plan.steps.map((s) => [s.key, s]));
    expect(byKey[`prod-eu/ValidatingAdmissionPolicy/${name}`]?.state).toBe('todo');
    expect(byKey[`legacy/ValidatingAdmissionPolicy/${name}`]?.state).toBe('impossible');
    expect(byKey[`legacy/ValidatingAdmissionPolicy/${name}`]?.reason).toMatch(
      /does not serve ValidatingAdmissionPolicy/,
    );
    expect(
      records
        .filter((r) => r.state === 'applied')
        .map((r) => r.key)
        .sort(),
    ).toEqual([
      `prod-eu/ValidatingAdmissionPolicy/${name}`,
      `prod-eu/ValidatingAdmissionPolicyBinding/${name}`,
    ]);
    expect(records.filter((r) => r.key.startsWith('legacy/')).every((r) => r.state === 'skipped')).toBe(true);

    const policy = prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name);
    const binding = prod.get(VAP, 'ValidatingAdmissionPolicyBinding', undefined, name);
    expect(policy?.metadata.annotations?.['scope.dev/request-id']).toBe('req-1');
    expect((binding as { spec?: unknown }).spec).toEqual({ policyName: name, validationActions: ['Deny'] });
    const pod = (image: string) => ({ spec: { containers: [{ name: 'app', image }] } });
    expect(admits(policy, pod(`registry.example.com/payments/api@${digest}`)).allowed).toBe(false);
    expect(admits(policy, pod('registry.example.com/payments/api:1.4.2')).allowed).toBe(false);
    expect(admits(policy, pod('registry.example.com/payments/api:1.4.3')).allowed).toBe(true);
  });

  it('a resumed step recognises its own earlier write and does not create twice', async () => {
    const { plan, exec } = await run('req-2');
    const creates = prod.counters.create;
    const again: StepRecord[] = [];
    for (const step of plan.steps) again.push(await exec.apply(step, ctx('req-2')));
    expect(prod.counters.create).toBe(creates);
    expect(again.filter((r) => r.key.startsWith('prod-eu/')).map((r) => r.state)).toEqual([
      'applied',
      'applied',
    ]);
  });

  it('the same digest quarantined again plans as already done', async () => {
    await run('req-3');
    const { plan } = await run('req-4');
    expect(plan.steps.filter((s) => s.target.location === 'prod-eu').map((s) => s.state)).toEqual([
      'already-done',
      'already-done',
    ]);
  });

  it('release deletes exactly what the quarantine created, binding first, and leaves others alone', async () => {
    const { plan, records, exec, clients } = await run('req-5');
    const release = new QuarantineExecutor('release', clients);
    const inverse = exec.inverse(plan, records);
    expect(inverse.steps.map((s) => s.target.kind)).toEqual([
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicy',
    ]);
    for (const step of inverse.steps) expect((await release.apply(step, ctx('rel-5'))).state).toBe('applied');
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeUndefined();
    expect(prod.get(VAP, 'ValidatingAdmissionPolicyBinding', undefined, name)).toBeUndefined();

    // Someone re-creates an object with that name by hand: a stale release must not delete it.
    prod.create({
      apiVersion: VAP,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, annotations: { 'scope.dev/request-id': 'someone-else' } },
      spec: {},
    } as never);
    const again = await release.apply(inverse.steps[1]!, ctx('rel-5'));
    expect(again.state).toBe('skipped');
    expect(prod.get(VAP, 'ValidatingAdmissionPolicy', undefined, name)).toBeDefined();
  });

  it('a tampered stored step is refused before anything is sent', async () => {
    const { plan, exec } = await run('req-6');
    const step = plan.steps[0]!;
    const forged = {
      ...step,
      change: { op: 'create', object: { ...(step.change as object), kind: 'ClusterRoleBinding' } },
    };
    prod.resetRequests();
    const r = await exec.apply(forged, ctx('req-6'));
    expect(r.state).toBe('failed');
    expect(prod.counters.total).toBe(0);
  });
});
