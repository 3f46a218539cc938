import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { runVerifyBundle } from '../../../src/cli/verify-bundle.ts';
import { tamperBundle } from '../../../src/testing/provenance-fixtures.ts';
import {
  generateCosignKeyPair,
  inTotoStatement,
  type KeyPair,
  type MockSigstore,
  startMockSigstore,
} from '../../../src/testing/sigstore-mock.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';

let sig: MockSigstore;
let dir: string;
let root: string;
let file: string;
let digest: string;
let key: KeyPair;
const artifact = Buffer.from('release tarball bytes\n');
const vectors: Record<string, { path: string; json: SerializedBundle }> = {};

async function vector(name: string, json: SerializedBundle) {
  const path = join(dir, `${name}.sigstore.json`);
  await writeFile(path, JSON.stringify(json));
  vectors[name] = { path, json };
}

beforeAll(async () => {
  sig = await startMockSigstore();
  dir = await mkdtemp(join(tmpdir(), 'scope-vb-'));
  root = join(dir, 'trusted_root.json');
  await writeFile(root, JSON.stringify(sig.trustedRoot));
  file = join(dir, 'artifact.tgz');
  await writeFile(file, artifact);
  digest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
  key = generateCosignKeyPair();
  await writeFile(join(dir, 'cosign.pub'), key.publicPem);
  const who = { identity: ID, issuer: ISS };
  const message = await sig.keyless({ data: artifact }, who);
  await vector('message', message);
  await vector('dsse', await sig.keyless({ data: inTotoStatement(digest), dsse: true }, who));
  await vector('keyed', await sig.keyed({ data: artifact }, key, { tlog: true }));
  await vector('tampered', tamperBundle(message));
  await vector(
    'other-identity',
    await sig.keyless(
      { data: artifact },
      { identity: 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main', issuer: ISS },
    ),
  );
  await vector(
    'suffix-lookalike',
    await sig.keyless({ data: artifact }, { identity: `${ID}.evil.example`, issuer: ISS }),
  );
  await vector(
    'dot-lookalike',
    await sig.keyless(
      { data: artifact },
      { identity: ID.replace('release.yml', 'releaseXyml'), issuer: ISS },
    ),
  );
  await vector(
    'other-issuer',
    await sig.keyless({ data: artifact }, { identity: ID, issuer: 'https://issuer.example.com' }),
  );
  await vector(
    'dsse-other-subject',
    await sig.keyless({ data: inTotoStatement(`sha256:${'f'.repeat(64)}`), dsse: true }, who),
  );
}, 60_000);
afterAll(async () => {
  await sig?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The reference: @sigstore/verify's own Verifier and policy check, as sigstore-js callers use it. */
function reference(name: string, opts: { identity?: string; key?: boolean }): boolean {
  const v = vectors[name] as { json: SerializedBundle };
  const tm = toTrustMaterial(TrustedRoot.fromJSON(sig.trustedRoot), () => ({
    publicKey: createPublicKey(key.publicPem),
    validFor: () => true,
  }));
  const keyless = !opts.key;
  const verifier = new Verifier(tm, {
    tlogThreshold: 1,
    ctlogThreshold: keyless ? 1 : 0,
    timestampThreshold: keyless ? 1 : 0,
  });
  const bundle = bundleFromJSON(v.json);
  try {
    verifier.verify(
      toSignedEntity(bundle, bundle.content.$case === 'messageSignature' ? artifact : undefined),
      keyless ? { subjectAlternativeName: opts.identity ?? ID, extensions: { issuer: ISS } } : undefined,
    );
    return true;
  } catch {
    return false;
  }
}

async function ours(name: string, target: string, flags: string[]): Promise<number> {
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    return await runVerifyBundle([
      '--bundle',
      (vectors[name] as { path: string }).path,
      '--trusted-root',
      root,
      ...flags,
      target,
    ]);
  } finally {
    err.mockRestore();
    log.mockRestore();
  }
}

const identity = () => ['--certificate-identity', ID, '--certificate-oidc-issuer', ISS];

describe('verify-bundle agrees with the reference verifier', () => {
  test.each([
    ['message', true],
    ['dsse', true],
    ['tampered', false],
    ['other-identity', false],
    ['other-issuer', false],
  ])('%s: verified=%s, for the file and for its digest', async (name, expected) => {
    expect(reference(name, {})).toBe(expected);
    expect(await ours(name, file, identity())).toBe(expected ? 0 : 1);
    expect(await ours(name, digest, identity())).toBe(expected ? 0 : 1);
  });

  test('a key-pair bundle verifies with --key, for the file and its digest, like the reference', async () => {
    expect(reference('keyed', { key: true })).toBe(true);
    expect(await ours('keyed', file, ['--key', join(dir, 'cosign.pub')])).toBe(0);
    expect(await ours('keyed', digest, ['--key', join(dir, 'cosign.pub')])).toBe(0);
  });

  test('a bundle for other bytes does not verify', async () => {
    const other = join(dir, 'other.bin');
    await writeFile(other, 'other bytes');
    expect(await ours('message', other, identity())).toBe(1);
    expect(await ours('message', `sha256:${'0'.repeat(64)}`, identity())).toBe(1);
  });
});

describe('identity look-alikes the reference accepts are rejected', () => {
  test.each(['suffix-lookalike', 'dot-lookalike'])('%s', async (name) => {
    expect(reference(name, {})).toBe(true);
    expect(await ours(name, file, identity())).toBe(1);
  });

  test('--certificate-identity-regexp is anchored', async () => {
    const re = (r: string) => ['--certificate-identity-regexp', r, '--certificate-oidc-issuer', ISS];
    expect(await ours('message', file, re('https://github\\.com/acme/.*'))).toBe(0);
    expect(await ours('message', file, re('acme/app'))).toBe(1);
    expect(
      await ours(
        'suffix-lookalike',
        file,
        re('https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/heads/main'),
      ),
    ).toBe(1);
  });

  test('a DSSE statement about another digest is rejected (the reference does not check subjects)', async () => {
    expect(reference('dsse-other-subject', {})).toBe(true);
    expect(await ours('dsse-other-subject', file, identity())).toBe(1);
  });
});

test('the real command: exit 0 when verified, 1 with the reason when not, 2 on bad usage', async () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['src/main.ts', 'cli', 'verify-bundle', ...args], {
      timeout: 60_000,
    }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout,
        err: e.stderr,
      }),
    );
  const ok = await run([
    '--bundle',
    (vectors.message as { path: string }).path,
    '--trusted-root',
    root,
    ...identity(),
    file,
  ]);
  expect(ok).toMatchObject({ code: 0, out: expect.stringContaining('Verified OK') });
  const bad = await run([
    '--bundle',
    (vectors['suffix-lookalike'] as { path: string }).path,
    '--trusted-root',
    root,
    ...identity(),
    '--json',
    file,
  ]);
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.out)).toMatchObject({
    schema: 'scope.cli/v1',
    ok: false,
    result: { reason: expect.stringContaining('untrusted') },
  });
  const usage = await run(['--bundle', 'x', file]);
  expect(usage.code).toBe(2);
}, 120_000);
