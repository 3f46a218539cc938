import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildProvenance, type Provenance } from '../../../src/adapters/provenance.ts';
import { rootFingerprint, shippedPublicGoodRoot } from '../../../src/adapters/sigstore/trust.ts';
import { provenanceSchema } from '../../../src/domain/provenance/policy-config.ts';
import type { Rule } from '../../../src/domain/provenance/ports.ts';
import { startTrustRoot } from '../../../src/jobs/provenance/trust-root.ts';
import { createLogger } from '../../../src/log.ts';
import { TrustStatusStore } from '../../../src/store/provenance/trust-status.ts';
import { VerificationCache } from '../../../src/store/provenance/verification-cache.ts';
import { type MockSigstore, startMockSigstore } from '../../../src/testing/sigstore-mock.ts';
import { testRedis } from '../../support/redis.ts';
import { type Flaw, startTufRepo, type TufRepo } from '../../support/tuf-repo.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const rule: Rule = {
  keys: [],
  keyless: [{ identity: ID, issuer: ISS }],
  requireTlog: true,
  requireSignedTimestamp: false,
};
const artifact = Buffer.from('release tarball\n');
const subject = {
  kind: 'blob' as const,
  digest: `sha256:${createHash('sha256').update(artifact).digest('hex')}`,
  bytes: artifact,
};

let sig: MockSigstore;
let bundle: SerializedBundle;
let dir: string;
let redis: Redis;
let prefix: string;
let repo: TufRepo;
let n = 0;
const log = createLogger('silent', 'test');
const running: Array<{ stop: () => Promise<void> }> = [];

beforeAll(async () => {
  sig = await startMockSigstore();
  bundle = await sig.keyless({ data: artifact }, { identity: ID, issuer: ISS });
  dir = await mkdtemp(join(tmpdir(), 'scope-tuf-test-'));
  const r = testRedis();
  redis = r.connect();
  prefix = r.prefix;
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  await repo?.close();
});

afterAll(async () => {
  await redis.quit();
  await sig.close();
  await rm(dir, { recursive: true, force: true });
});

/** A provenance whose config turns TUF refresh on against the loopback repository (fresh cache each time). */
async function setUp(opts: { tufRefresh?: boolean; cacheDir?: string } = {}) {
  repo = await startTufRepo(await mkdtemp(join(dir, 'repo-')));
  const on = opts.tufRefresh ?? true;
  const config = provenanceSchema.parse({
    rules: [{ name: 'release', match: ['**'], keyless: [{ identity: ID, issuer: ISS }] }],
    tufRefresh: on,
    ...(on
      ? {
          tufMirrorUrl: repo.url,
          tufInitialRoot: repo.initialRoot,
          tufCacheDir: opts.cacheDir ?? join(dir, `cache-${++n}`),
        }
      : {}),
  });
  const provenance = buildProvenance(config, {});
  const store = new TrustStatusStore(redis, `${prefix}${++n}`);
  const start = () => {
    const t = startTrustRoot({
      provenance,
      config,
      store,
      log,
      worker: 'w1',
      // With tufRefresh off the configuration cannot name a mirror: point the client at ours anyway, so a
      // refresh that ran regardless would show in the request count.
      ...(on
        ? {}
        : {
            tuf: { mirrorUrl: repo.url, initialRoot: repo.initialRoot, cacheDir: join(dir, `cache-${++n}`) },
          }),
    });
    running.push(t);
    return t;
  };
  return { provenance, store, start };
}

const check = (p: Provenance) => p.verifier.check({ form: 'bundle', bundle }, subject, rule);
const mockFingerprint = () => rootFingerprint(TrustedRoot.fromJSON(sig.trustedRoot));

