import { afterAll, describe, expect, it } from 'vitest';
import type { DigestVerification } from '../../../src/domain/provenance/outcome.ts';
import { SignerRecords } from '../../../src/store/provenance/signer-records.ts';
import { testRedis } from '../../support/redis.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const verification = (digest: string, checkedAt: string, identity = ID): DigestVerification => ({
  digest,
  repository: 'registry.example.com/app',
  outcome: {
    status: 'untrusted',
    reason: 'not trusted',
    signers: [{ kind: 'keyless', identity, issuer: ISS }],
  },
  attempts: (['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att'] as const).map((path) => ({
    path,
    repository: 'registry.example.com/app',
    reference: path,
    result: path === 'cosign-sig' ? 'found' : 'none',
    artifacts: path === 'cosign-sig' ? 1 : 0,
  })),
  candidates: [
    {
      path: 'cosign-sig',
      reference: `sha256-${digest.slice(7)}.sig`,
      verdict: 'untrusted',
      reason: 'not trusted',
      signer: { kind: 'keyless', identity, issuer: ISS },
    },
  ],
  policy: { name: 'r', version: 'v1' },
  checkedAt,
});

describe('signer records in Redis', () => {
  const r = testRedis();
  const conn = r.connect();
  afterAll(async () => {
    await conn.quit();
  });

  it('round-trips, accumulates signatures across verifications, and expires with the history window', async () => {
    const store = new SignerRecords(conn, r.prefix, 7 * 86_400);
    await store.record([verification(D1, '2026-12-01T00:00:00.000Z')]);
    await store.record([verification(D1, '2026-12-02T00:00:00.000Z', 'https://x.example/other')]);
    const got = await store.getMany([D1, D2]);
    expect([...got.keys()]).toEqual([D1]);
    const rec = got.get(D1);
    expect(rec).toMatchObject({ checkedAt: '2026-12-02T00:00:00.000Z', complete: true });
    expect(
      rec?.observations.map((o) => (o.signer.kind === 'keyless' ? o.signer.identity : '')).sort(),
    ).toEqual([ID, 'https://x.example/other'].sort());
    const ttl = await conn.ttl(`${r.prefix}:prov-signers:${D1}`);
    expect(ttl).toBeGreaterThan(6 * 86_400);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400);
  });

  it('what is read back is validated: a bad `checked` makes it partial, a forged or corrupt field is dropped', async () => {
    const store = new SignerRecords(conn, `${r.prefix}:v`, 86_400);
    await store.record([verification(D1, '2026-12-01T00:00:00.000Z')]);
    const key = `${r.prefix}:v:prov-signers:${D1}`;
    const [field] = Object.keys(await conn.hgetall(key)).filter((k) => k.startsWith('o:'));
    const good = JSON.parse((await conn.hget(key, field as string)) as string);
    // A broken `checked`: the signature stays known, but the record no longer claims a complete look.
    await conn.hset(key, 'checked', '{"checkedAt":"yesterday","complete":true}', 'o:junk', '{"signer":');
    expect((await store.getMany([D1])).get(D1)).toMatchObject({ complete: false, observations: [good] });
    // Someone rewrites the identity under the same field, or a value does not fit the schema: dropped; with
    // nothing valid left the digest reads as never verified (unknown), not as "signed by nobody".
    await conn.hset(
      key,
      field as string,
      JSON.stringify({ ...good, signer: { ...good.signer, identity: 'https://attacker.example/x' } }),
      'o:extra',
      JSON.stringify({ ...good, trusted: 'yes' }),
    );
    await conn.hset(`${r.prefix}:v:prov-signers:${D2}`, 'checked', 'not json');
    const got = await store.getMany([D1, D2]);
    expect(got.has(D1)).toBe(false);
    expect(got.has(D2)).toBe(false);
  });

  it('malformed digests are neither written nor read', async () => {
    const store = new SignerRecords(conn, `${r.prefix}:m`, 86_400);
    await store.record([verification('sha256:nothex', '2026-12-01T00:00:00.000Z')]);
    expect(await conn.keys(`${r.prefix}:m:*`)).toEqual([]);
    expect((await store.getMany(['sha256:nothex', '../x'])).size).toBe(0);
  });
});
