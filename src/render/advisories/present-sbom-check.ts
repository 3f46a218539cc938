import type { SbomCheckReport } from '../../jobs/advisories/sbom-check.ts';
import { type Block, bold, code, lit, type Message, md } from '../message.ts';
import { releaseCaveat } from './present-signers.ts';

/** Terminal/Slack rendering of `scope cli sbom-check`: every match with SBOM, purl, version and advisory id. */
export function presentSbomCheck(r: SbomCheckReport): Message {
  const blocks: Block[] = [
    {
      kind: 'header',
      text: r.matches.length
        ? `sbom-check: ${r.matches.length} matches — do not deploy`
        : 'sbom-check: no matches',
    },
    {
      kind: 'section',
      text: md`${r.sboms.length} SBOMs (${r.sboms.reduce((n, s) => n + s.components, 0)} components) against ${r.advisories} advisories from ${r.feeds.length} feeds.`,
    },
  ];
  if (r.matches.length) {
    blocks.push({
      kind: 'list',
      items: r.matches.map(
        (m) =>
          md`${m.sbom}: ${code(m.purl ?? m.name)} ${m.version ?? '(no version)'} — ${bold(m.advisory)} (${m.severity}) ${m.title}${m.via === 'artifact-hash' ? ' [artifact hash]' : ''}${m.certainty === 'unknown' ? ' [version not comparable: check by hand]' : ''}${m.releaseUnchecked ? releaseCaveat(m.releaseUnchecked) : lit('')}`,
      ),
    });
  }
  const s = r.signerIndicators;
  if (s.count > 0) {
    const ids = s.advisories.slice(0, 5).join(', ') + (s.advisories.length > 5 ? ', …' : '');
    blocks.push({
      kind: 'section',
      text: md`:warning: ${s.count === 1 ? '1 signer-identity indicator' : `${s.count} signer-identity indicators`} (${ids}) ${s.count === 1 ? 'was' : 'were'} NOT checked: an SBOM does not say who signed the image, so they cannot be checked offline. Whether these images were signed by those identities is unknown — verify the running images (${code('/scope verify all')} or ${code('scope cli verify all')}) and let the advisory re-match check them.`,
    });
  }
  if (r.problems.length) {
    blocks.push({ kind: 'context', text: md`${r.problems.length} records or components skipped:` });
    blocks.push({
      kind: 'list',
      items: r.problems.slice(0, 20).map((p) => md`${p.source} ${p.record}: ${p.why}`),
    });
  }
  return { summary: `sbom-check: ${r.matches.length} matches`, blocks };
}
