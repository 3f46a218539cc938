import { createHash } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import {
  ANNOTATION_BUNDLE,
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_SIGNATURE,
} from '../oci/media-types.ts';

/** Thrown when cosign annotations cannot be turned into a bundle (the signature is unusable, not absent). */
export class ConversionError extends Error {}

const B64 = /^[A-Za-z0-9+/=\s]*$/;

/** PEM blocks (certificates) → DER bytes, base64. */
function pemCertificates(pem: string): string[] {
  const out: string[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push((m[1] as string).replace(/\s+/g, ''));
  }
  return out;
}

/** cosign's `dev.sigstore.cosign/bundle` annotation (a Rekor SET) → a v0.1 tlog entry. */
function rekorEntry(annotation: string | undefined): SerializedBundle['verificationMaterial']['tlogEntries'] {
  if (!annotation) return [];
  let rb: {
    SignedEntryTimestamp?: string;
    Payload?: { body?: string; integratedTime?: number; logIndex?: number; logID?: string };
  };
  try {
    rb = JSON.parse(annotation);
  } catch {
    throw new ConversionError('the Rekor bundle annotation is not JSON');
  }
  const p = rb.Payload;
  if (
    !rb.SignedEntryTimestamp ||
    !p?.body ||
    p.integratedTime === undefined ||
    p.logIndex === undefined ||
    !p.logID
  )
    throw new ConversionError(
      'the Rekor bundle annotation lacks a field (SignedEntryTimestamp, body, integratedTime, logIndex, logID)',
    );
  let kind = 'hashedrekord';
  let version = '0.0.1';
  try {
    const body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8')) as {
      kind?: string;
      apiVersion?: string;
    };
    kind = body.kind ?? kind;
    version = body.apiVersion ?? version;
  } catch {
    throw new ConversionError('the Rekor entry body is not JSON');
  }
  return [
    {
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
      kindVersion: { kind, version },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: rb.SignedEntryTimestamp },
      inclusionProof: undefined,
      canonicalizedBody: p.body,
    },
  ];
}

function material(
  annotations: Record<string, string>,
  keyHint: string,
): SerializedBundle['verificationMaterial'] {
  const cert = annotations[ANNOTATION_CERTIFICATE];
  const tlogEntries = rekorEntry(annotations[ANNOTATION_BUNDLE]);
  if (cert) {
    const certs = [...pemCertificates(cert), ...pemCertificates(annotations[ANNOTATION_CHAIN] ?? '')];
    if (certs.length === 0) throw new ConversionError('the certificate annotation holds no PEM certificate');
    return {
      x509CertificateChain: { certificates: certs.map((rawBytes) => ({ rawBytes })) },
      tlogEntries,
      timestampVerificationData: { rfc3161Timestamps: [] },
    } as unknown as SerializedBundle['verificationMaterial'];
  }
  return {
    publicKey: { hint: keyHint },
    tlogEntries,
    timestampVerificationData: { rfc3161Timestamps: [] },
  } as unknown as SerializedBundle['verificationMaterial'];
}

/**
 * A classic cosign `.sig` layer (simple-signing payload + annotations) as a Sigstore bundle over the payload
 * bytes. The payload's `critical.image.docker-manifest-digest` is checked separately.
 */
export function cosignSignatureBundle(
  payload: Buffer,
  annotations: Record<string, string>,
  keyHint = '',
): SerializedBundle {
  const sig = annotations[ANNOTATION_SIGNATURE];
  if (!sig || !B64.test(sig)) throw new ConversionError('no base64 signature annotation on the layer');
  const digest = createHash('sha256').update(payload).digest('base64');
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: material(annotations, keyHint),
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest },
      signature: sig.replace(/\s+/g, ''),
    },
  } as unknown as SerializedBundle;
}

/** A classic cosign `.att` layer (a DSSE envelope + annotations) as a Sigstore bundle. */
export function cosignAttestationBundle(
  envelope: unknown,
  annotations: Record<string, string>,
  keyHint = '',
): SerializedBundle {
  const env = envelope as {
    payload?: unknown;
    payloadType?: unknown;
    signatures?: Array<{ sig?: unknown; keyid?: unknown }>;
  };
  if (
    typeof env?.payload !== 'string' ||
    typeof env.payloadType !== 'string' ||
    !Array.isArray(env.signatures) ||
    env.signatures.length === 0
  )
    throw new ConversionError('the attestation layer is not a DSSE envelope with a signature');
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: material(annotations, keyHint),
    dsseEnvelope: {
      payload: env.payload,
      payloadType: env.payloadType,
      signatures: env.signatures
        .slice(0, 1)
        .map((s) => ({ sig: String(s.sig ?? ''), keyid: String(s.keyid ?? '') })),
    },
  } as unknown as SerializedBundle;
}
