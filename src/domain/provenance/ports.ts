import type { CandidateResult, PathAttempt, SignaturePath, SignerInfo } from './outcome.ts';
import type { TrustRule } from './policy.ts';

/** Signature material to check, in one of the forms registries hold it. */
export type Evidence =
  | { form: 'bundle'; bundle: unknown }
  | { form: 'cosign-sig'; payload: Buffer; annotations: Record<string, string> }
  | { form: 'cosign-att'; envelope: unknown; annotations: Record<string, string> };

/** Signature material found in one place, still unverified (the registry is trusted for nothing). */
export type FoundSignature = Evidence & {
  path: SignaturePath;
  repository: string;
  reference: string;
  onIndex?: string;
};

/** Every place looked at for one digest, and what was there. */
export type Discovery = { attempts: PathAttempt[]; found: FoundSignature[] };

/** What the signature must be about: an image digest (manifest bytes optional) or a blob (bytes or digest). */
export type Subject =
  | { kind: 'image'; digest: string; manifest?: Buffer }
  | { kind: 'blob'; digest: string; bytes?: Buffer };

/** The parts of a trust rule a check needs (the CLI builds one from flags). */
export type Rule = Pick<TrustRule, 'keys' | 'keyless' | 'requireTlog' | 'requireSignedTimestamp'>;

/** What one signature came to; `verified` only when the crypto holds, it is about the subject, and the signer is trusted. */
export type Check = {
  verdict: CandidateResult['verdict'];
  reason: string;
  signer?: SignerInfo;
  content?: 'message-signature' | 'dsse';
  tlog?: boolean;
  signedTimestamp?: boolean;
};

export type RepoRef = { registry: string; repository: string };

/** A manifest as the verifier needs it: its kind, its bytes, and for an index the digests it lists. */
export type ManifestInfo = { digest: string; kind: 'index' | 'image'; bytes: Buffer; children: string[] };

/** Failure reaching a registry, classified (the OCI adapter's errors map onto these). */
export type FetchFailure = {
  code:
    | 'not-allowed'
    | 'not-found'
    | 'unauthorized'
    | 'denied'
    | 'unreachable'
    | 'timeout'
    | 'too-large'
    | 'digest-mismatch'
    | 'protocol';
  message: string;
};

/** The outside world `verifyDigest` needs: a registry reader and a signature checker. */
export type ProvenancePorts = {
  manifest: (repo: RepoRef, reference: string, signal?: AbortSignal) => Promise<ManifestInfo>;
  discover: (
    sigRepo: RepoRef,
    digest: string,
    signal?: AbortSignal,
    onIndex?: string,
    paths?: readonly SignaturePath[],
  ) => Promise<Discovery>;
  check: (evidence: Evidence, subject: Subject, rule: Rule) => Check;
  /** Turns an error thrown by `manifest`/`discover` into a classified failure, or undefined if it is a bug. */
  classify: (err: unknown) => FetchFailure | undefined;
};
