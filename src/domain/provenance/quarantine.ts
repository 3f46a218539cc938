import {
  type Digest,
  digestHex,
  familiarImageRef,
  formatImageRef,
  parseImageRef,
} from '../inventory/image-ref.ts';

/**
 * Quarantine of one digest as a scope-managed ValidatingAdmissionPolicy + Deny binding. Admission sees the pod
 * spec, i.e. the image *reference* as written, so the rule rejects both the digest in any repository and every
 * tag the inventory knows to resolve to it, in every spelling a pod spec can use (familiar and fully qualified).
 * Pure: builds the objects; the adapter creates and deletes them.
 */

export const QUARANTINE_LABEL = 'scope.dev/quarantine';
export const REQUEST_ANNOTATION = 'scope.dev/request-id';
export const DIGEST_ANNOTATION = 'scope.dev/quarantined-digest';

/** Tags per policy: keeps the CEL list and the object small (Kubernetes caps expression cost and size). */
export const MAX_REFERENCES = 200;

export type QuarantineObjects = { policy: KubeManifest; binding: KubeManifest };

export type KubeManifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
};

/** `scope-quarantine-<first 16 hex>`: one policy per digest, so quarantining the same digest twice is a no-op. */
export function quarantineName(digest: Digest): string {
  return `scope-quarantine-${digestHex(digest).slice(0, 16)}`;
}

/** Every way a pod spec may spell these tag references (`nginx:1`, `docker.io/library/nginx:1`…), sorted. */
export function referenceSpellings(references: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of references) {
    let ref: ReturnType<typeof parseImageRef>;
    try {
      ref = parseImageRef(raw);
    } catch {
      continue;
    }
    if (ref.digest !== undefined || ref.tag === undefined) continue;
    out.add(formatImageRef(ref));
    out.add(familiarImageRef(ref));
    if (ref.registry === 'docker.io') {
      out.add(`docker.io/${familiarImageRef(ref)}`);
      if (ref.repository.startsWith('library/')) out.add(`${ref.repository}:${ref.tag}`);
    }
  }
  return [...out].sort();
}

const celString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The CEL of the policy: all images of a pod (app, init, ephemeral) and the one rule over them. */
export function quarantineExpressions(digest: Digest, spellings: readonly string[]) {
  const images =
    'object.spec.containers.map(c, c.image)' +
    ' + (has(object.spec.initContainers) ? object.spec.initContainers.map(c, c.image) : [])' +
    ' + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers.map(c, c.image) : [])';
  const byDigest = `i.endsWith(${celString(`@${digest}`)})`;
  const byTag = spellings.length ? ` || i in [${spellings.map(celString).join(', ')}]` : '';
  return { images, rule: `!variables.images.exists(i, ${byDigest}${byTag})` };
}

/** The policy and its Deny binding for one digest, labelled and annotated with the request that made them. */
export function quarantineObjects(input: {
  digest: Digest;
  references: readonly string[];
}): QuarantineObjects {
  const name = quarantineName(input.digest);
  const spellings = referenceSpellings(input.references).slice(0, MAX_REFERENCES * 3);
  const { images, rule } = quarantineExpressions(input.digest, spellings);
  const metadata = () => ({
    name,
    labels: { [QUARANTINE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'scope' },
    annotations: { [DIGEST_ANNOTATION]: input.digest } as Record<string, string>,
  });
  return {
    policy: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: metadata(),
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['pods', 'pods/ephemeralcontainers'],
            },
          ],
        },
        variables: [{ name: 'images', expression: images }],
        validations: [
          {
            expression: rule,
            message: `image ${input.digest} is quarantined by scope (see /scope frozen and the incident channel)`,
            reason: 'Forbidden',
          },
        ],
      },
    },
    binding: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: metadata(),
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  };
}

/** Marks an object with the request that creates it, so a resumed step recognises its own earlier write. */
export function stampRequest(
  obj: KubeManifest,
  ctx: { requestId: string; requestedBy: string; reason: string },
): KubeManifest {
  const out = structuredClone(obj);
  out.metadata.annotations[REQUEST_ANNOTATION] = ctx.requestId;
  out.metadata.annotations['scope.dev/requested-by'] = ctx.requestedBy;
  out.metadata.annotations['scope.dev/reason'] = ctx.reason.slice(0, 500);
  return out;
}
