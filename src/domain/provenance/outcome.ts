/**
 * Provenance results: where scope looked for signatures, what it found, and the outcome per digest. Pure data,
 * JSON-serialisable (cached in Redis, carried in job results, printed by `--json`).
 */

/** The four places a signature or attestation can be stored for an image digest. */
export type SignaturePath = 'referrers-api' | 'referrers-tag' | 'cosign-sig' | 'cosign-att';

/** The order paths are tried in when looking one at a time. */
export const SIGNATURE_PATHS: readonly SignaturePath[] = [
  'referrers-api',
  'referrers-tag',
  'cosign-sig',
  'cosign-att',
];

export const PATH_LABEL: Record<SignaturePath, string> = {
  'referrers-api': 'OCI referrers API',
  'referrers-tag': 'referrers tag fallback (sha256-<hex>)',
  'cosign-sig': 'cosign .sig tag',
  'cosign-att': 'cosign .att tag',
};

/** One look in one place: what was asked and what came back. */
export type PathAttempt = {
  path: SignaturePath;
  repository: string;
  reference: string;
  /** `skipped`: not looked at because a signature found earlier already verified. */
  result: 'found' | 'none' | 'unsupported' | 'denied' | 'error' | 'skipped';
  /** How many signature artifacts this place held. */
  artifacts: number;
  detail?: string;
  /** Set when the look was on the multi-arch index that contains the running digest, not the digest itself. */
  onIndex?: string;
};

/** Who signed, as far as the cryptography proves it. */
export type SignerInfo =
  | { kind: 'key'; key: string }
  | { kind: 'keyless'; identity: string; issuer: string; github?: Record<string, string> };

/** How a verified signature was made and stored. */
export type VerifiedVia = {
  form: 'sigstore-bundle' | 'cosign-signature' | 'cosign-attestation';
  content: 'message-signature' | 'dsse';
  path: SignaturePath;
  repository: string;
  reference: string;
  /** The multi-arch index digest that carries the signature, when not on the running digest itself. */
  onIndex?: string;
  tlog: boolean;
  signedTimestamp: boolean;
};

/** What one candidate signature came to, kept so a failing digest can say exactly why. */
export type CandidateResult = {
  path: SignaturePath;
  reference: string;
  verdict: 'verified' | 'invalid' | 'untrusted';
  reason: string;
  signer?: SignerInfo;
};

export type OutcomeStatus = 'verified' | 'unsigned' | 'invalid' | 'untrusted' | 'error' | 'unknown-registry';

export type Outcome =
  | { status: 'verified'; signer: SignerInfo; via: VerifiedVia }
  | { status: 'unsigned'; reason: string }
  | { status: 'invalid'; reason: string }
  | { status: 'untrusted'; reason: string; signers: SignerInfo[] }
  | {
      status: 'error';
      code: 'unreachable' | 'denied' | 'not-found' | 'no-policy' | 'timeout' | 'protocol';
      reason: string;
    }
  | { status: 'unknown-registry'; reason: string };

/** The verification of one running digest against the policy of its repository. */
export type DigestVerification = {
  digest: string;
  /** `registry/repository` the digest was fetched from. */
  repository: string;
  outcome: Outcome;
  attempts: PathAttempt[];
  candidates: CandidateResult[];
  /** Multi-arch: the digest is an index (`index`), a platform image of `parentIndex`, or a single image. */
  manifestKind?: 'index' | 'image';
  parentIndex?: string;
  policy: { name: string; version: string };
  checkedAt: string;
  cached?: boolean;
};

export const OUTCOME_ORDER: readonly OutcomeStatus[] = [
  'invalid',
  'untrusted',
  'unsigned',
  'unknown-registry',
  'error',
  'verified',
];

export const OUTCOME_LABEL: Record<OutcomeStatus, string> = {
  verified: 'verified',
  unsigned: 'unsigned',
  invalid: 'invalid signature',
  untrusted: 'untrusted signer',
  error: 'error',
  'unknown-registry': 'registry not allowed',
};

export function describeSigner(s: SignerInfo): string {
  return s.kind === 'key' ? `key ${s.key}` : `${s.identity} (issuer ${s.issuer})`;
}
