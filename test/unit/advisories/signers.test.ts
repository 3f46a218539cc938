import { describe, expect, it } from 'vitest';
import { ComponentIndex, type Exposure, FleetIndex } from '../../../src/domain/advisories/match.ts';
import type { Advisory, Indicator } from '../../../src/domain/advisories/model.ts';
import { SignerIndex, type SignerRecord, signerRecordOf } from '../../../src/domain/advisories/signers.ts';
import type { DigestVerification } from '../../../src/domain/provenance/outcome.ts';
import { presentAdvisoryAlert } from '../../../src/render/advisories/present-alert.ts';
import { presentAdvisories } from '../../../src/render/advisories/present-commands.ts';
import { toTerminal } from '../../../src/render/terminal.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const SIGNED = `sha256:${'a'.repeat(64)}`;
const UNVERIFIED = `sha256:${'b'.repeat(64)}`;
const PAST = `sha256:${'c'.repeat(64)}`;
const PARTLY = `sha256:${'d'.repeat(64)}`;
const AT = '2026-12-01T10:00:00.000Z';

const verified = (digest: string, identity = ID, issuer = ISS): DigestVerification => ({
  digest,
  repository: 'registry.example.com/keyless/api',
  outcome: {
    status: 'verified',
    signer: { kind: 'keyless', identity, issuer },
    via: {
      form: 'cosign-signature',
      content: 'message-signature',
      path: 'cosign-sig',
      repository: 'registry.example.com/keyless/api',
      reference: `sha256-${digest.slice(7)}.sig`,
      tlog: true,
      signedTimestamp: false,
    },
  },
  attempts: [
    {
      path: 'referrers-api',
      repository: 'registry.example.com/keyless/api',
      reference: 'x',
      result: 'none',
      artifacts: 0,
    },
    {
      path: 'referrers-tag',
      repository: 'registry.example.com/keyless/api',
      reference: 'x',
      result: 'none',
      artifacts: 0,
    },
    {
      path: 'cosign-sig',
      repository: 'registry.example.com/keyless/api',
      reference: 'x',
      result: 'found',
      artifacts: 1,
    },
    {
      path: 'cosign-att',
      repository: 'registry.example.com/keyless/api',
      reference: 'x',
      result: 'skipped',
      artifacts: 0,
    },
  ],
  candidates: [
    {
      path: 'cosign-sig',
      reference: `sha256-${digest.slice(7)}.sig`,
      verdict: 'verified',
      reason: 'ok',
      signer: { kind: 'keyless', identity, issuer },
    },
  ],
  policy: { name: 'keyless', version: 'v1' },
  checkedAt: AT,
});

