import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
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

/**
 * What a trusted root is known by: SHA-256 of its normalised JSON (first 16 hex). The same root read from the
 * seed, a file or TUF has the same fingerprint; any change of key, log or validity window changes it.
 */
export function rootFingerprint(root: TrustedRoot): string {
  return createHash('sha256')
    .update(JSON.stringify(TrustedRoot.toJSON(root)))
    .digest('hex')
    .slice(0, 16);
}

export type TufOptions = {
  mirrorUrl: string;
  /** Initial root.json of the repository; without it `@sigstore/tuf` uses the seed it ships (default mirror). */
  initialRoot?: string;
  cacheDir: string;
  timeoutMs?: number;
  retries?: number;
};

/**
 * Online: asks a TUF repository for its current `trusted_root.json` through `@sigstore/tuf` (tuf-js), which
 * checks the root chain, signatures, expiry, versions and the target's hashes, and keeps the metadata in
 * `cacheDir` so a later refresh cannot be rolled back. Throws on any failure; the caller keeps its root.
 */
export async function fetchTufRoot(o: TufOptions): Promise<TrustedRoot> {
  assertPrivateDir(o.cacheDir);
  const { initTUF } = await import('@sigstore/tuf');
  const tuf = await initTUF({
    mirrorURL: o.mirrorUrl.replace(/\/+$/, ''),
    cachePath: o.cacheDir,
    ...(o.initialRoot ? { rootPath: o.initialRoot } : {}),
    timeout: o.timeoutMs ?? 10_000,
    retry: { retries: o.retries ?? 2 },
  });
  const text = await tuf.getTarget('trusted_root.json');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('the TUF target trusted_root.json is not JSON');
  }
  return trustedRootFromJSON(json, 'the TUF target trusted_root.json');
}

/**
 * The TUF cache holds the root scope trusts next: it must be ours alone. Creates it 0700 when missing and
 * refuses one owned by another user or writable by group or others (a shared /tmp is the usual trap).
 */
export function assertPrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`TUF cache ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new Error(`TUF cache ${dir} belongs to uid ${st.uid}, not to this process (uid ${uid})`);
  if (st.mode & 0o022) throw new Error(`TUF cache ${dir} is writable by group or others (chmod 700 it)`);
}
