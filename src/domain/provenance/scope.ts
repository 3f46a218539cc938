import { UserFacingError } from '../../errors.ts';
import {
  type DigestQuery,
  type ImageQuery,
  parseDigestQuery,
  parseImageQuery,
} from '../inventory/image-ref.ts';

/**
 * What `/scope verify` covers. A bare `name` or `name/namespace` may be a cluster or an image repository:
 * it is a cluster when one by that name exists (decided by the job, which knows the clusters), else an image.
 */
export type VerifyScope =
  | { kind: 'digest'; query: DigestQuery }
  | { kind: 'image'; query: ImageQuery }
  | { kind: 'cluster-or-image'; cluster?: { cluster: string; namespace?: string }; image?: ImageQuery }
  | { kind: 'env'; environment: string }
  | { kind: 'all' };

const NAME = /^[a-z0-9]([a-z0-9._-]{0,252})?$/;
const DIGESTY = /^(sha256:|[0-9a-f]{12,}$)|@sha256:/i;

export function parseVerifyScope(text: string): VerifyScope {
  const s = text.trim();
  if (s.toLowerCase() === 'all') return { kind: 'all' };
  const env = /^env:(.*)$/i.exec(s);
  if (env) {
    const name = (env[1] ?? '').toLowerCase();
    if (!NAME.test(name))
      throw new UserFacingError('BAD_INPUT', `"${name.slice(0, 40)}" is not an environment name.`);
    return { kind: 'env', environment: name };
  }
  if (DIGESTY.test(s)) {
    const query = parseDigestQuery(s);
    if (query.kind === 'config') {
      throw new UserFacingError(
        'BAD_INPUT',
        'That is an image config id; signatures are made over manifest digests.',
        'Find the manifest digest with `/scope digest` and the config id, then verify that digest.',
      );
    }
    return { kind: 'digest', query };
  }
  const parts = s.split('/');
  const cluster =
    parts.length <= 2 && parts.every((p) => NAME.test(p))
      ? { cluster: parts[0] as string, ...(parts[1] ? { namespace: parts[1] } : {}) }
      : undefined;
  let image: ImageQuery | undefined;
  try {
    image = parseImageQuery(s);
  } catch (err) {
    if (!cluster) throw err;
  }
  if (!cluster && image) return { kind: 'image', query: image };
  return { kind: 'cluster-or-image', ...(cluster ? { cluster } : {}), ...(image ? { image } : {}) };
}

export function describeVerifyScope(scope: VerifyScope): string {
  switch (scope.kind) {
    case 'all':
      return 'all';
    case 'env':
      return `env:${scope.environment}`;
    case 'digest':
      return scope.query.kind === 'digest-prefix'
        ? scope.query.prefix
        : scope.query.kind === 'digest'
          ? scope.query.digest
          : scope.query.kind === 'config'
            ? `docker://${scope.query.configId}`
            : `${scope.query.ref.registry}/${scope.query.ref.repository}@${scope.query.ref.digest}`;
    case 'image':
      return `${scope.query.registry}/${scope.query.repository}${scope.query.tag ? `:${scope.query.tag}` : ''}`;
    case 'cluster-or-image':
      return scope.cluster
        ? [scope.cluster.cluster, scope.cluster.namespace].filter(Boolean).join('/')
        : `${scope.image?.registry}/${scope.image?.repository}`;
  }
}
