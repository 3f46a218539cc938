import type { ReleaseUnchecked } from '../../domain/advisories/component-index.ts';
import type { SignerCoverage } from '../../domain/advisories/match.ts';
import type { SignerObservation } from '../../domain/advisories/signers.ts';
import { PATH_LABEL } from '../../domain/provenance/outcome.ts';
import { type Block, code, join, lit, md, type Text } from '../message.ts';
import { utc } from '../time.ts';

const FORM_LABEL: Record<SignerObservation['form'], string> = {
  'sigstore-bundle': 'Sigstore bundle',
  'cosign-signature': 'cosign signature',
  'cosign-attestation': 'cosign attestation',
};

/** How a signer-identity finding matched: digest, identity and issuer, and which signature (place, form). */
export function signatureVia(digest: string | undefined, o: SignerObservation): Text {
  const who =
    o.signer.kind === 'keyless'
      ? md`${code(o.signer.identity)} (issuer ${code(o.signer.issuer)})`
      : md`key ${code(o.signer.key)}`;
  const onIndex = o.onIndex ? md` on its multi-arch index ${code(o.onIndex)}` : lit('');
  const proof = o.cryptographic
    ? lit(o.trusted ? 'verified, trusted by the policy' : 'verified, not trusted by the policy')
    : lit('_signature did not verify: the signer is only claimed_');
  return md` · digest ${code(digest ?? '?')} signed by ${who}${onIndex} · ${FORM_LABEL[o.form]} via ${PATH_LABEL[o.path]} ${code(`${o.repository}:${o.reference}`)} (${proof}; seen ${utc(o.seenAt)})`;
}

/** The caveat of a package finding whose distribution release could not be compared with the advisory's. */
export function releaseCaveat(r: ReleaseUnchecked): Text {
  const why =
    r.why === 'no-distro'
      ? 'the SBOM does not say which release (no distro qualifier)'
      : r.why === 'unreadable-distro'
        ? `the SBOM's distro=${r.distro ?? '?'} is not a release scope can read`
        : 'scope cannot read the release the advisory names';
  return md` · _release not checked: the advisory is for ${r.ecosystem}, ${why}_`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function identities(c: SignerCoverage): Text {
  const shown = c.identities.slice(0, 3).map((i): Text => [code(i)]);
  const more = c.identities.length > 3 ? lit(` or ${c.identities.length - 3} more`) : lit('');
  return md`${join(shown, ' or ')}${more}`;
}

/**
 * What cannot be said about the advisory's signer identities, as lines: digests never verified are unknown,
 * never "not signed by it". Empty when every digest of the fleet was checked completely.
 */
export function signerUnknownLines(c: SignerCoverage | undefined): Text[] {
  if (!c) return [];
  const who = identities(c);
  const out: Text[] = [];
  const { unverified, partial } = c;
  if (unverified.current > 0)
    out.push(
      md`:grey_question: ${plural(unverified.current, 'running digest has', 'running digests have')} never been verified; whether ${unverified.current === 1 ? 'it was' : 'they were'} signed by ${who} is unknown — run ${code('/scope verify all')}`,
    );
  if (unverified.past > 0)
    out.push(
      md`:grey_question: ${plural(unverified.past, 'digest', 'digests')} that ran before (look-back window) ${unverified.past === 1 ? 'was' : 'were'} never verified: whether signed by ${who} is unknown — ${code('/scope verify <registry/repository@digest>')} checks one`,
    );
  const partly = partial.current + partial.past;
  if (partly > 0)
    out.push(
      md`:grey_question: ${plural(partly, 'digest was', 'digests were')} verified only in part (verification stops at the first trusted signature, or a signature place could not be read): a signature by ${who} in the places not read is not ruled out`,
    );
  return out;
}

export function signerUnknownBlocks(c: SignerCoverage | undefined): Block[] {
  const lines = signerUnknownLines(c);
  return lines.length ? [{ kind: 'list', items: lines }] : [];
}

/** Running digests never verified, for headers and summaries. */
export function unverifiedRunning(c: SignerCoverage | undefined): number {
  return c ? c.unverified.current : 0;
}
