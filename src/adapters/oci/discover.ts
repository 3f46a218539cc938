import { type PathAttempt, SIGNATURE_PATHS, type SignaturePath } from '../../domain/provenance/outcome.ts';
import type { Discovery, FoundSignature } from '../../domain/provenance/ports.ts';
import { COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE, isBundleType, isIndexType } from './media-types.ts';
import {
  type Descriptor,
  type ManifestJson,
  type RegistryClient,
  RegistryError,
  type RepoName,
} from './registry-client.ts';

const SIGNATURE_BLOB_LIMIT = 1024 * 1024;
const MAX_ARTIFACTS = 20;

/**
 * Looks for signatures and attestations of `digest` in every storage form, in the signature repository
 * (the image's own unless overridden), and reports each path tried with what it returned.
 */
export async function discoverSignatures(
  client: RegistryClient,
  sigRepo: RepoName,
  digest: string,
  opts: {
    signal?: AbortSignal;
    onIndex?: string;
    referrersUnsupported?: Set<string>;
    /** Only these paths (default: all four, in parallel). */
    paths?: readonly SignaturePath[];
  } = {},
): Promise<Discovery> {
  const hex = digest.slice('sha256:'.length);
  const repoName = `${sigRepo.registry}/${sigRepo.repository}`;
  const base = { repository: repoName, ...(opts.onIndex ? { onIndex: opts.onIndex } : {}) };
  const found: FoundSignature[] = [];
  const attempt = async (
    path: SignaturePath,
    reference: string,
    run: () => Promise<FoundSignature[] | 'unsupported'>,
  ): Promise<PathAttempt> => {
    try {
      const r = await run();
      if (r === 'unsupported')
        return {
          path,
          reference,
          result: 'unsupported',
          artifacts: 0,
          ...base,
          detail: 'registry has no referrers API (404)',
        };
      found.push(...r);
      return { path, reference, result: r.length ? 'found' : 'none', artifacts: r.length, ...base };
    } catch (err) {
      opts.signal?.throwIfAborted();
      if (!(err instanceof RegistryError)) throw err;
      const result =
        err.code === 'not-found'
          ? 'none'
          : err.code === 'denied' || err.code === 'unauthorized'
            ? 'denied'
            : 'error';
      return {
        path,
        reference,
        result,
        artifacts: 0,
        ...base,
        ...(result === 'none' ? {} : { detail: `${err.code}: ${err.message}` }),
      };
    }
  };
  const fromIndex = async (path: SignaturePath, reference: string, index: ManifestJson) => {
    const descs = (index.manifests ?? []).filter((d) => isBundleType(d.artifactType)).slice(0, MAX_ARTIFACTS);
    return Promise.all(
      descs.map((d) => readBundleArtifact(client, sigRepo, d, path, reference, base, opts.signal)),
    );
  };
  const runners: Record<SignaturePath, () => Promise<PathAttempt>> = {
    'referrers-api': () =>
      attempt('referrers-api', `referrers/${digest}`, async () => {
        if (opts.referrersUnsupported?.has(sigRepo.registry)) return 'unsupported';
        const index = await client.referrers(sigRepo, digest, opts.signal);
        if (!index) {
          opts.referrersUnsupported?.add(sigRepo.registry);
          return 'unsupported';
        }
        return fromIndex('referrers-api', `referrers/${digest}`, index);
      }),
    'referrers-tag': () =>
      attempt('referrers-tag', `sha256-${hex}`, async () => {
        const m = await client.manifest(sigRepo, `sha256-${hex}`, opts.signal);
        if (!isIndexType(m.mediaType)) return [];
        return fromIndex('referrers-tag', `sha256-${hex}`, m.json);
      }),
    'cosign-sig': () =>
      attempt('cosign-sig', `sha256-${hex}.sig`, async () => {
        const m = await client.manifest(sigRepo, `sha256-${hex}.sig`, opts.signal);
        const layers = (m.json.layers ?? [])
          .filter((l) => l.mediaType === COSIGN_SIMPLE_SIGNING)
          .slice(0, MAX_ARTIFACTS);
        return Promise.all(
          layers.map(async (l) => ({
            form: 'cosign-sig' as const,
            path: 'cosign-sig' as const,
            reference: `sha256-${hex}.sig`,
            ...base,
            payload: await client.blob(sigRepo, l.digest, opts.signal, SIGNATURE_BLOB_LIMIT),
            annotations: l.annotations ?? {},
          })),
        );
      }),
    'cosign-att': () =>
      attempt('cosign-att', `sha256-${hex}.att`, async () => {
        const m = await client.manifest(sigRepo, `sha256-${hex}.att`, opts.signal);
        const layers = (m.json.layers ?? [])
          .filter((l) => l.mediaType === DSSE_ENVELOPE)
          .slice(0, MAX_ARTIFACTS);
        return Promise.all(
          layers.map(async (l) => ({
            form: 'cosign-att' as const,
            path: 'cosign-att' as const,
            reference: `sha256-${hex}.att`,
            ...base,
            envelope: parseEnvelope(await client.blob(sigRepo, l.digest, opts.signal, SIGNATURE_BLOB_LIMIT)),
            annotations: l.annotations ?? {},
          })),
        );
      }),
  };
  const attempts = await Promise.all((opts.paths ?? SIGNATURE_PATHS).map((p) => runners[p]()));
  return { attempts, found };
}

async function readBundleArtifact(
  client: RegistryClient,
  repo: RepoName,
  desc: Descriptor,
  path: SignaturePath,
  reference: string,
  base: { repository: string; onIndex?: string },
  signal?: AbortSignal,
): Promise<FoundSignature> {
  const m = await client.manifest(repo, desc.digest, signal);
  const layer = (m.json.layers ?? []).find((l) => isBundleType(l.mediaType));
  if (!layer) throw new RegistryError('protocol', `artifact ${desc.digest} has no Sigstore bundle layer`);
  const bytes = await client.blob(repo, layer.digest, signal, SIGNATURE_BLOB_LIMIT);
  let bundle: unknown;
  try {
    bundle = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError('protocol', `bundle ${layer.digest} is not JSON`);
  }
  return { form: 'bundle', path, reference: `${reference} → ${desc.digest}`, ...base, bundle };
}

function parseEnvelope(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError('protocol', 'attestation layer is not JSON');
  }
}
