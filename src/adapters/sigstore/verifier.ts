import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { assertBundle, type Bundle, bundleFromJSON } from '@sigstore/bundle';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  type KeyFinderFunc,
  PolicyError,
  type SignedEntity,
  type Signer,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from '@sigstore/verify';
import type { SignerInfo } from '../../domain/provenance/outcome.ts';
import { type CertificateSigner, type GithubClaims, matchKeyless } from '../../domain/provenance/policy.ts';
import type { Check, Evidence, Rule, Subject } from '../../domain/provenance/ports.ts';
import './asn1-memo.ts';
import './asn1-time.ts';
import { ConversionError, cosignAttestationBundle, cosignSignatureBundle } from './cosign.ts';
import { verifyPrehashed } from './ecdsa-prehashed.ts';

const IN_TOTO = 'application/vnd.in-toto+json';
const OID = {
  repository: '1.3.6.1.4.1.57264.1.5',
  ref: '1.3.6.1.4.1.57264.1.6',
  workflow: '1.3.6.1.4.1.57264.1.4',
  trigger: '1.3.6.1.4.1.57264.1.2',
  sha: '1.3.6.1.4.1.57264.1.3',
} as const satisfies Record<keyof GithubClaims, string>;

/** Fingerprint a public key is known by inside the verifier (SHA-256 of its SPKI DER). */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}

/**
 * Sigstore verification on `@sigstore/verify` with trust material built once from a trusted root (no network),
 * plus what the library leaves to callers: exact identity matching, the binding of the signature to the image
 * digest (DSSE subject, cosign `docker-manifest-digest`, message digest), and the cosign classic formats.
 * One `Verifier` per threshold combination, built on first use and reused.
 */
export class SigstoreVerifier {
  readonly #keys = new Map<string, { name: string; key: KeyObject }>();
  readonly #material: TrustMaterial;
  readonly #verifiers = new Map<string, Verifier>();

