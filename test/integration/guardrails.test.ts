import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFleetGuardrails } from '../../src/adapters/kubernetes/guardrails.ts';
import type { ClusterConfig } from '../../src/config.ts';
import { presentGuardrails } from '../../src/render/provenance/present-guardrails.ts';
import { toTerminal } from '../../src/render/terminal.ts';
import {
  clusterImagePolicy,
  imagePolicy,
  kyvernoVerifyImages,
  namespace,
  policyBinding,
  serveAdmissionKinds,
} from '../../src/testing/admission-fixtures.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';

// Real client-node against fake API servers that serve the admission kinds as the real ones do (list JSON).
describe('/scope guardrails against live clusters', () => {
  let dir: string;
  const fakes: FakeKube[] = [];
  const clusters: ClusterConfig[] = [];

  async function cluster(name: string, environment: string, setup: (f: FakeKube) => void): Promise<void> {
    const f = await startFakeKube({ name });
    setup(f);
    fakes.push(f);
    clusters.push({
      name,
      environment,
      kubeconfig: await f.writeKubeconfig(dir),
      inCluster: false,
      timeoutSeconds: 5,
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scope-guardrails-'));
    // VAP with a Deny binding only for namespaces labelled tier=prod; one VAP without binding; one Warn binding.
    await cluster('prod-eu', 'prod', (f) => {
      serveAdmissionKinds(f);
      f.create(namespace('payments', { tier: 'prod' }));
      f.create(namespace('web'));
      f.create(imagePolicy('require-digests', "object.spec.containers.all(c, c.image.contains('@sha256:'))"));
      f.create(
        policyBinding('require-digests-prod', 'require-digests', ['Deny'], { matchLabels: { tier: 'prod' } }),
      );
      f.create(
        imagePolicy('unbound', "object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))"),
      );
      f.create(imagePolicy('warn-only', "object.spec.containers.all(c, c.image != '')"));
      f.create(policyBinding('warn-only', 'warn-only', ['Warn', 'Audit']));
    });
    // Kyverno in Audit mode everywhere: policies exist, nothing is blocked.
    await cluster('stage-1', 'staging', (f) => {
      serveAdmissionKinds(f, { vap: true, kyverno: true });
      f.create(namespace('payments'));
      f.create(kyvernoVerifyImages('verify-images', 'Audit'));
    });
    // policy-controller enforcing, but only one namespace opted in.
    await cluster('prod-us', 'prod', (f) => {
      serveAdmissionKinds(f, { vap: true, policyController: true });
      f.create(namespace('agents', { 'policy.sigstore.dev/include': 'true' }));
      f.create(namespace('batch'));
      f.create(clusterImagePolicy('signed-by-ci'));
    });
    // Kyverno installed but the reader may not list it: unknown, never "none".
    await cluster('dev-1', 'dev', (f) => {
      serveAdmissionKinds(f, { vap: true, kyverno: true });
      f.create(namespace('payments'));
      f.setFault({ status: 403, pathIncludes: '/apis/kyverno.io/' });
    });
    // Configured but down.
    await cluster('prod-ap', 'prod', (f) => {
      void f;
    });
    await fakes.at(-1)?.close();
  });

  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('judges every cluster per namespace and names what enforces, what only warns and what is unknown', async () => {
    const report = await checkFleetGuardrails(clusters, AbortSignal.timeout(20_000));
    const byName = Object.fromEntries(report.clusters.map((c) => [c.cluster, c]));
    const ns = (c: string) =>
      Object.fromEntries((byName[c]?.namespaces ?? []).map((n) => [n.namespace, n.status]));

    expect(byName['prod-eu']?.status).toBe('partial');
    expect(ns('prod-eu')).toEqual({ payments: 'enforced', web: 'audit-only' });
    const prodEuFindings = byName['prod-eu']?.findings.map((f) => `${f.name ?? ''}: ${f.message}`) ?? [];
    expect(prodEuFindings).toContain(
      'unbound: ValidatingAdmissionPolicy has no binding: it enforces nothing',
    );
    expect(
      prodEuFindings.some(
        (f) => f.startsWith('warn-only (binding warn-only)') && f.includes('does not block'),
      ),
    ).toBe(true);

    expect(byName['stage-1']?.status).toBe('audit-only');
    expect(byName['stage-1']?.notInstalled).toEqual(['policy-controller']);

    expect(byName['prod-us']?.status).toBe('partial');
    expect(ns('prod-us')).toEqual({ agents: 'enforced', batch: 'none' });

    expect(byName['dev-1']?.status).toBe('unknown');
    expect(byName['dev-1']?.problems[0]?.reason).toBe('forbidden');

    expect(report.failed.map((f) => f.cluster)).toEqual(['prod-ap']);
    expect(report.completeness).toBe('partial');

    const text = toTerminal(presentGuardrails(report, { commandText: '/scope guardrails', now: new Date() }));
    expect(text).toContain('prod-ap');
    expect(text).toMatch(/prod-ap \(prod\): unknown/);
    expect(text).not.toMatch(/every namespace of all/);
  });

  it('only asks the named cluster', async () => {
    const report = await checkFleetGuardrails(clusters, AbortSignal.timeout(20_000), { only: 'prod-us' });
    expect(report.clusters.map((c) => c.cluster)).toEqual(['prod-us']);
    expect(report.completeness).toBe('complete');
  });
});
