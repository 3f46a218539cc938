import { exposureCounts, type MatchChange } from '../../domain/advisories/changes.ts';
import { type Finding, neverVerified, type SignerCoverage } from '../../domain/advisories/match.ts';
import type { Advisory } from '../../domain/advisories/model.ts';
import { environmentRank } from '../../domain/inventory/inventory.ts';
import { type Block, bold, code, join, lit, type Message, md, type Text } from '../message.ts';
import { utc, when } from '../time.ts';
import { releaseCaveat, signatureVia, signerUnknownBlocks, unverifiedRunning } from './present-signers.ts';

/** Workload lines shown in a notification before "and N more". */
export const ALERT_LINE_LIMIT = 20;

const SEVERITY_ICON: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':white_circle:',
  unknown: ':grey_question:',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function findingLine(f: Finding, now: Date): Text {
  const where = md`${bold(`${f.namespace}/${f.workload}`)} in ${code(f.cluster)}`;
  const state =
    f.state === 'current'
      ? lit(':rotating_light: *running now*')
      : md`ran before — last seen ${when(f.lastSeen ?? f.firstSeen, now)}`;
  const via = f.signature
    ? signatureVia(f.digest, f.signature)
    : f.component !== undefined
      ? md` · ${code(f.component.purl ?? f.component.name)}${f.component.version && !f.component.purl ? ` ${f.component.version}` : ''}${f.via === 'artifact-hash' ? ' (artifact hash)' : ''}`
      : md` · matched by ${f.via.replace('image-', 'image ')}`;
  const unsure =
    f.certainty === 'unknown' && !f.signature
      ? lit(' · _version could not be compared: check by hand_')
      : lit('');
  const release = f.releaseUnchecked ? releaseCaveat(f.releaseUnchecked) : lit('');
  return md`${where}: ${state} · image ${code(f.image)}${via}${unsure}${release}`;
}

/** Findings grouped environment → cluster → workload (production first, current before past). */
export function groupedFindings(findings: readonly Finding[], now: Date, limit = ALERT_LINE_LIMIT): Block[] {
  const sorted = [...findings].sort(
    (a, b) =>
      environmentRank(a.environment) - environmentRank(b.environment) ||
      a.environment.localeCompare(b.environment) ||
      a.cluster.localeCompare(b.cluster) ||
      (a.state === b.state ? 0 : a.state === 'current' ? -1 : 1) ||
      `${a.namespace}/${a.workload}`.localeCompare(`${b.namespace}/${b.workload}`),
  );
  const blocks: Block[] = [];
  let shown = 0;
  let env: string | undefined;
  let items: Text[] = [];
  const flush = () => {
    if (env !== undefined && items.length) {
      blocks.push({ kind: 'section', text: md`*Environment ${env}*` }, { kind: 'list', items });
    }
    items = [];
  };
  for (const f of sorted) {
    if (shown >= limit) break;
    if (f.environment !== env) {
      flush();
      env = f.environment;
    }
    items.push(findingLine(f, now));
    shown++;
  }
  flush();
  if (sorted.length > shown) {
    blocks.push({
      kind: 'context',
      text: md`… and ${sorted.length - shown} more — the full list: ${code('/scope advisory <id>')}`,
    });
  }
  return blocks;
}

export function advisoryHeadline(a: Advisory): Text {
  const refs = a.references
    .slice(0, 3)
    .map((url, i): Text => [{ t: 'link', text: i === 0 ? 'reference' : `ref ${i + 1}`, url }]);
  const aliases = a.aliases.length ? md` · aka ${a.aliases.slice(0, 3).join(', ')}` : lit('');
  return md`${lit(SEVERITY_ICON[a.severity] ?? '')} ${bold(a.id)} (${a.severity}) — ${a.title}\nfeed ${code(a.source)}${aliases}${refs.length ? md` · ${join(refs, ' · ')}` : lit('')}`;
}

/** The channel notification for one advisory and its current match set. */
export function presentAdvisoryAlert(
  a: Advisory,
  findings: readonly Finding[],
  now: Date,
  signers?: SignerCoverage,
): Message {
  const counts = exposureCounts(findings);
  const unknown = unverifiedRunning(signers);
  const headline = findings.length
    ? `Advisory ${a.id}: ${plural(counts.current, 'workload')} running it, ${counts.past} ran it before`
    : neverVerified(signers) > 0
      ? `Advisory ${a.id}: no signature by it found so far; ${plural(unknown, 'running digest')} never verified`
      : signers
        ? `Advisory ${a.id}: no verified digest was signed by it`
        : `Advisory ${a.id}: no longer matches anything`;
  const blocks: Block[] = [
    { kind: 'header', text: headline },
    { kind: 'section', text: advisoryHeadline(a) },
  ];
  if (a.withdrawn)
    blocks.push({
      kind: 'section',
      text: md`:information_source: This advisory was withdrawn on ${when(a.withdrawn, now)}.`,
    });
  blocks.push(...groupedFindings(findings, now));
  blocks.push(...signerUnknownBlocks(signers));
  // Freeze deploys / Quarantine buttons are added by the worker (offers stored server-side): jobs/actions/offers.ts.
  blocks.push({
    kind: 'context',
    text: md`Matched ${utc(now.toISOString())} · past exposure = ran within the inventory look-back window · updated in place when matches change`,
  });
  const unsure = unknown ? `; ${unknown} running digests never verified (signer unknown)` : '';
  return {
    summary: findings.length
      ? `Advisory ${a.id} (${a.severity}): ${counts.current} workloads running it, ${counts.past} ran it before${unsure}`
      : neverVerified(signers) > 0
        ? `Advisory ${a.id} (${a.severity}): no signature by it found so far${unsure}`
        : `Advisory ${a.id}: no longer matches anything`,
    blocks,
  };
}

/** The short threaded note that says what changed when a notification is updated. */
export function presentChangeNote(
  a: Advisory,
  change: MatchChange,
  now: Date,
  signers?: SignerCoverage,
): Message {
  const added = change.added.slice(0, 10).map((f) => findingLine(f, now));
  const removed = change.removed.slice(0, 10).map((k) => {
    const [cluster, ns, wl, image, state] = k.split('|');
    return md`${bold(`${ns}/${wl}`)} in ${code(cluster ?? '')} (${state === 'current' ? 'running' : 'past'}, ${code(image ?? '')}) no longer matches`;
  });
  const blocks: Block[] = [
    {
      kind: 'section',
      text: md`*Matches of ${a.id} changed:* ${change.added.length} new, ${change.removed.length} gone`,
    },
  ];
  if (added.length) blocks.push({ kind: 'list', items: added });
  if (removed.length) blocks.push({ kind: 'list', items: removed });
  // What is still unknown is repeated, so a note with no new match does not read as an all-clear.
  blocks.push(...signerUnknownBlocks(signers));
  return { summary: `${a.id}: ${change.added.length} new matches, ${change.removed.length} gone`, blocks };
}
