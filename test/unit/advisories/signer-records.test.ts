import { describe, expect, it } from 'vitest';
import { ComponentIndex, type Exposure, FleetIndex } from '../../../src/domain/advisories/match.ts';
import type { Advisory } from '../../../src/domain/advisories/model.ts';
import {
  MAX_OBSERVATIONS,
  observationKey,
  SignerIndex,
  type SignerObservation,
  type SignerRecord,
  signerRecordOf,
} from '../../../src/domain/advisories/signers.ts';
import type {
  CandidateResult,
  DigestVerification,
  Outcome,
  PathAttempt,
  SignaturePath,
  SignerInfo,
} from '../../../src/domain/provenance/outcome.ts';

const ISS = 'https://token.actions.githubusercontent.com';
const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const OTHER = 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main';
const DIGEST = `sha256:${'1'.repeat(64)}`;
const INDEX = `sha256:${'f'.repeat(64)}`;
const IMAGE_REPO = 'registry.example.com/acme/api';
const SIG_REPO = 'registry.example.com/signatures/api';
const AT = '2026-12-01T10:00:00.000Z';

const keyless = (identity: string, issuer = ISS): SignerInfo => ({ kind: 'keyless', identity, issuer });
const attempt = (
  path: SignaturePath,
  result: PathAttempt['result'],
  repository = IMAGE_REPO,
): PathAttempt => ({
  path,
  repository,
  reference: 'r',
  result,
  artifacts: result === 'found' ? 1 : 0,
});
const candidate = (
  path: SignaturePath,
  reference: string,
  verdict: CandidateResult['verdict'],
  signer?: SignerInfo,
): CandidateResult => ({ path, reference, verdict, reason: 'r', ...(signer ? { signer } : {}) });
const allPlaces = (result: PathAttempt['result']): PathAttempt[] =>
  (['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att'] as const).map((p) => attempt(p, result));

/** A verification of DIGEST that looked everywhere and found nothing; tests override what they need. */
const verification = (over: Partial<DigestVerification>): DigestVerification => ({
  digest: DIGEST,
  repository: IMAGE_REPO,
  outcome: { status: 'unsigned', reason: 'nothing found' },
  attempts: allPlaces('none'),
  candidates: [],
  policy: { name: 'keyless', version: 'v1' },
  checkedAt: AT,
  ...over,
});
const untrusted: Outcome = { status: 'untrusted', reason: 'not trusted', signers: [] };
const observationsOf = (v: DigestVerification): SignerObservation[] => signerRecordOf(v)?.observations ?? [];

const exposure = (digest: string): Exposure => ({
  environment: 'prod',
  cluster: 'prod-eu',
  namespace: 'payments',
  workload: 'Deployment/api',
  image: `${IMAGE_REPO}:v1`,
  digest,
  state: 'current',
});
const signerIoc = (identity: string): Advisory => ({
  id: 'IOC-SIGNER-2',
  source: 'vendor',
  kind: 'ioc',
  title: 'Stolen identity',
  severity: 'critical',
  references: [],
  aliases: [],
  packages: [],
  indicators: [{ kind: 'signer-identity', identity }],
  notes: [],
});
/** What a signer-identity advisory makes of one running digest whose verification was `v`. */
const matchOne = (v: DigestVerification, identity: string) => {
  const rec = signerRecordOf(v);
  const records = new Map<string, SignerRecord>(rec ? [[DIGEST, rec]] : []);
  return new FleetIndex([exposure(DIGEST)], new ComponentIndex(), new SignerIndex(records)).matchAdvisory(
    signerIoc(identity),
  );
};

