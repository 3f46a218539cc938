import type { FakeKube, KubeObject } from './fake-kube.ts';

/** Serves the admission-policy kinds scope reads (VAP + bindings, Kyverno, Sigstore policy-controller) on a fake. */
export function serveAdmissionKinds(
  fake: FakeKube,
  which: { vap?: boolean; kyverno?: boolean; policyController?: boolean } = {},
): void {
  if (which.vap ?? true) {
    const group = 'admissionregistration.k8s.io';
    fake.registerCustomResource({
      group,
      version: 'v1',
      plural: 'validatingadmissionpolicies',
      kind: 'ValidatingAdmissionPolicy',
      namespaced: false,
    });
    fake.registerCustomResource({
      group,
      version: 'v1',
      plural: 'validatingadmissionpolicybindings',
      kind: 'ValidatingAdmissionPolicyBinding',
      namespaced: false,
    });
  }
  if (which.kyverno) {
    fake.registerCustomResource({
      group: 'kyverno.io',
      version: 'v1',
      plural: 'clusterpolicies',
      kind: 'ClusterPolicy',
      namespaced: false,
    });
    fake.registerCustomResource({
      group: 'kyverno.io',
      version: 'v1',
      plural: 'policies',
      kind: 'Policy',
      namespaced: true,
    });
  }
  if (which.policyController) {
    fake.registerCustomResource({
      group: 'policy.sigstore.dev',
      version: 'v1beta1',
      plural: 'clusterimagepolicies',
      kind: 'ClusterImagePolicy',
      namespaced: false,
    });
  }
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function imagePolicy(name: string, expression: string): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
        ],
      },
      validations: [{ expression }],
    },
  };
}

export function policyBinding(
  name: string,
  policyName: string,
  validationActions: string[],
  namespaceSelector?: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: {
      policyName,
      validationActions,
      ...(namespaceSelector ? { matchResources: { namespaceSelector } } : {}),
    },
  };
}

export function kyvernoVerifyImages(
  name: string,
  action: 'Enforce' | 'Audit',
  namespace?: string,
): KubeObject {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: namespace ? 'Policy' : 'ClusterPolicy',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: {
      validationFailureAction: action,
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              imageReferences: ['*'],
              attestors: [{ entries: [{ keyless: { subject: 'x', issuer: 'y' } }] }],
            },
          ],
        },
      ],
    },
  };
}

export function clusterImagePolicy(name: string, mode?: 'enforce' | 'warn'): KubeObject {
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec: {
      images: [{ glob: '**' }],
      authorities: [{ keyless: { url: 'https://fulcio.sigstore.dev' } }],
      ...(mode ? { mode } : {}),
    },
  };
}
