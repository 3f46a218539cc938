import {
  type CandidateResult,
  type DigestVerification,
  type Outcome,
  type PathAttempt,
  SIGNATURE_PATHS,
  type SignaturePath,
  type SignerInfo,
  type VerifiedVia,
} from './outcome.ts';
import { type ProvenancePolicy, registryAllowed, ruleFor, type TrustRule } from './policy.ts';
import type { FetchFailure, FoundSignature, ManifestInfo, ProvenancePorts, RepoRef } from './ports.ts';

/** One running digest to verify: where it was pulled from (and by which tag, when the inventory knows). */
export type VerifyTarget = { registry: string; repository: string; digest: string; tag?: string };

const FORM: Record<FoundSignature['form'], VerifiedVia['form']> = {
  bundle: 'sigstore-bundle',
  'cosign-sig': 'cosign-signature',
  'cosign-att': 'cosign-attestation',
};

/**
 * Verifies one digest against the policy of its repository: finds signatures in every storage form, checks
 * each, and reduces them to one outcome that keeps "unsigned", "access denied", "invalid" and "signed by
 * someone else" apart. For multi-arch images the digest that runs is checked first; if nothing signs it, the
 * index its tag points at is checked and the result says the signature is on the index.
 */
export async function verifyDigest(
  ports: ProvenancePorts,
  policy: ProvenancePolicy,
  target: VerifyTarget,
  now: Date,
  signal?: AbortSignal,
): Promise<DigestVerification> {
  const repository = `${target.registry}/${target.repository}`;
  const base = { digest: target.digest, repository, checkedAt: now.toISOString() };
  const rule = ruleFor(policy, repository);
  const pol = { name: rule?.name ?? '(none)', version: policy.version };
  const done = (
    outcome: Outcome,
    attempts: PathAttempt[] = [],
    candidates: CandidateResult[] = [],
    extra = {},
  ) => ({
    ...base,
    outcome,
    attempts,
    candidates,
    policy: pol,
    ...extra,
  });
  if (!registryAllowed(policy, target.registry))
    return done({
      status: 'unknown-registry',
      reason: `${target.registry} is not an allowed registry; scope did not contact it`,
    });
  if (!rule)
    return done({ status: 'error', code: 'no-policy', reason: `no policy rule matches ${repository}` });
  const imageRepo: RepoRef = { registry: target.registry, repository: target.repository };
  const sigRepo = signatureRepo(rule, imageRepo);
  // Paths one at a time, stopping at the first verified signature: most digests are signed in one place, and
  // every lookup costs the registry. The manifest is read only when needed: message signatures are over its
  // bytes, and without a verified signature it tells "not in the registry" and multi-arch indexes apart.
  const sigRepoName = `${sigRepo.registry}/${sigRepo.repository}`;
  const subject: { kind: 'image'; digest: string; manifest?: Buffer } = {
    kind: 'image',
    digest: target.digest,
  };
  const attempts: PathAttempt[] = [];
  const candidates: CandidateResult[] = [];
  let manifest: ManifestInfo | undefined;
  let verified: { signer: SignerInfo; via: VerifiedVia } | undefined;
  let doing = `looking for signatures in ${sigRepoName}`;
  try {
    for (const [i, path] of SIGNATURE_PATHS.entries()) {
      const d = await ports.discover(sigRepo, target.digest, signal, undefined, [path]);
      attempts.push(...d.attempts);
      if (d.found.length === 0) continue;
      if (!manifest && d.found.some(needsManifest)) {
        doing = `reading ${repository}@${target.digest}`;
        manifest = await ports.manifest(imageRepo, target.digest, signal);
        subject.manifest = manifest.bytes;
      }
      verified = checkAll(ports, rule, d.found, subject, candidates).verified;
      if (verified) {
        for (const rest of SIGNATURE_PATHS.slice(i + 1)) {
          attempts.push({
            path: rest,
            repository: sigRepoName,
            reference: pathReference(rest, target.digest),
            result: 'skipped',
            artifacts: 0,
            detail: 'not needed: a signature found earlier verified',
          });
        }
        break;
      }
    }
    if (!verified && !manifest) {
      doing = `reading ${repository}@${target.digest}`;
      manifest = await ports.manifest(imageRepo, target.digest, signal);
    }
  } catch (err) {
    return done(fetchOutcome(ports.classify(err), err, doing), attempts, candidates);
  }
  const extra: { manifestKind?: 'index' | 'image'; parentIndex?: string } = manifest
    ? { manifestKind: manifest.kind }
    : {};
  const found = candidates.length;
  // Multi-arch: cosign signs the index by default; the node runs one of its platform manifests.
  if (!verified && found === 0 && manifest?.kind === 'image' && target.tag) {
    try {
      const parent = await ports.manifest(imageRepo, target.tag, signal);
      if (
        parent.kind === 'index' &&
        parent.children.includes(target.digest) &&
        parent.digest !== target.digest
      ) {
        extra.parentIndex = parent.digest;
        const onIndex = await ports.discover(sigRepo, parent.digest, signal, parent.digest);
        attempts.push(...onIndex.attempts);
        verified = checkAll(
          ports,
          rule,
          onIndex.found,
          { kind: 'image', digest: parent.digest, manifest: parent.bytes },
          candidates,
        ).verified;
      }
    } catch (err) {
      const f = ports.classify(err);
      if (!f) throw err;
      attempts.push({
        path: 'cosign-sig',
        repository,
        reference: target.tag,
        result:
          f.code === 'denied' || f.code === 'unauthorized'
            ? 'denied'
            : f.code === 'not-found'
              ? 'none'
              : 'error',
        artifacts: 0,
        detail: `resolving tag ${target.tag} to find a signed index: ${f.message}`,
      });
    }
  }
  if (verified) return done({ status: 'verified', ...verified }, attempts, candidates, extra);
  return done(reduce(attempts, candidates), attempts, candidates, extra);
}

