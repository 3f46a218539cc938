import {
  clusterImagePolicy,
  imagePolicy,
  kyvernoVerifyImages,
  policyBinding,
  serveAdmissionKinds,
} from '../src/testing/admission-fixtures.ts';
import type { FakeKube, KubeObject } from '../src/testing/fake-kube.ts';

/**
 * The demo fleet's admission story for `/scope guardrails`: prod-eu believes it verifies signatures, but its
 * Kyverno policy only audits; prod-us blocks unpinned images only in the namespace labelled critical; stage-1
 * installed Sigstore's policy-controller and opted no namespace in; dev-1 has nothing.
 */
export function demoAdmission(fake: FakeKube, cluster: string): void {
  serveAdmissionKinds(fake, { vap: true, kyverno: true, policyController: true });
  if (cluster === 'prod-eu') fake.create(kyvernoVerifyImages('verify-vendor-images', 'Audit'));
  if (cluster === 'prod-us') {
    const ns = fake.get('v1', 'Namespace', undefined, 'payments');
    if (ns) {
      const labelled: KubeObject = {
        ...ns,
        metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, tier: 'critical' } },
      };
      fake.update(labelled);
    }
    fake.create(
      imagePolicy('require-digests', "object.spec.containers.all(c, c.image.contains('@sha256:'))"),
    );
    fake.create(
      policyBinding('require-digests-critical', 'require-digests', ['Deny'], {
        matchLabels: { tier: 'critical' },
      }),
    );
  }
  if (cluster === 'stage-1') fake.create(clusterImagePolicy('signed-by-ci'));
}