  constructor(root: TrustedRoot, keys: ReadonlyArray<{ name: string; pem: string }> = []) {
    for (const k of keys) this.addKey(k.name, k.pem);
    const finder: KeyFinderFunc = (hint) => {
      const k = this.#keys.get(hint);
      if (!k) throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `no trusted key ${hint}` });
      return { publicKey: k.key, validFor: () => true };
    };
    this.#material = toTrustMaterial(root, finder);
  }

  /** Registers a trusted public key (PEM); returns its fingerprint. */
  addKey(name: string, pem: string): string {
    const key = createPublicKey(pem);
    const fp = keyFingerprint(key);
    if (!this.#keys.has(fp)) this.#keys.set(fp, { name, key });
    return fp;
  }

  #verifier(keyless: boolean, rule: Rule): Verifier {
    const opts = {
      tlogThreshold: rule.requireTlog ? 1 : 0,
      ctlogThreshold: keyless ? 1 : 0,
      timestampThreshold: keyless || rule.requireSignedTimestamp ? 1 : 0,
    };
    const id = JSON.stringify(opts);
    let v = this.#verifiers.get(id);
    if (!v) {
      v = new Verifier(this.#material, opts);
      this.#verifiers.set(id, v);
    }
    return v;
  }

  /** Checks one piece of evidence against a subject and a rule; never throws for bad evidence. */
  check(evidence: Evidence, subject: Subject, rule: Rule): Check {
    let bundle: Bundle;
    let form: 'sigstore-bundle' | 'cosign-sig' | 'cosign-att' = 'sigstore-bundle';
    try {
      if (evidence.form === 'bundle') {
        bundle = bundleFromJSON(evidence.bundle);
        assertBundle(bundle);
      } else if (evidence.form === 'cosign-sig') {
        form = 'cosign-sig';
        bundle = bundleFromJSON(cosignSignatureBundle(evidence.payload, evidence.annotations));
      } else {
        form = 'cosign-att';
        bundle = bundleFromJSON(cosignAttestationBundle(evidence.envelope, evidence.annotations));
      }
    } catch (err) {
      return { verdict: 'invalid', reason: `unreadable signature: ${(err as Error).message}` };
    }
    const content =
      bundle.content.$case === 'dsseEnvelope' ? ('dsse' as const) : ('message-signature' as const);
    // What the signature is about must be this digest before who signed it matters.
    const binding = bindingProblem(bundle, evidence, subject);
    if (binding) return { verdict: 'invalid', reason: binding, content };
    let entity: SignedEntity;
    let prehashed = false;
    try {
      const artifact =
        content === 'dsse'
          ? undefined
          : evidence.form === 'cosign-sig'
            ? evidence.payload
            : subject.kind === 'image'
              ? subject.manifest
              : subject.bytes;
      if (content === 'message-signature' && artifact === undefined) prehashed = true;
      entity = toSignedEntity(bundle, artifact);
      if (prehashed) entity = withPrehashedSignature(entity, bundle);
    } catch (err) {
      return { verdict: 'invalid', reason: `malformed bundle: ${(err as Error).message}`, content };
    }
    const tlog = entity.tlogEntries.length > 0;
    const signedTimestamp = entity.timestamps.some((t) => t.$case === 'timestamp-authority');
    const evidenceFlags = { content, tlog, signedTimestamp };
    if (rule.requireSignedTimestamp && !signedTimestamp)
      return {
        verdict: 'invalid',
        reason: 'the policy requires a signed timestamp (RFC 3161) and there is none',
        ...evidenceFlags,
      };
    if (entity.key.$case === 'certificate') return this.#checkKeyless(entity, rule, evidenceFlags);
    return this.#checkKeyed(entity, rule, evidenceFlags, form);
  }

  #checkKeyless(
    entity: SignedEntity,
    rule: Rule,
    flags: Pick<Check, 'content' | 'tlog' | 'signedTimestamp'>,
  ): Check {
    let signer: Signer;
    try {
      if (entity.timestamps.length === 0)
        return {
          verdict: 'invalid',
          reason:
            'certificate signature without a trusted time (no tlog entry, no signed timestamp): its validity cannot be checked',
          ...flags,
        };
      signer = this.#verifier(true, rule).verify(entity);
    } catch (err) {
      return { verdict: 'invalid', reason: describe(err), ...flags };
    }
    const cs = certificateSigner(signer);
    const info: SignerInfo = {
      kind: 'keyless',
      identity: cs.san ?? '(none)',
      issuer: cs.issuer ?? '(none)',
      ...(Object.keys(cs.github).length ? { github: cs.github as Record<string, string> } : {}),
    };
    const m = matchKeyless(cs, rule.keyless);
    if (!m.ok) return { verdict: 'untrusted', reason: m.reason, signer: info, ...flags };
    return { verdict: 'verified', reason: 'certificate identity matches the policy', signer: info, ...flags };
  }

  #checkKeyed(
    entity: SignedEntity,
    rule: Rule,
    flags: Pick<Check, 'content' | 'tlog' | 'signedTimestamp'>,
    form: string,
  ): Check {
    if (rule.keys.length === 0)
      return {
        verdict: 'untrusted',
        reason: 'signed with a key, but the policy trusts only keyless identities here',
        ...flags,
      };
    let lastOther: string | undefined;
    for (const k of rule.keys) {
      const fp = this.addKey(k.name, k.pem);
      try {
        this.#verifier(false, rule).verify({ ...entity, key: { $case: 'public-key', hint: fp } });
        return {
          verdict: 'verified',
          reason: `signature made by trusted key ${k.name}`,
          signer: { kind: 'key', key: k.name },
          ...flags,
        };
      } catch (err) {
        if (!(err instanceof VerificationError && err.code === 'SIGNATURE_ERROR')) lastOther = describe(err);
      }
    }
    if (lastOther) return { verdict: 'invalid', reason: lastOther, ...flags };
    const other = signingKeyFromTlog(entity);
    if (other) {
      try {
        if (entity.signature.verifySignature(other))
          return {
            verdict: 'untrusted',
            reason: `signed by key ${keyFingerprint(other).slice(0, 16)}, which the policy does not trust`,
            signer: { kind: 'key', key: `sha256:${keyFingerprint(other).slice(0, 16)}` },
            ...flags,
          };
      } catch {
        // fall through: the recorded key does not verify either
      }
    }
    return {
      verdict: 'invalid',
      reason: `${form} signature does not verify with any trusted key (${rule.keys.map((k) => k.name).join(', ')}): the signed content was modified, or another key made it`,
      ...flags,
    };
  }
}