describe('signer records: which verifications leave a record', () => {
  it('a look that found no signature at all is a complete, empty record: the digest is decided, not "never verified"', () => {
    const v = verification({});
    expect(signerRecordOf(v)).toStrictEqual({
      digest: DIGEST,
      observations: [],
      checkedAt: AT,
      complete: true,
    });
    const m = matchOne(v, ID);
    expect(m.total).toBe(0);
    expect(m.signers?.unverified).toEqual({ current: 0, past: 0 });
    expect(m.signers?.partial).toEqual({ current: 0, past: 0 });
  });

  it('a digest whose registry was never contacted has no record and counts as never verified', () => {
    const v = verification({ outcome: { status: 'unknown-registry', reason: 'no' }, attempts: [] });
    expect(signerRecordOf(v)).toBeUndefined();
    expect(matchOne(v, ID).signers?.unverified).toEqual({ current: 1, past: 0 });
  });

  it('a signature reported without the attempts that found it is still recorded (scope did look)', () => {
    const v = verification({
      outcome: untrusted,
      attempts: [],
      candidates: [candidate('cosign-sig', 'sha256-x.sig', 'untrusted', keyless(OTHER))],
    });
    expect(signerRecordOf(v)?.observations.map((o) => o.signer)).toEqual([keyless(OTHER)]);
    expect(matchOne(v, OTHER).findings()).toMatchObject([{ digest: DIGEST, certainty: 'affected' }]);
  });
});

describe('signer records: what each signature is recorded as', () => {
  it('each signature place is recorded in its storage form', () => {
    const obs = observationsOf(
      verification({
        outcome: untrusted,
        attempts: allPlaces('found'),
        candidates: [
          candidate('referrers-api', 'a', 'untrusted', keyless(`${OTHER}#1`)),
          candidate('referrers-tag', 'b', 'untrusted', keyless(`${OTHER}#2`)),
          candidate('cosign-sig', 'c', 'untrusted', keyless(`${OTHER}#3`)),
          candidate('cosign-att', 'd', 'untrusted', keyless(`${OTHER}#4`)),
        ],
      }),
    );
    expect(obs.map((o) => [o.path, o.form])).toEqual([
      ['referrers-api', 'sigstore-bundle'],
      ['referrers-tag', 'sigstore-bundle'],
      ['cosign-sig', 'cosign-signature'],
      ['cosign-att', 'cosign-attestation'],
    ]);
  });

  it('a candidate that names no signer (its signature did not verify) adds no observation', () => {
    const obs = observationsOf(
      verification({
        outcome: { status: 'invalid', reason: 'bad signature' },
        attempts: allPlaces('found'),
        candidates: [
          candidate('cosign-sig', 'sha256-x.sig', 'invalid'),
          candidate('cosign-att', 'sha256-x.att', 'untrusted', keyless(OTHER)),
        ],
      }),
    );
    expect(obs.map((o) => o.path)).toEqual(['cosign-att']);
  });

  it('a signer only claimed by a signature that failed verification is not cryptographic, and its match is only "unknown"', () => {
    const v = verification({
      outcome: { status: 'invalid', reason: 'bad signature' },
      attempts: allPlaces('found'),
      candidates: [candidate('cosign-sig', 'sha256-x.sig', 'invalid', keyless(OTHER))],
    });
    expect(observationsOf(v)).toMatchObject([{ cryptographic: false, trusted: false }]);
    expect(matchOne(v, OTHER).findings()).toMatchObject([{ digest: DIGEST, certainty: 'unknown' }]);
  });

  it("a signature on the multi-arch index is recorded as on the index; the digest's own is not", () => {
    const obs = observationsOf(
      verification({
        outcome: untrusted,
        parentIndex: INDEX,
        attempts: allPlaces('found'),
        candidates: [
          candidate('cosign-sig', `sha256-${INDEX.slice(7)}.sig`, 'untrusted', keyless(OTHER)),
          candidate('cosign-sig', `sha256-${DIGEST.slice(7)}.sig`, 'untrusted', keyless(OTHER)),
        ],
      }),
    );
    expect(obs).toHaveLength(2);
    expect(obs[0]?.onIndex).toBe(INDEX);
    expect(obs[1]).not.toHaveProperty('onIndex');
  });

  it('an unverified signature is placed in the repository where its place was found, else the image repository', () => {
    const obs = observationsOf(
      verification({
        outcome: untrusted,
        attempts: [
          attempt('cosign-sig', 'none', 'registry.example.com/nothing/here'),
          attempt('referrers-api', 'found', 'registry.example.com/other/place'),
          attempt('cosign-sig', 'found', SIG_REPO),
        ],
        candidates: [
          candidate('cosign-sig', 'sha256-x.sig', 'untrusted', keyless(OTHER)),
          candidate('cosign-att', 'sha256-x.att', 'untrusted', keyless(OTHER)),
        ],
      }),
    );
    expect(obs.map((o) => [o.path, o.repository])).toEqual([
      ['cosign-sig', SIG_REPO],
      ['cosign-att', IMAGE_REPO],
    ]);
  });

  it('the verified signature is recorded as verification reported it; other signatures by path and reference', () => {
    const via = `referrers/${DIGEST} → sha256:${'b'.repeat(64)}`;
    const other = `referrers/${DIGEST} → sha256:${'e'.repeat(64)}`;
    const obs = observationsOf(
      verification({
        outcome: {
          status: 'verified',
          signer: keyless(ID),
          via: {
            form: 'sigstore-bundle',
            content: 'message-signature',
            path: 'referrers-api',
            repository: SIG_REPO,
            reference: via,
            onIndex: INDEX,
            tlog: true,
            signedTimestamp: false,
          },
        },
        attempts: allPlaces('none'),
        candidates: [
          // Same place, another bundle; same reference, another place: neither is the verified signature.
          candidate('referrers-api', other, 'untrusted', keyless(OTHER)),
          candidate('referrers-tag', via, 'untrusted', keyless(OTHER)),
          candidate('referrers-api', via, 'verified', keyless(ID)),
        ],
      }),
    );
    const common = { form: 'sigstore-bundle', cryptographic: true, seenAt: AT };
    expect(obs).toStrictEqual([
      {
        ...common,
        signer: keyless(OTHER),
        path: 'referrers-api',
        repository: IMAGE_REPO,
        reference: other,
        trusted: false,
      },
      {
        ...common,
        signer: keyless(OTHER),
        path: 'referrers-tag',
        repository: IMAGE_REPO,
        reference: via,
        trusted: false,
      },
      {
        ...common,
        signer: keyless(ID),
        path: 'referrers-api',
        repository: SIG_REPO,
        reference: via,
        onIndex: INDEX,
        trusted: true,
      },
    ]);
  });
});