function needsManifest(f: FoundSignature): boolean {
  return (
    f.form === 'bundle' && typeof f.bundle === 'object' && f.bundle !== null && 'messageSignature' in f.bundle
  );
}

function pathReference(path: SignaturePath, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path === 'referrers-api'
    ? `referrers/${digest}`
    : path === 'referrers-tag'
      ? `sha256-${hex}`
      : `sha256-${hex}${path === 'cosign-sig' ? '.sig' : '.att'}`;
}

function signatureRepo(rule: TrustRule, image: RepoRef): RepoRef {
  if (!rule.signatureRepository) return image;
  const i = rule.signatureRepository.indexOf('/');
  return {
    registry: rule.signatureRepository.slice(0, i),
    repository: rule.signatureRepository.slice(i + 1),
  };
}

function checkAll(
  ports: ProvenancePorts,
  rule: TrustRule,
  found: readonly FoundSignature[],
  subject: { kind: 'image'; digest: string; manifest?: Buffer },
  into: CandidateResult[],
): { verified?: { signer: SignerInfo; via: VerifiedVia } } {
  let verified: { signer: SignerInfo; via: VerifiedVia } | undefined;
  for (const f of found) {
    const c = ports.check(f, subject, rule);
    into.push({
      path: f.path,
      reference: f.reference,
      verdict: c.verdict,
      reason: c.reason,
      ...(c.signer ? { signer: c.signer } : {}),
    });
    if (c.verdict === 'verified' && c.signer && !verified) {
      verified = {
        signer: c.signer,
        via: {
          form: FORM[f.form],
          content: c.content ?? 'message-signature',
          path: f.path,
          repository: f.repository,
          reference: f.reference,
          ...(f.onIndex ? { onIndex: f.onIndex } : {}),
          tlog: c.tlog === true,
          signedTimestamp: c.signedTimestamp === true,
        },
      };
    }
  }
  return verified ? { verified } : {};
}

/** No verified signature: the most serious finding wins, and "nothing found" is only said when every place answered. */
function reduce(attempts: readonly PathAttempt[], candidates: readonly CandidateResult[]): Outcome {
  const invalid = candidates.find((c) => c.verdict === 'invalid');
  if (invalid)
    return { status: 'invalid', reason: `${invalid.reason} (${invalid.path}: ${invalid.reference})` };
  const untrusted = candidates.filter((c) => c.verdict === 'untrusted');
  if (untrusted.length)
    return {
      status: 'untrusted',
      reason: untrusted[0]?.reason ?? 'signed by an identity the policy does not trust',
      signers: untrusted.flatMap((c) => (c.signer ? [c.signer] : [])),
    };
  const denied = attempts.filter((a) => a.result === 'denied');
  if (denied.length)
    return {
      status: 'error',
      code: 'denied',
      reason: `access denied: ${denied.map((a) => `${a.path} ${a.repository}:${a.reference}`).join(', ')}; the image may be signed`,
    };
  const failed = attempts.filter((a) => a.result === 'error');
  if (failed.length)
    return {
      status: 'error',
      code: 'unreachable',
      reason: `could not look everywhere: ${failed.map((a) => `${a.path}: ${a.detail ?? 'error'}`).join('; ')}`,
    };
  const looked = attempts.map((a) => `${a.path} (${a.result})`).join(', ');
  return { status: 'unsigned', reason: `no signature or attestation found; looked at ${looked}` };
}

function fetchOutcome(f: FetchFailure | undefined, err: unknown, doing: string): Outcome {
  if (!f) throw err;
  const code =
    f.code === 'denied' || f.code === 'unauthorized'
      ? 'denied'
      : f.code === 'not-found'
        ? 'not-found'
        : f.code === 'timeout'
          ? 'timeout'
          : f.code === 'unreachable'
            ? 'unreachable'
            : 'protocol';
  return { status: 'error', code, reason: `${doing}: ${f.message}` };
}