describe('TUF refresh of the public-good trusted root', () => {
  test('a bundle from the private Sigstore verifies after the refresh and not before (shipped root only)', async () => {
    const { provenance, store, start } = await setUp();
    repo.publish(sig.trustedRoot);
    expect(check(provenance).verdict).toBe('invalid');
    const before = provenance.policy.version;
    expect(provenance.root).toMatchObject({
      source: 'shipped',
      fingerprint: rootFingerprint(shippedPublicGoodRoot()),
    });

    const t = start();
    expect(await t.refresher?.refresh()).toBe(true);

    expect(check(provenance)).toMatchObject({ verdict: 'verified' });
    expect(provenance.root).toMatchObject({
      source: 'tuf',
      mirror: repo.url,
      fingerprint: mockFingerprint(),
    });
    expect(repo.requests).toEqual(
      expect.arrayContaining(['/2.root.json', '/timestamp.json', '/snapshot.json', '/targets.json']),
    );
    await t.publish();
    const { roots } = await store.list();
    expect(roots).toEqual([
      expect.objectContaining({
        worker: 'w1',
        source: 'tuf',
        fingerprint: mockFingerprint(),
        tufRefresh: true,
      }),
    ]);
    expect(roots[0]?.lastError).toBeUndefined();
    expect(provenance.policy.version).not.toBe(before);
  });

  test('results cached under the old root are not served under the refreshed one', async () => {
    const { provenance, start } = await setUp();
    repo.publish(sig.trustedRoot);
    const cache = new VerificationCache(redis, `${prefix}cache`, 600);
    const item = { repository: 'ghcr.io/acme/app', digest: subject.digest };
    await cache.putMany(provenance.policy.version, [
      {
        ...item,
        outcome: { status: 'invalid', reason: 'made under the shipped root' },
        attempts: [],
        candidates: [],
        policy: { name: 'release', version: provenance.policy.version },
        checkedAt: new Date().toISOString(),
      },
    ]);
    expect((await cache.getMany(provenance.policy.version, [item]))[0]).toBeDefined();
    expect(await start().refresher?.refresh()).toBe(true);
    expect((await cache.getMany(provenance.policy.version, [item]))[0]).toBeUndefined();
  });

  test.each<[Flaw, RegExp]>([
    ['timestamp-signature', /timestamp was signed by 0\/1 keys/],
    ['targets-signature', /targets was signed by 0\/1 keys/],
    ['timestamp-expired', /timestamp\.json is expired/],
  ])(
    'a repository with a bad %s is refused: the shipped root stays, status shows the error',
    async (flaw, why) => {
      const { provenance, store, start } = await setUp();
      repo.publish(sig.trustedRoot, flaw);
      const t = start();
      expect(await t.refresher?.refresh()).toBe(false);
      expect(provenance.root.source).toBe('shipped');
      expect(check(provenance).verdict).toBe('invalid');
      await t.publish();
      const [entry] = (await store.list()).roots;
      expect(entry).toMatchObject({ source: 'shipped', tufRefresh: true });
      expect(entry?.lastError).toMatch(why);
      expect(entry?.lastAttemptAt).toBeDefined();
    },
  );

  test('a failed refresh after a good one keeps the refreshed root and reports the error', async () => {
    const { provenance, store, start } = await setUp();
    repo.publish(sig.trustedRoot);
    const t = start();
    expect(await t.refresher?.refresh()).toBe(true);
    const good = provenance.root;
    repo.publish({ ...sig.trustedRoot, tlogs: [] }, 'targets-signature');
    expect(await t.refresher?.refresh()).toBe(false);
    expect(provenance.root).toEqual(good);
    expect(check(provenance).verdict).toBe('verified');
    await t.publish();
    expect((await store.list()).roots[0]).toMatchObject({ source: 'tuf', lastError: expect.any(String) });
  });

  test('start-up does not wait for the mirror: the shipped root verifies meanwhile', async () => {
    const { provenance, start } = await setUp();
    repo.publish(sig.trustedRoot);
    repo.hold();
    const t = start();
    expect(provenance.root.source).toBe('shipped');
    expect(check(provenance).verdict).toBe('invalid');
    repo.release();
    expect(await t.refresher?.refresh()).toBe(true);
    expect(provenance.root.source).toBe('tuf');
  });

  test('a TUF cache others can write to is refused (its root.json would be the trust anchor)', async () => {
    const cacheDir = await mkdtemp(join(dir, 'shared-'));
    await chmod(cacheDir, 0o777);
    const { provenance, start } = await setUp({ cacheDir });
    repo.publish(sig.trustedRoot);
    const t = start();
    expect(await t.refresher?.refresh()).toBe(false);
    expect(t.refresher?.state().lastError).toMatch(/writable by group or others/);
    expect(provenance.root.source).toBe('shipped');
    expect(repo.requests).toEqual([]);
  });

  test('tufRefresh off: no request reaches the mirror, status says shipped root', async () => {
    const { provenance, store, start } = await setUp({ tufRefresh: false });
    repo.publish(sig.trustedRoot);
    const t = start();
    expect(t.refresher).toBeUndefined();
    await t.publish();
    expect(repo.requests).toEqual([]);
    expect(provenance.root.source).toBe('shipped');
    expect((await store.list()).roots).toEqual([
      expect.objectContaining({ worker: 'w1', source: 'shipped', tufRefresh: false }),
    ]);
  });
});

test('status entries read back from Redis are validated: a planted one is counted, never shown', async () => {
  const p = `${prefix}planted`;
  const store = new TrustStatusStore(redis, p);
  await store.put({
    worker: 'w1',
    source: 'shipped',
    fingerprint: '0123456789abcdef',
    tufRefresh: false,
    reportedAt: new Date().toISOString(),
  });
  await redis.sadd(`${p}:prov:trust:workers`, 'evil', 'gone');
  await redis.set(
    `${p}:prov:trust:w:evil`,
    JSON.stringify({ worker: 'evil', source: 'tuf', fingerprint: 'x' }),
  );
  const { roots, unreadable } = await store.list();
  expect(roots.map((r) => r.worker)).toEqual(['w1']);
  expect(unreadable).toBe(1);
  expect(await redis.smembers(`${p}:prov:trust:workers`)).not.toContain('gone');
});