describe('signer records: each signature once, and a bounded number', () => {
  it('the same signature by the same signer is recorded once', () => {
    const c = candidate('cosign-sig', 'sha256-x.sig', 'untrusted', keyless(OTHER));
    expect(observationsOf(verification({ outcome: untrusted, candidates: [c, { ...c }] }))).toHaveLength(1);
  });

  it('every distinct signer of one signature reference is kept (keyless by identity and issuer, keys by key)', () => {
    const signers: SignerInfo[] = [
      keyless(ID),
      keyless(OTHER),
      keyless(ID, 'https://accounts.google.com'),
      { kind: 'key', key: 'release-key' },
      { kind: 'key', key: 'sha256:0123456789abcdef' },
    ];
    const obs = observationsOf(
      verification({
        outcome: untrusted,
        candidates: signers.map((s) => candidate('cosign-sig', 'sha256-x.sig', 'untrusted', s)),
      }),
    );
    expect(obs.map((o) => o.signer)).toEqual(signers);
  });

  it(`at most ${MAX_OBSERVATIONS} signatures are kept per verification, the first ones`, () => {
    const obs = observationsOf(
      verification({
        outcome: untrusted,
        candidates: Array.from({ length: MAX_OBSERVATIONS + 8 }, (_, i) =>
          candidate('referrers-api', `bundle-${i}`, 'untrusted', keyless(OTHER)),
        ),
      }),
    );
    expect(MAX_OBSERVATIONS).toBe(32);
    expect(obs).toHaveLength(32);
    expect(obs.at(-1)?.reference).toBe('bundle-31');
  });

  it('the observation key names path, reference, index and signer (it is the stored field: keep it stable)', () => {
    const base: SignerObservation = {
      signer: keyless(ID),
      path: 'cosign-sig',
      form: 'cosign-signature',
      repository: IMAGE_REPO,
      reference: 'sha256-x.sig',
      cryptographic: true,
      trusted: true,
      seenAt: AT,
    };
    expect(observationKey(base)).toBe(`cosign-sig|sha256-x.sig||keyless|${ID}|${ISS}`);
    expect(observationKey({ ...base, signer: { kind: 'key', key: 'release-key' }, onIndex: INDEX })).toBe(
      `cosign-sig|sha256-x.sig|${INDEX}|key|release-key`,
    );
    // The same signature seen through the index is another observation than on the digest itself.
    expect(observationKey({ ...base, onIndex: INDEX })).not.toBe(observationKey(base));
  });
});

