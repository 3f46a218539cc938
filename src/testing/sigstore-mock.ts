import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Bundle, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import {
  ANNOTATION_BUNDLE,
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_SIGNATURE,
} from '../adapters/oci/media-types.ts';

/**
 * A private Sigstore on loopback: `@sigstore/mock`'s Fulcio CA (with CT log), Rekor and TSA behind a real HTTP
 * server, driven by `@sigstore/sign`'s real clients, plus the trusted_root.json that trusts exactly these keys.
 * Everything it signs is real cryptography; only the services are stand-ins.
 */
export type MockSigstore = {
  url: string;
  trustedRoot: Record<string, unknown>;
  /** A Sigstore bundle (v0.3) signed keylessly as `identity` from `issuer`. */
  keyless: (artifact: Artifact, who: Who, opts?: WitnessOpts) => Promise<SerializedBundle>;
  /** A Sigstore bundle signed with a key (cosign key pair), optionally logged in Rekor. */
  keyed: (artifact: Artifact, key: KeyPair, opts?: WitnessOpts) => Promise<SerializedBundle>;
  close: () => Promise<void>;
};

export type Artifact = { data: Buffer; dsse?: boolean };
export type Who = { identity: string; issuer: string; claims?: Record<string, string> };
export type WitnessOpts = { tlog?: boolean; tsa?: boolean };
export type KeyPair = { publicKey: KeyObject; privateKey: KeyObject; publicPem: string };

export const IN_TOTO = 'application/vnd.in-toto+json';

export function generateCosignKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey, privateKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

const bytes = (b: ArrayBufferView) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const b64 = (b: ArrayBufferView) => bytes(b).toString('base64');

export async function startMockSigstore(opts: { caClock?: Date } = {}): Promise<MockSigstore> {
  const kp = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctKeys = kp();
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(kp(), ctlog, opts.caClock);
  const tlogKeys = kp();
  // The TSA's clock is set before each timestamp to a time whose milliseconds end in a zero (…05.12Z once DER
  // drops the trailing zero): valid DER that @sigstore/core's own parser refuses, so every TSA-stamped bundle
  // exercises scope's GeneralizedTime fix (src/adapters/sigstore/asn1-time.ts) instead of one bundle in ten.
  const tsaClock = new Date();
  const tsa = await initializeTSA(kp(), tsaClock);
  const routes = new Map<string, HandlerFn>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fn = routes.get(req.url?.split('?')[0] ?? '');
      if (!fn || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        (r) => {
          res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
          res.end(typeof r.response === 'string' ? r.response : bytes(r.response));
        },
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tlog = await initializeTLog(url, tlogKeys);
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) routes.set(h.path, h.fn);

  const der = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
  const start = '2000-01-01T00:00:00Z';
  const logKey = (pub: ArrayBufferView, keyId: ArrayBufferView, baseUrl: string) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(pub), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
    logId: { keyId: b64(keyId) },
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logKey(tlog.publicKey, createHash('sha256').update(tlog.publicKey).digest(), url)],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [logKey(der(ctKeys.publicKey), ctlog.logID, url)],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: {
          certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
        },
        validFor: { start },
      },
    ],
  };
  const witnesses = (w: WitnessOpts, dsse: boolean): Witness[] => [
    ...(w.tlog === false
      ? []
      : [new RekorWitness({ rekorBaseURL: url, entryType: dsse ? 'intoto' : undefined, retry: 0 } as never)]),
    ...(w.tsa ? [new TSAWitness({ tsaBaseURL: url, retry: 0 } as never)] : []),
  ];
  const build = async (signer: Signer, artifact: Artifact, w: WitnessOpts): Promise<SerializedBundle> => {
    if (w.tsa) {
      const now = Date.now();
      tsaClock.setTime(now - (now % 100) + 20);
    }
    const opts = { signer, witnesses: witnesses(w, artifact.dsse === true) };
    const bundle: Bundle = artifact.dsse
      ? await new DSSEBundleBuilder(opts).create({ data: artifact.data, type: IN_TOTO })
      : await new MessageSignatureBundleBuilder(opts).create({ data: artifact.data });
    return bundleToJSON(bundle);
  };
  return {
    url,
    trustedRoot,
    keyless: (artifact, who, w = {}) =>
      build(
        new FulcioSigner({
          fulcioBaseURL: url,
          retry: 0,
          identityProvider: {
            getToken: async () => unsignedJwt({ sub: who.identity, iss: who.issuer, ...who.claims }),
          },
        } as never),
        artifact,
        w,
      ),
    keyed: (artifact, key, w = {}) =>
      build(
        {
          sign: async (data: Buffer) => ({
            signature: sign('sha256', data, key.privateKey),
            key: { $case: 'publicKey', publicKey: key.publicPem },
          }),
        },
        artifact,
        { tlog: false, ...w },
      ),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** cosign's simple-signing payload for an image digest. */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** An in-toto statement about `digest`, as cosign attest and cosign v3 signing write. */
export function inTotoStatement(
  digest: string,
  predicateType = 'https://sigstore.dev/cosign/sign/v1',
): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'image', digest: { sha256: digest.slice(7) } }],
      predicateType,
      predicate: {},
    }),
  );
}

function pem(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Turns a Sigstore bundle into cosign's classic layer annotations (signature, certificate, chain, Rekor SET). */
export function cosignAnnotations(bundle: SerializedBundle, chainPem?: string): Record<string, string> {
  const vm = bundle.verificationMaterial;
  const out: Record<string, string> = {};
  if (bundle.messageSignature) out[ANNOTATION_SIGNATURE] = bundle.messageSignature.signature;
  const cert = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  if (cert) out[ANNOTATION_CERTIFICATE] = pem(cert);
  if (cert && chainPem) out[ANNOTATION_CHAIN] = chainPem;
  const e = vm.tlogEntries[0];
  if (e?.inclusionPromise) {
    out[ANNOTATION_BUNDLE] = JSON.stringify({
      SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
      Payload: {
        body: e.canonicalizedBody,
        integratedTime: Number(e.integratedTime),
        logIndex: Number(e.logIndex),
        logID: Buffer.from(e.logId.keyId, 'base64').toString('hex'),
      },
    });
  }
  return out;
}

/** The DSSE envelope of a bundle, as cosign stores it in an `.att` layer. */
export function envelopeOf(bundle: SerializedBundle): object {
  if (!bundle.dsseEnvelope) throw new Error('not a DSSE bundle');
  return bundle.dsseEnvelope;
}

export function publicKeyPem(k: KeyObject): string {
  return createPublicKey(k).export({ format: 'pem', type: 'spki' }).toString();
}
