import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyDigest } from '../../../src/domain/provenance/verify-digest.ts';
import { type SignSpec, type StorageForm, signAndPush } from '../../../src/testing/provenance-fixtures.ts';
import { ID, ISS, startWorld, target, type World } from '../../support/provenance.ts';

// Every storage form × every outcome class, against the real docker-registry. The referrers API form goes
// through the loopback stand-in (Distribution 2.8 has no referrers API); the others hit the registry directly.
let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const FORMS: StorageForm[] = ['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att'];
let n = 0;

async function scenario(form: StorageForm, ns: string, spec: SignSpec | undefined) {
  const useProxy = form === 'referrers-api';
  const host = useProxy ? w.proxy.host : w.registry.host;
  const pusher = useProxy ? w.viaProxy : w.direct;
  const repo = `${ns}/app${++n}`;
  const image = await pusher.image(repo, 'v1');
  if (spec) await signAndPush(pusher, w.sigstore, repo, image, form, spec);
  const result = await verifyDigest(
    w.provenance.ports,
    w.provenance.policy,
    target(host, repo, image, 'v1'),
    new Date(),
  );
  return { result, image, host, repo };
}

const keyless = (identity = ID, issuer = ISS, claims?: Record<string, string>): SignSpec => ({
  signer: { keyless: { identity, issuer, ...(claims ? { claims } : {}) } },
});

describe.each(FORMS)('signatures stored as %s', (form) => {
  test('a keyless signature by the trusted identity verifies, and says where it was found', async () => {
    const { result } = await scenario(form, 'keyless', keyless());
    expect(result.outcome).toMatchObject({
      status: 'verified',
      signer: { kind: 'keyless', identity: ID, issuer: ISS },
      via: { path: form, tlog: true },
    });
    const attempt = result.attempts.find((a) => a.path === form);
    expect(attempt).toMatchObject({ result: 'found', artifacts: 1 });
    if (form !== 'referrers-api')
      expect(result.attempts.find((a) => a.path === 'referrers-api')?.result).toBe('unsupported');
  });

  test('a signature by another identity is "untrusted signer", naming who signed', async () => {
    const evil = 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main';
    const { result } = await scenario(form, 'keyless', keyless(evil));
    expect(result.outcome.status).toBe('untrusted');
    expect(result.outcome).toMatchObject({ signers: [{ identity: evil }] });
  });

  test('an identity that merely starts with the trusted one does not pass', async () => {
    const { result } = await scenario(form, 'keyless', keyless(`${ID}/../../evil`));
    expect(result.outcome.status).toBe('untrusted');
  });

  test('the right identity from the wrong issuer is untrusted', async () => {
    const { result } = await scenario(form, 'keyless', keyless(ID, 'https://accounts.example.com'));
    expect(result.outcome.status).toBe('untrusted');
  });

  test('modified content under a valid signature is "invalid signature"', async () => {
    const { result } = await scenario(form, 'keyless', { ...keyless(), tamper: true });
    expect(result.outcome.status).toBe('invalid');
  });

  test('a signature about another digest is invalid for this one', async () => {
    const other = `sha256:${'e'.repeat(64)}`;
    const { result, image } = await scenario(form, 'keyless', { ...keyless(), forDigest: other });
    expect(result.outcome.status).toBe('invalid');
    expect(result.outcome).toMatchObject({ reason: expect.stringContaining(`not ${image.digest}`) });
  });

  test('a key-pair signature by the trusted key verifies; another key does not', async () => {
    const ok = await scenario(form, 'keyed', { signer: { key: w.release } });
    expect(ok.result.outcome).toMatchObject({
      status: 'verified',
      signer: { kind: 'key', key: 'release' },
      via: { path: form },
    });
    const bad = await scenario(form, 'keyed', { signer: { key: w.other } });
    expect(['invalid', 'untrusted']).toContain(bad.result.outcome.status);
    const logged = await scenario(form, 'keyed', { signer: { key: w.other }, witnesses: { tlog: true } });
    expect(logged.result.outcome.status).toBe('untrusted');
  });
});

test('an image with no signature anywhere is "unsigned", listing every place looked at', async () => {
  const { result } = await scenario('referrers-tag', 'keyless', undefined);
  expect(result.outcome.status).toBe('unsigned');
  expect(result.attempts.map((a) => [a.path, a.result])).toEqual([
    ['referrers-api', 'unsupported'],
    ['referrers-tag', 'none'],
    ['cosign-sig', 'none'],
    ['cosign-att', 'none'],
  ]);
});

test('a message-signature bundle over the manifest verifies; over other bytes it does not', async () => {
  const ok = await scenario('referrers-api', 'keyless', { ...keyless(), content: 'message' });
  expect(ok.result.outcome).toMatchObject({ status: 'verified', via: { content: 'message-signature' } });
  const bad = await scenario('referrers-api', 'keyless', { ...keyless(), content: 'message', tamper: true });
  expect(bad.result.outcome.status).toBe('invalid');
});

test('identity regexps are anchored: a matching SAN passes, one with a suffix does not', async () => {
  const ok = await scenario('cosign-sig', 'regexp', keyless());
  expect(ok.result.outcome.status).toBe('verified');
  const longer = await scenario('cosign-sig', 'regexp', keyless(`${ID}-evil`));
  expect(longer.result.outcome.status).toBe('untrusted');
});

test('GitHub workflow claims are compared exactly', async () => {
  const ok = await scenario('referrers-tag', 'github', keyless(ID, ISS, { repository: 'acme/app' }));
  expect(ok.result.outcome).toMatchObject({
    status: 'verified',
    signer: { github: { repository: 'acme/app' } },
  });
  const other = await scenario('referrers-tag', 'github', keyless(ID, ISS, { repository: 'acme/app-fork' }));
  expect(other.result.outcome.status).toBe('untrusted');
});

test('a policy requiring a signed timestamp rejects a signature without one and accepts one with it', async () => {
  const without = await scenario('referrers-tag', 'tsa', keyless());
  expect(without.result.outcome).toMatchObject({
    status: 'invalid',
    reason: expect.stringContaining('signed timestamp'),
  });
  const withTsa = await scenario('referrers-tag', 'tsa', {
    ...keyless(),
    witnesses: { tlog: true, tsa: true },
  });
  expect(withTsa.result.outcome).toMatchObject({ status: 'verified', via: { signedTimestamp: true } });
});

test('signatures in an overriding signature repository are found there', async () => {
  const sigRepo = 'signatures/store';
  const { result } = await scenario('cosign-sig', 'sigrepo', { ...keyless(), sigRepo });
  expect(result.outcome).toMatchObject({
    status: 'verified',
    via: { repository: `${w.registry.host}/${sigRepo}` },
  });
});