/** The reason a signature, however valid, is not about this subject; undefined when it is. */
function bindingProblem(bundle: Bundle, evidence: Evidence, subject: Subject): string | undefined {
  const hex = subject.digest.slice('sha256:'.length);
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    if (env.payloadType !== IN_TOTO)
      return `DSSE payload type ${env.payloadType} is not an in-toto statement; it cannot name this digest`;
    let statement: { subject?: Array<{ name?: string; digest?: Record<string, string> }> };
    try {
      statement = JSON.parse(env.payload.toString('utf8'));
    } catch {
      return 'the in-toto statement is not JSON';
    }
    const subjects = Array.isArray(statement.subject) ? statement.subject : [];
    if (!subjects.some((s) => s?.digest?.sha256?.toLowerCase() === hex))
      return `the in-toto statement is about ${subjects.map((s) => `sha256:${s?.digest?.sha256 ?? '?'}`).join(', ') || 'no subject'}, not ${subject.digest}`;
    return undefined;
  }
  if (evidence.form === 'cosign-sig') {
    let payload: { critical?: { image?: { 'docker-manifest-digest'?: string }; type?: string } };
    try {
      payload = JSON.parse(evidence.payload.toString('utf8'));
    } catch {
      return 'the simple-signing payload is not JSON';
    }
    const signed = payload.critical?.image?.['docker-manifest-digest'];
    if (signed !== subject.digest)
      return `the signature is for ${signed ?? 'no digest'}, not ${subject.digest}`;
    return undefined;
  }
  const md = bundle.content.messageSignature.messageDigest;
  const signedHex = md ? Buffer.from(md.digest).toString('hex') : undefined;
  if (signedHex !== hex)
    return `the message signature is over sha256:${signedHex ?? '?'}, not ${subject.digest}`;
  if (
    subject.kind === 'image' &&
    subject.manifest &&
    createHash('sha256').update(subject.manifest).digest('hex') !== hex
  )
    return 'the manifest bytes do not hash to the digest';
  if (
    subject.kind === 'blob' &&
    subject.bytes &&
    createHash('sha256').update(subject.bytes).digest('hex') !== hex
  )
    return 'the file does not hash to the digest';
  return undefined;
}

function withPrehashedSignature(entity: SignedEntity, bundle: Bundle): SignedEntity {
  if (bundle.content.$case !== 'messageSignature') return entity;
  const md = bundle.content.messageSignature.messageDigest;
  const digest = Buffer.from(md?.digest ?? []);
  return {
    ...entity,
    signature: {
      ...entity.signature,
      signature: entity.signature.signature,
      compareSignature: (s) => entity.signature.compareSignature(s),
      compareDigest: (d) => entity.signature.compareDigest(d),
      compareSignedDigest: (d) => entity.signature.compareSignedDigest(d),
      verifySignature: (key) => verifyPrehashed(key, digest, entity.signature.signature),
    },
  };
}

/** The key a hashedrekord tlog entry recorded, to tell "another key signed it" from "modified". */
function signingKeyFromTlog(entity: SignedEntity): KeyObject | undefined {
  for (const e of entity.tlogEntries) {
    try {
      const body = JSON.parse(Buffer.from(e.canonicalizedBody).toString('utf8')) as {
        spec?: {
          signature?: { publicKey?: { content?: string } };
          content?: { envelope?: { signatures?: Array<{ publicKey?: string }> } };
          signatures?: Array<{ verifier?: string }>;
        };
      };
      const pem =
        body.spec?.signature?.publicKey?.content ??
        body.spec?.content?.envelope?.signatures?.[0]?.publicKey ??
        body.spec?.signatures?.[0]?.verifier;
      if (pem) return createPublicKey(Buffer.from(pem, 'base64'));
    } catch {
      // not a hashedrekord with a key
    }
  }
  return undefined;
}

function certificateSigner(signer: Signer): CertificateSigner {
  const github: GithubClaims = {};
  for (const [name, oid] of Object.entries(OID) as Array<[keyof GithubClaims, string]>) {
    const found = signer.identity?.oids?.find((o) => o.oid?.id.join('.') === oid);
    if (found) github[name] = Buffer.from(found.value).toString('utf8');
  }
  return {
    san: signer.identity?.subjectAlternativeName,
    issuer: signer.identity?.extensions?.issuer,
    github,
  };
}

function describe(err: unknown): string {
  if (err instanceof VerificationError || err instanceof PolicyError) return `${err.code}: ${err.message}`;
  if (err instanceof ConversionError) return err.message;
  return `verification failed: ${(err as Error).message ?? String(err)}`;
}