describe('signer records: complete only when every place was read', () => {
  it.each([
    [
      'every place answered, some without support for referrers',
      untrusted,
      ['found', 'unsupported', 'none', 'none'],
      true,
    ],
    ['a place was skipped after a trusted signature', untrusted, ['found', 'skipped', 'none', 'none'], false],
    [
      'a place denied access (another signer may be there)',
      untrusted,
      ['found', 'denied', 'none', 'none'],
      false,
    ],
    ['a place could not be read', untrusted, ['found', 'error', 'none', 'none'], false],
    [
      'verification ended in an error although the places answered',
      { status: 'error', code: 'timeout', reason: 'timed out' },
      ['none', 'none', 'none', 'none'],
      false,
    ],
  ] as const)('%s → complete: %s', (_what, outcome, results, complete) => {
    const places = ['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att'] as const;
    const v = verification({
      outcome,
      attempts: places.map((p, i) => attempt(p, results[i] as PathAttempt['result'])),
      candidates: [candidate('referrers-api', 'a', 'untrusted', keyless(OTHER))],
    });
    expect(signerRecordOf(v)?.complete).toBe(complete);
    // A digest read only in part that did not match stays undecided for the advisory.
    expect(matchOne(v, ID).signers?.partial).toEqual({ current: complete ? 0 : 1, past: 0 });
  });
});

describe('the signer index', () => {
  const rec = (digest: string, observations: SignerObservation[]): SignerRecord => ({
    digest,
    observations,
    checkedAt: AT,
    complete: true,
  });
  const obs = (signer: SignerInfo): SignerObservation => ({
    signer,
    path: 'cosign-sig',
    form: 'cosign-signature',
    repository: IMAGE_REPO,
    reference: 'sha256-x.sig',
    cryptographic: true,
    trusted: false,
    seenAt: AT,
  });
  const A = `sha256:${'a'.repeat(64)}`;
  const B = `sha256:${'b'.repeat(64)}`;
  const C = `sha256:${'c'.repeat(64)}`;
  const index = new SignerIndex(
    new Map([
      [A, rec(A, [obs(keyless(OTHER))])],
      [B, rec(B, [obs({ kind: 'key', key: 'release-key' }), obs(keyless(OTHER))])],
      [C, rec(C, [])],
    ]),
  );

  it('an identity finds every digest it signed', () => {
    expect(index.find(OTHER).map((h) => h.digest)).toEqual([A, B]);
    expect(index.find(OTHER, ISS)).toHaveLength(2);
  });

  it('an identity that signed nothing, or a key name, finds nothing', () => {
    expect(index.find(ID)).toEqual([]);
    expect(index.find('release-key')).toEqual([]);
  });

  it('counts every digest with a record, signed by a key or by nobody too', () => {
    expect(index.size).toBe(3);
    expect(index.record(C)).toMatchObject({ digest: C, observations: [] });
    expect(index.record(`sha256:${'d'.repeat(64)}`)).toBeUndefined();
  });
});
