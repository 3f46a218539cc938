import type { Component } from '../../domain/advisories/sbom.ts';
import type {
  AdvisoriesReport,
  AdvisoryReport,
  DiffReport,
  WatchReport,
} from '../../jobs/advisories/commands.ts';
import type { StatusReport } from '../../jobs/status.ts';
import { footer, type PresentContext } from '../footer.ts';
import { type Block, bold, code, lit, type Message, md, type Text } from '../message.ts';
import { when } from '../time.ts';
import { advisoryHeadline, groupedFindings } from './present-alert.ts';
import { signerUnknownBlocks } from './present-signers.ts';

const LIST_LIMIT = 25;

/** Feed health and job schedulers under `/scope status`. */
export function presentAdvisoryStatus(report: StatusReport, now: Date): Block[] {
  const blocks: Block[] = [];
  if (report.schedulers?.length) {
    blocks.push({
      kind: 'section',
      text: md`*Job schedulers:* ${report.schedulers
        .map((s) => `${s.id} every ${s.everySeconds ?? '?'} s${s.next ? `, next ${when(s.next, now)}` : ''}`)
        .join('; ')}`,
    });
  }
  if (report.feeds?.length) {
    blocks.push({
      kind: 'list',
      items: report.feeds.map((f) => {
        const icon = f.lastError ? '🔴' : f.lastSuccessAt ? '🟢' : '⚪';
        const err = f.lastError ? md` — last error (${f.failures} in a row): ${f.lastError}` : lit('');
        return md`${icon} feed ${bold(f.feed)}: ${f.records} records, ${f.problems} skipped, last good poll ${when(f.lastSuccessAt, now)}${err}`;
      }),
    });
  }
  return blocks;
}

export function presentAdvisories(r: AdvisoriesReport, ctx: PresentContext): Message {
  const blocks: Block[] = [
    { kind: 'header', text: `Advisories: ${r.active.length} match the fleet` },
    {
      kind: 'section',
      text: md`${r.loaded} advisories loaded from ${r.configuredFeeds.length} feeds (${r.withdrawn} withdrawn, never matched).`,
    },
  ];
  if (r.active.length) {
    blocks.push({
      kind: 'list',
      items: r.active
        .slice(0, LIST_LIMIT)
        .map(
          (a) =>
            md`${bold(a.id)} (${a.severity}) — ${a.title} · ${a.current} workloads running it, ${a.past} ran it before${a.undecided ? ` · ${a.undecided} running digests never verified (signer unknown)` : ''} · feed ${code(a.source)}`,
        ),
    });
    if (r.active.length > LIST_LIMIT)
      blocks.push({ kind: 'context', text: md`… and ${r.active.length - LIST_LIMIT} more.` });
  } else if (r.undecided.length === 0) {
    blocks.push({
      kind: 'section',
      text: r.matchedAt
        ? md`No advisory matches anything that runs or ran (within the look-back window), as of ${when(r.matchedAt, ctx.now)}.`
        : lit(
            'The fleet has not been matched against the feeds yet: the first re-match runs right after the first poll.',
          ),
    });
  }
  if (r.undecided.length) {
    blocks.push({
      kind: 'section',
      text: md`:grey_question: *Signer identities not ruled out:* no verified signature by them, but not every digest was verified — ${code('/scope verify all')}, then ${code('/scope advisory <id>')}`,
    });
    blocks.push({
      kind: 'list',
      items: r.undecided
        .slice(0, LIST_LIMIT)
        .map(
          (a) =>
            md`${bold(a.id)} (${a.severity}) — ${a.title} · ${a.running} running digests never verified · feed ${code(a.source)}`,
        ),
    });
  }
  const broken = r.feeds.filter((f) => f.lastError || f.problems);
  for (const f of broken) {
    const samples = f.problemSamples.slice(0, 3).map((p) => md`${p.record}: ${p.why}`);
    blocks.push({
      kind: 'section',
      text: f.lastError
        ? md`:warning: feed ${bold(f.feed)} failed ${f.failures} times in a row: ${f.lastError} (next try ${when(f.nextAttemptAt, ctx.now)})`
        : md`:warning: feed ${bold(f.feed)}: ${f.problems} malformed records skipped`,
    });
    if (samples.length) blocks.push({ kind: 'list', items: samples });
  }
  blocks.push({ kind: 'context', text: footer(ctx) });
  return { summary: `${r.active.length} advisories match`, blocks };
}

