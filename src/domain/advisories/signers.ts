import type { DigestVerification, SignaturePath, SignerInfo } from '../provenance/outcome.ts';

/**
 * Who signed an image digest, as verification observed it: a durable fact kept apart from the verification
 * cache (which expires quickly and is keyed by policy version), so signer-identity IOCs can be matched
 * against everything that runs or ran. Pure: derivation from a verification and the signer index.
 */

/** How a signature was stored; the path tells it (referrers hold Sigstore bundles, cosign tags their forms). */
export type SignatureForm = 'sigstore-bundle' | 'cosign-signature' | 'cosign-attestation';

export const FORM_OF_PATH: Readonly<Record<SignaturePath, SignatureForm>> = {
  'referrers-api': 'sigstore-bundle',
  'referrers-tag': 'sigstore-bundle',
  'cosign-sig': 'cosign-signature',
  'cosign-att': 'cosign-attestation',
};

/** One signature seen on a digest (or on the multi-arch index that lists it), and who made it. */
export type SignerObservation = {
  /** Keyless identity and issuer, or the key (a configured key's name, or a fingerprint for other keys). */
  signer: SignerInfo;
  path: SignaturePath;
  form: SignatureForm;
  /** Where the signature was found (`registry/repository`: the image's, or the rule's signature repository). */
  repository: string;
  /** The signature's reference in that place (tag, referrers entry). */
  reference: string;
  /** Set when the signature is on the multi-arch index that contains the digest. */
  onIndex?: string;
  /** The signature verified cryptographically (certificate chain / key); false: only claimed. */
  cryptographic: boolean;
  /** The policy trusted this signer when it was seen (a compromised identity may well be trusted). */
  trusted: boolean;
  /** When verification saw it. */
  seenAt: string;
};

/** What is known about who signed one digest. */
export type SignerRecord = {
  digest: string;
  observations: SignerObservation[];
  /** The last verification that looked at this digest. */
  checkedAt: string;
  /**
   * Every signature place was read: false when verification stopped at the first trusted signature (later
   * places `skipped`) or a place could not be read — other signers may exist there.
   */
  complete: boolean;
};

/** At most this many signatures are recorded per verification (a registry may hold many). */
export const MAX_OBSERVATIONS = 32;

/**
 * The signer record of one verification, or undefined when scope did not look at the registry at all
 * (registry not allowed, no policy rule): such a digest stays "never verified".
 */
export function signerRecordOf(v: DigestVerification): SignerRecord | undefined {
  if (v.attempts.length === 0 && v.candidates.length === 0) return undefined;
  const observations: SignerObservation[] = [];
  const seen = new Set<string>();
  const add = (o: SignerObservation) => {
    const k = observationKey(o);
    if (seen.has(k) || observations.length >= MAX_OBSERVATIONS) return;
    seen.add(k);
    observations.push(o);
  };
  const indexHex = v.parentIndex?.slice('sha256:'.length);
  for (const c of v.candidates) {
    if (!c.signer) continue;
    const verified = v.outcome.status === 'verified' ? v.outcome.via : undefined;
    const isVia = verified && verified.path === c.path && verified.reference === c.reference;
    const onIndex = isVia
      ? verified.onIndex
      : indexHex && c.reference.includes(indexHex)
        ? v.parentIndex
        : undefined;
    add({
      signer: c.signer,
      path: c.path,
      form: isVia ? verified.form : FORM_OF_PATH[c.path],
      repository: isVia
        ? verified.repository
        : (v.attempts.find((a) => a.path === c.path && a.result === 'found')?.repository ?? v.repository),
      reference: c.reference,
      ...(onIndex ? { onIndex } : {}),
      // A candidate names its signer only once the signature checked out (verified, or valid but untrusted).
      cryptographic: c.verdict !== 'invalid',
      trusted: c.verdict === 'verified',
      seenAt: v.checkedAt,
    });
  }
  const complete =
    v.outcome.status !== 'error' &&
    v.attempts.every((a) => a.result !== 'skipped' && a.result !== 'denied' && a.result !== 'error');
  return { digest: v.digest, observations, checkedAt: v.checkedAt, complete };
}

/** Identity of an observation: the same signature by the same signer is recorded once. */
export function observationKey(o: SignerObservation): string {
  const who =
    o.signer.kind === 'key' ? `key|${o.signer.key}` : `keyless|${o.signer.identity}|${o.signer.issuer}`;
  return `${o.path}|${o.reference}|${o.onIndex ?? ''}|${who}`;
}

/** A signature by a keyless identity on a digest of the fleet. */
export type SignerHit = { digest: string; observation: SignerObservation & { signer: { kind: 'keyless' } } };

/**
 * Keyless signatures of the fleet's digests by identity, so a signer-identity indicator is one map lookup.
 * Identities are compared exactly: no prefix, no substring, no case folding (a SAN is a URI or an e-mail).
 */
export class SignerIndex {
  readonly #byIdentity = new Map<string, SignerHit[]>();
  readonly #records: ReadonlyMap<string, SignerRecord>;

  constructor(records: ReadonlyMap<string, SignerRecord>) {
    this.#records = records;
    for (const r of records.values()) {
      for (const o of r.observations) {
        if (o.signer.kind !== 'keyless') continue;
        const hit = { digest: r.digest, observation: o as SignerHit['observation'] };
        const list = this.#byIdentity.get(o.signer.identity);
        if (list) list.push(hit);
        else this.#byIdentity.set(o.signer.identity, [hit]);
      }
    }
  }

  /** Signatures made by exactly this identity (and this issuer, when given). */
  find(identity: string, issuer?: string): SignerHit[] {
    const all = this.#byIdentity.get(identity) ?? [];
    return issuer === undefined ? all : all.filter((h) => h.observation.signer.issuer === issuer);
  }

  /** Digests with a record. */
  get size(): number {
    return this.#records.size;
  }

  record(digest: string): SignerRecord | undefined {
    return this.#records.get(digest);
  }
}
