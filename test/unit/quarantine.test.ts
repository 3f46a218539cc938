import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../src/domain/inventory/image-ref.ts';
import {
  quarantineName,
  quarantineObjects,
  referenceSpellings,
} from '../../src/domain/provenance/quarantine.ts';
import { admits } from '../../src/testing/admission-cel.ts';

const digest = parseDigest(`sha256:${'ab'.repeat(32)}`);
const other = `sha256:${'ab'.repeat(31)}cd`;
const { policy, binding } = quarantineObjects({
  digest,
  references: ['registry.example.com/payments/api:1.4.2', 'nginx:1.25'],
});

const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', spec });
const c = (image: string) => ({ name: 'c', image });

describe('quarantine policy (evaluated with a real CEL evaluator)', () => {
  it.each([
    [
      'the digest in an app container',
      pod({ containers: [c(`registry.example.com/payments/api@${digest}`)] }),
      false,
    ],
    ['the digest under another repository', pod({ containers: [c(`mirror.local/x/y@${digest}`)] })],
    [
      'tag and digest together',
      pod({ containers: [c(`registry.example.com/payments/api:9@${digest}`)] }),
      false,
    ],
    [
      'a tag known to resolve to it',
      pod({ containers: [c('registry.example.com/payments/api:1.4.2')] }),
      false,
    ],
    ['a Docker Hub tag, familiar spelling', pod({ containers: [c('nginx:1.25')] }), false],
    ['a Docker Hub tag, fully qualified', pod({ containers: [c('docker.io/library/nginx:1.25')] }), false],
    ['in an init container', pod({ containers: [c('ok:1')], initContainers: [c(`a@${digest}`)] }), false],
    [
      'in an ephemeral container',
      pod({ containers: [c('ok:1')], ephemeralContainers: [c(`a@${digest}`)] }),
      false,
    ],
  ])('denies a pod with %s', (_name, p, expected = false) => {
    expect(admits(policy, p).allowed).toBe(expected);
  });

  it.each([
    [
      'another digest that shares all but the last byte',
      pod({ containers: [c(`registry.example.com/payments/api@${other}`)] }),
    ],
    [
      'another tag of the same repository',
      pod({ containers: [c('registry.example.com/payments/api:1.4.3')] }),
    ],
    [
      'a tag that only starts like a quarantined one',
      pod({ containers: [c('registry.example.com/payments/api:1.4.20')] }),
    ],
    ['an unrelated image with init containers absent', pod({ containers: [c('busybox:1')] })],
  ])('admits a pod with %s', (_name, p) => {
    expect(admits(policy, p).allowed).toBe(true);
  });

  it('binds with Deny (the only action that blocks) and is named after the digest', () => {
    expect(binding.spec).toEqual({ policyName: quarantineName(digest), validationActions: ['Deny'] });
    expect(policy.metadata.name).toBe('scope-quarantine-abababababababab');
    expect(policy.spec.failurePolicy).toBe('Fail');
  });

  it('spells references every way a pod spec can, and drops what is not a tag reference', () => {
    expect(
      referenceSpellings(['nginx:1.25', `busybox@${digest}`, 'not a ref', 'ghcr.io/o/a:v1', 'ghcr.io/o/a']),
    ).toEqual([
      'docker.io/library/nginx:1.25',
      'docker.io/nginx:1.25',
      'ghcr.io/o/a:v1',
      'library/nginx:1.25',
      'nginx:1.25',
    ]);
  });

  it('escapes quotes in references so they cannot break out of the CEL string', () => {
    const { policy: p } = quarantineObjects({ digest, references: ["evil/x:1' || true || '"] });
    expect(admits(p, pod({ containers: [c('busybox:1')] })).allowed).toBe(true);
  });
});