export function presentAdvisory(r: AdvisoryReport, ctx: PresentContext): Message {
  const a = r.advisory;
  const blocks: Block[] = [
    { kind: 'header', text: `Advisory ${a.id}` },
    { kind: 'section', text: advisoryHeadline(a) },
  ];
  const what: Text[] = [
    ...a.packages.map((p) => {
      const ranges = p.ranges
        .map((rg) => rg.events.map((e) => `${e.kind} ${e.version}`).join(', '))
        .join(' | ');
      return md`${p.ecosystemName} ${code(p.name)}${ranges ? `: ${ranges}` : ''}${p.versions.length ? ` · versions ${p.versions.slice(0, 8).join(', ')}${p.versions.length > 8 ? ', …' : ''}` : ''}`;
    }),
    ...a.indicators.map((i) => {
      switch (i.kind) {
        case 'image-digest':
          return md`image digest ${code(i.digest)}`;
        case 'image-repository':
          return md`image repository ${code(i.repository)} (every tag)`;
        case 'image-tag':
          return md`image tag ${code(`${i.repository}:${i.tag}`)}`;
        case 'artifact-hash':
          return md`artifact ${code(`${i.algorithm}:${i.hex}`)}`;
        default:
          return md`signer ${code(i.identity)}${i.issuer ? ` (issuer ${i.issuer})` : ' (any issuer)'} — matched exactly against the signatures ${code('/scope verify')} recorded`;
      }
    }),
  ];
  if (what.length) blocks.push({ kind: 'list', items: what.slice(0, 30) });
  if (a.withdrawn)
    blocks.push({
      kind: 'section',
      text: md`:information_source: Withdrawn ${when(a.withdrawn, ctx.now)}: not matched.`,
    });
  for (const n of a.notes.slice(0, 5)) blocks.push({ kind: 'context', text: md`Note: ${n}` });
  if (r.match && r.match.total > 0) {
    blocks.push({
      kind: 'section',
      text: md`*Where:* ${r.match.current} workloads running it now, ${r.match.past} ran it before (matched ${when(r.match.matchedAt, ctx.now)})`,
    });
    blocks.push(...groupedFindings(r.match.findings, ctx.now, 60));
    if (r.match.total > r.match.findings.length) {
      blocks.push({
        kind: 'context',
        text: md`${r.match.total - r.match.findings.length} further matches not stored.`,
      });
    }
    blocks.push(...signerUnknownBlocks(r.match.signers));
  } else if (r.match?.signers) {
    blocks.push({
      kind: 'section',
      text: md`No signature by it was found on a digest that was verified (matched ${when(r.match.matchedAt, ctx.now)}); that does not cover:`,
    });
    blocks.push(...signerUnknownBlocks(r.match.signers));
  } else if (!a.withdrawn) {
    blocks.push({
      kind: 'section',
      text: lit('It matches nothing that runs or ran (as of the last re-match).'),
    });
  }
  blocks.push({ kind: 'context', text: footer(ctx) });
  return {
    summary: `Advisory ${a.id}: ${r.match?.current ?? 0} running, ${r.match?.past ?? 0} past`,
    blocks,
  };
}

function comp(c: Component): Text {
  return md`${code(c.purl ?? `${c.name}${c.version ? `@${c.version}` : ''}`)}`;
}

export function presentDiff(r: DiffReport, ctx: PresentContext): Message {
  const d = r.diff;
  const blocks: Block[] = [
    {
      kind: 'header',
      text: `SBOM diff: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed`,
    },
    {
      kind: 'section',
      text: md`Known good ${code(r.good.image)} (${r.good.origin}) → suspicious ${code(r.suspicious.image)} (${r.suspicious.origin}); ${d.unchanged} packages unchanged.`,
    },
  ];
  if (r.flagged.length) {
    blocks.push({
      kind: 'section',
      text: lit(':rotating_light: *Added or changed packages named by an advisory:*'),
    });
    blocks.push({
      kind: 'list',
      items: r.flagged
        .slice(0, LIST_LIMIT)
        .map(
          (f) =>
            md`${comp(f.component)} — ${bold(f.advisory.id)} (${f.advisory.severity}) ${f.advisory.title}${f.certainty === 'unknown' ? ' · version not comparable, check by hand' : ''}`,
        ),
    });
  } else {
    blocks.push({
      kind: 'section',
      text: lit('No added or changed package is named by an advisory in the enabled feeds.'),
    });
  }
  const section = (title: string, items: Text[]) => {
    if (!items.length) return;
    blocks.push(
      { kind: 'section', text: md`*${title}*` },
      { kind: 'list', items: items.slice(0, LIST_LIMIT) },
    );
    if (items.length > LIST_LIMIT)
      blocks.push({ kind: 'context', text: md`… and ${items.length - LIST_LIMIT} more.` });
  };
  section('Added', d.added.map(comp));
  section(
    'Changed',
    d.changed.map((c) => md`${c.after.name}: ${c.before.version ?? '?'} → ${c.after.version ?? '?'}`),
  );
  section('Removed', d.removed.map(comp));
  blocks.push({ kind: 'context', text: footer(ctx) });
  return { summary: `SBOM diff: ${d.added.length} added, ${r.flagged.length} flagged`, blocks };
}

export function presentWatch(r: WatchReport, ctx: PresentContext): Message {
  const feeds = r.subscription
    ? r.subscription.feeds === 'all'
      ? 'every feed'
      : r.subscription.feeds.join(', ')
    : undefined;
  const text = feeds
    ? md`:eyes: This channel now gets a message for every advisory from ${feeds} that matches what runs or ran; messages are updated in place when matches change.`
    : md`:zipper_mouth_face: This channel no longer gets advisory notifications.`;
  return {
    summary: feeds ? `Watching ${feeds}` : 'Not watching advisories',
    blocks: [
      { kind: 'section', text },
      { kind: 'context', text: footer(ctx) },
    ],
  };
}