describe('signer records from verifications', () => {
  it('a verified signature is recorded with identity, issuer, path, form, time; skipped places make it partial', () => {
    const r = signerRecordOf(verified(SIGNED));
    expect(r).toMatchObject({ digest: SIGNED, checkedAt: AT, complete: false });
    expect(r?.observations).toEqual([
      {
        signer: { kind: 'keyless', identity: ID, issuer: ISS },
        path: 'cosign-sig',
        form: 'cosign-signature',
        repository: 'registry.example.com/keyless/api',
        reference: `sha256-${'a'.repeat(64)}.sig`,
        cryptographic: true,
        trusted: true,
        seenAt: AT,
      },
    ]);
  });

  it('an untrusted (valid) signer is recorded too: the compromised-vendor case', () => {
    const v = verified(SIGNED, 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main');
    const r = signerRecordOf({
      ...v,
      outcome: { status: 'untrusted', reason: 'not trusted', signers: [] },
      attempts: v.attempts.map((a) => ({ ...a, result: a.result === 'skipped' ? 'none' : a.result })),
      candidates: v.candidates.map((c) => ({ ...c, path: 'referrers-tag', verdict: 'untrusted' })),
    });
    expect(r?.complete).toBe(true);
    expect(r?.observations[0]).toMatchObject({
      form: 'sigstore-bundle',
      cryptographic: true,
      trusted: false,
    });
  });

  it('a registry scope never contacted leaves no record (the digest stays "never verified")', () => {
    expect(
      signerRecordOf({
        ...verified(SIGNED),
        outcome: { status: 'unknown-registry', reason: 'not allowed' },
        attempts: [],
        candidates: [],
      }),
    ).toBeUndefined();
  });
});

const exposure = (digest: string, workload: string, state: Exposure['state']): Exposure => ({
  environment: 'prod',
  cluster: 'prod-eu',
  namespace: 'payments',
  workload,
  image: `registry.example.com/keyless/${workload.split('/')[1]}:v1`,
  digest,
  state,
});
const fleetExposures = [
  exposure(SIGNED, 'Deployment/api', 'current'),
  exposure(UNVERIFIED, 'Deployment/worker', 'current'),
  exposure(PAST, 'Deployment/old', 'past'),
  exposure(PARTLY, 'Deployment/cron', 'current'),
];
const complete = (r: SignerRecord | undefined): SignerRecord => ({ ...(r as SignerRecord), complete: true });
const records = new Map<string, SignerRecord>([
  [SIGNED, complete(signerRecordOf(verified(SIGNED)))],
  // Verified by someone else, and the later places were not read.
  [
    PARTLY,
    signerRecordOf(
      verified(PARTLY, 'https://github.com/acme/other/.github/workflows/r.yml@refs/heads/main'),
    ) as SignerRecord,
  ],
]);
const ioc = (indicators: Indicator[]): Advisory => ({
  id: 'IOC-SIGNER-1',
  source: 'vendor',
  kind: 'ioc',
  title: 'Stolen release workflow identity',
  severity: 'critical',
  references: [],
  aliases: [],
  packages: [],
  indicators,
  notes: [],
});

describe('signer-identity indicators against the fleet', () => {
  const fleet = new FleetIndex(fleetExposures, new ComponentIndex(), new SignerIndex(records));

  it('the exact identity (and issuer) finds the digest signed by it, where it runs, and how', () => {
    const m = fleet.matchAdvisory(ioc([{ kind: 'signer-identity', identity: ID, issuer: ISS }]));
    const f = m.findings();
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      digest: SIGNED,
      workload: 'Deployment/api',
      state: 'current',
      via: 'signer-identity',
      certainty: 'affected',
      signature: { path: 'cosign-sig', form: 'cosign-signature', signer: { identity: ID, issuer: ISS } },
    });
    expect(fleet.match(ioc([{ kind: 'signer-identity', identity: ID }]))).toHaveLength(1);
  });

  it.each([
    ['a prefix of the identity', { identity: ID.slice(0, ID.indexOf('@')) }],
    ['the identity with more after it', { identity: `${ID}-evil` }],
    ['another case', { identity: ID.toUpperCase() }],
    ['the right identity with another issuer', { identity: ID, issuer: 'https://accounts.google.com' }],
  ])('look-alike: %s matches nothing', (_what, ind) => {
    expect(fleet.match(ioc([{ kind: 'signer-identity', ...ind }]))).toEqual([]);
  });

  it('digests never verified or verified in part are undecided, never "not affected"', () => {
    const m = fleet.matchAdvisory(ioc([{ kind: 'signer-identity', identity: `${ID}-evil` }]));
    expect(m.total).toBe(0);
    expect(m.signers).toEqual({
      identities: [`${ID}-evil`],
      unverified: { current: 1, past: 1 },
      partial: { current: 1, past: 0 },
    });
    // A digest whose record matched is decided even if its verification stopped early.
    const hit = fleet.matchAdvisory(
      ioc([
        {
          kind: 'signer-identity',
          identity: 'https://github.com/acme/other/.github/workflows/r.yml@refs/heads/main',
        },
      ]),
    );
    expect(hit.total).toBe(1);
    expect(hit.signers?.partial).toEqual({ current: 0, past: 0 });
  });

  it('advisories without signer indicators carry no coverage', () => {
    expect(fleet.matchAdvisory(ioc([{ kind: 'image-digest', digest: SIGNED }])).signers).toBeUndefined();
  });

  it('the fingerprint changes when a digest gets verified (the notification is updated)', () => {
    const a = ioc([{ kind: 'signer-identity', identity: `${ID}-evil` }]);
    const before = fleet.matchAdvisory(a).fingerprint(a.id);
    const more = new Map(records);
    more.set(UNVERIFIED, complete(signerRecordOf(verified(UNVERIFIED, 'https://x.example/other'))));
    const after = new FleetIndex(fleetExposures, new ComponentIndex(), new SignerIndex(more));
    expect(after.matchAdvisory(a).fingerprint(a.id)).not.toBe(before);
  });

  it('without any signer records every digest is unknown', () => {
    const bare = new FleetIndex(fleetExposures, new ComponentIndex());
    expect(bare.matchAdvisory(ioc([{ kind: 'signer-identity', identity: ID }])).signers?.unverified).toEqual({
      current: 3,
      past: 1,
    });
  });

  it('the alert names identity, issuer, digest, signature place and location, and the unknown line', () => {
    const a = ioc([{ kind: 'signer-identity', identity: ID, issuer: ISS }]);
    const m = fleet.matchAdvisory(a);
    const text = toTerminal(presentAdvisoryAlert(a, m.findings(), new Date(AT), m.signers), { color: false });
    expect(text).toContain(ID);
    expect(text).toContain(ISS);
    expect(text).toContain(SIGNED);
    expect(text).toContain('payments/Deployment/api');
    expect(text).toContain('prod-eu');
    expect(text).toContain('running now');
    expect(text).toContain('cosign .sig tag');
    expect(text).toContain(
      `1 running digest has never been verified; whether it was signed by ${ID} is unknown — run /scope verify all`,
    );
  });

  it('an alert with no confirmed match still says what is unknown', () => {
    const a = ioc([{ kind: 'signer-identity', identity: `${ID}-evil` }]);
    const m = fleet.matchAdvisory(a);
    const msg = presentAdvisoryAlert(a, m.findings(), new Date(AT), m.signers);
    expect(msg.summary).toContain('no signature by it found so far');
    expect(msg.summary).not.toContain('no longer matches');
    expect(toTerminal(msg, { color: false })).toContain('never been verified');
  });
});

describe('/scope advisories lists signer advisories that cannot be ruled out', () => {
  it('an advisory with no match but never-verified digests is listed apart, never as "matches nothing"', () => {
    const text = toTerminal(
      presentAdvisories(
        {
          loaded: 1,
          withdrawn: 0,
          active: [],
          undecided: [
            {
              id: 'IOC-SIGNER-1',
              title: 'Stolen identity',
              severity: 'critical',
              source: 'vendor',
              running: 3,
            },
          ],
          feeds: [],
          configuredFeeds: ['vendor'],
          matchedAt: AT,
        },
        { commandText: '/scope advisories', now: new Date(AT) },
      ),
      { color: false },
    );
    expect(text).toContain('IOC-SIGNER-1');
    expect(text).toContain('3 running digests never verified');
    expect(text).not.toContain('No advisory matches anything');
  });
});
