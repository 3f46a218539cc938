import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { ScopeError } from '../../errors.ts';

/**
 * The public-good Sigstore trusted root exactly as shipped inside `@sigstore/tuf` (its TUF seed), so scope
 * verifies offline by default; `refreshPublicGoodRoot` fetches a newer one through TUF when online.
 */
export function shippedPublicGoodRoot(): TrustedRoot {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@sigstore/tuf/package.json'));
  const seeds = JSON.parse(readFileSync(join(dir, 'seeds.json'), 'utf8')) as Record<
    string,
    { targets?: Record<string, string> }
  >;
  const b64 = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets?.['trusted_root.json'];
  if (!b64) throw new ScopeError('CONFIG_INVALID', '@sigstore/tuf ships no trusted_root.json seed');
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));
}

/** A custom trusted_root.json (private Sigstore deployment, air-gapped site); read once, no network. */
export function trustedRootFromFile(path: string): TrustedRoot {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScopeError('CONFIG_INVALID', `cannot read trusted root ${path}: ${(err as Error).message}`);
  }
  return trustedRootFromJSON(json, path);
}

export function trustedRootFromJSON(json: unknown, what = 'trusted root'): TrustedRoot {
  if (typeof json !== 'object' || json === null || !('mediaType' in json))
    throw new ScopeError('CONFIG_INVALID', `${what} is not a Sigstore trusted_root.json (no mediaType)`);
  const root = TrustedRoot.fromJSON(json);
  if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0)
    throw new ScopeError('CONFIG_INVALID', `${what} holds no certificate authority and no transparency log`);
  return root;
}

/** Online only: asks the Sigstore TUF repository for the current public-good root (opt-in `tufRefresh`). */
export async function refreshPublicGoodRoot(cachePath: string): Promise<TrustedRoot> {
  const { getTrustedRoot } = await import('@sigstore/tuf');
  return getTrustedRoot({ cachePath });
}
