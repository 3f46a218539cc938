import type { SerializedBundle } from '@sigstore/bundle';
import type { OciPusher, Pushed } from './oci-push.ts';
import {
  cosignAnnotations,
  envelopeOf,
  inTotoStatement,
  type KeyPair,
  type MockSigstore,
  simpleSigningPayload,
  type Who,
  type WitnessOpts,
} from './sigstore-mock.ts';

/** The four ways signatures are stored next to an image, as cosign v2/v3 and other tools write them. */
export type StorageForm = 'referrers-api' | 'referrers-tag' | 'cosign-sig' | 'cosign-att';

export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export type SignSpec = {
  signer: { keyless: Who } | { key: KeyPair };
  /** Sign a statement/payload about another digest (a signature copied from another image). */
  forDigest?: string;
  /** Change the signed content after signing. */
  tamper?: boolean;
  /** Sigstore bundles in referrers: a DSSE in-toto statement (default) or a message signature over the manifest. */
  content?: 'dsse' | 'message';
  witnesses?: WitnessOpts;
  /** Push the signature into this repository instead of the image's (signature-repository override). */
  sigRepo?: string;
};

/** Makes a real signature for `image` and pushes it to the registry in the given storage form. */
export async function signAndPush(
  pusher: OciPusher,
  sigstore: MockSigstore,
  repo: string,
  image: Pushed,
  form: StorageForm,
  spec: SignSpec,
): Promise<void> {
  const about = spec.forDigest ?? image.digest;
  const target = spec.sigRepo ?? repo;
  const witnesses = spec.witnesses ?? { tlog: true };
  const make = (data: Buffer, dsse: boolean): Promise<SerializedBundle> =>
    'keyless' in spec.signer
      ? sigstore.keyless({ data, dsse }, spec.signer.keyless, witnesses)
      : sigstore.keyed({ data, dsse }, spec.signer.key, witnesses);
  if (form === 'referrers-api' || form === 'referrers-tag') {
    const dsse = spec.content !== 'message';
    let bundle = await make(dsse ? inTotoStatement(about) : image.bytes, dsse);
    if (spec.tamper) bundle = tamperBundle(bundle);
    const ref = await pusher.referrer(target, image, BUNDLE_V03, Buffer.from(JSON.stringify(bundle)));
    if (form === 'referrers-tag')
      await pusher.referrersTag(target, image.digest, [{ pushed: ref, artifactType: BUNDLE_V03 }]);
    return;
  }
  if (form === 'cosign-sig') {
    const payload = simpleSigningPayload(repo, about);
    const bundle = await make(payload, false);
    const signed = spec.tamper
      ? Buffer.from(payload.toString().replace('"optional":null', '"optional":{"x":"1"}'))
      : payload;
    await pusher.cosignSig(target, image.digest, [
      { payload: signed, annotations: cosignAnnotations(bundle) },
    ]);
    return;
  }
  const bundle = await make(inTotoStatement(about, 'https://slsa.dev/provenance/v1'), true);
  const env = envelopeOf(spec.tamper ? tamperBundle(bundle) : bundle);
  await pusher.cosignAtt(target, image.digest, [{ envelope: env, annotations: cosignAnnotations(bundle) }]);
}

/** Changes what was signed while keeping the signature: the statement gains a field, or the signature a bit. */
export function tamperBundle(bundle: SerializedBundle): SerializedBundle {
  const copy = JSON.parse(JSON.stringify(bundle)) as SerializedBundle;
  if (copy.dsseEnvelope) {
    const st = JSON.parse(Buffer.from(copy.dsseEnvelope.payload, 'base64').toString()) as Record<
      string,
      unknown
    >;
    st.predicate = { injected: 'by an attacker' };
    copy.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
  } else if (copy.messageSignature) {
    const sig = Buffer.from(copy.messageSignature.signature, 'base64');
    sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1;
    copy.messageSignature.signature = sig.toString('base64');
  }
  return copy;
}
