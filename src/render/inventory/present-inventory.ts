import type {
  ClusterCaveat,
  DigestReport,
  ImageReport,
  WhereReport,
  WorkloadUse,
} from '../../domain/inventory/fleet-report.ts';
import { type Digest, shortDigest } from '../../domain/inventory/image-ref.ts';
import { csvCell } from '../csv.ts';
import { footer, type PresentContext } from '../footer.ts';
import {
  type Block,
  bold,
  code,
  type FileAttachment,
  join,
  lit,
  type Message,
  md,
  type Text,
} from '../message.ts';
import { verifyDigestButton } from '../provenance/present-verify.ts';
import { relativeAge, utc, when } from '../time.ts';
import {
  caveatBlock,
  completenessLabel,
  debugOnly,
  notFoundHeadline,
  partialNote,
  roleText,
  summaryPrefix,
} from './coverage.ts';

/** Workload lines shown inline before the rest goes to the attached CSV. */
export const INLINE_LIMIT = 15;

const short = (d: string) => (d.startsWith('sha256:') && d.length === 71 ? shortDigest(d as Digest) : d);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function useLine(
  u: WorkloadUse,
  now: Date,
  opts: { digest?: boolean; stale?: ReadonlySet<string> } = {},
): Text {
  const wl = md`${bold(`${u.namespace}/${u.workload.name}`)} (${u.workload.kind.toLowerCase()})`;
  const since = u.firstSeen ? md`, since ${when(u.firstSeen, now)}` : lit('');
  const state = u.running
    ? md`${plural(u.pods, 'pod')}${u.nodes ? ` on ${plural(u.nodes, 'node')}` : ''}${since}`
    : md`no longer runs this image — ran ${utc(u.firstSeen)} → last seen ${when(u.lastSeen, now)}`;
  const image = u.images.length ? md` · image ${code(u.images.join(', '))}` : lit('');
  const digest = opts.digest ? md` · ${code(u.digest)}` : lit('');
  const stale = opts.stale?.has(u.cluster)
    ? lit(' · :warning: _last known state, cluster not answering_')
    : lit('');
  // A debug container is not the workload's own image: say so first, so nobody rolls back the wrong workload.
  const lead = debugOnly(u) ? md`:warning: ${bold('Debug container only')} — ` : lit('');
  return md`${lead}${wl} in ${code(u.cluster)}: ${state}${roleText(u, now)}${image}${digest}${stale}`;
}

function unreachable(caveats: readonly ClusterCaveat[]): ReadonlySet<string> {
  return new Set(caveats.filter((c) => c.state !== 'never').map((c) => c.cluster));
}

/** The one caveat line for stored records the answer had to leave out (Redis is a trust boundary). */
function unreadableBlock(unreadable: number | undefined): Block[] {
  if (!unreadable) return [];
  const what = unreadable === 1 ? '1 stored record was' : `${unreadable} stored records were`;
  return [
    {
      kind: 'section',
      text: md`:warning: *Incomplete:* ${what} unreadable (malformed in the index) and left out of this answer.`,
    },
  ];
}

function usesCsv(uses: readonly WorkloadUse[]): string {
  const esc = csvCell;
  const head =
    'environment,cluster,namespace,kind,workload,digest,images,containers,pods,nodes,running,first_seen,last_seen,roles';
  const rows = uses.map((u) =>
    [
      u.environment,
      u.cluster,
      u.namespace,
      u.workload.kind,
      u.workload.name,
      u.digest,
      u.images.join(' '),
      u.containers.join(' '),
      u.pods,
      u.nodes,
      u.running,
      u.firstSeen,
      u.lastSeen,
      Object.entries(u.roles)
        .map(([name, role]) => `${name}=${role}`)
        .join(' '),
    ]
      .map(esc)
      .join(','),
  );
  return [head, ...rows].join('\n');
}

function dataAge(asOf: string | undefined, now: Date): Text {
  return asOf ? md`data as of ${utc(asOf)} (${relativeAge(asOf, now)})` : lit('no cluster synced yet');
}

export function presentDigest(r: DigestReport, ctx: PresentContext): Message {
  const now = ctx.now;
  const blocks: Block[] = [];
  const all = r.environments.flatMap((e) => e.uses);
  const ranBefore = all.filter((u) => !u.running).length;
  const config = r.idKind === 'config';
  const subject = config ? md`an image with config id ${code(r.digest)}` : md`${code(r.digest)}`;
  const headline =
    r.totals.pods > 0
      ? md`:mag: ${subject} is *running* in ${bold(String(r.totals.clusters))} cluster${r.totals.clusters === 1 ? '' : 's'}, ${r.totals.namespaces} namespace${r.totals.namespaces === 1 ? '' : 's'}, ${r.totals.workloads} workload${r.totals.workloads === 1 ? '' : 's'}, ${r.totals.pods} pod${r.totals.pods === 1 ? '' : 's'}.${partialNote(r, now)}`
      : ranBefore > 0
        ? md`:mag: ${subject} is *not running now*, but ran in ${ranBefore} workload${ranBefore === 1 ? '' : 's'} earlier.${partialNote(r, now)}`
        : notFoundHeadline(subject, r, now, ' and has not run within the look-back window');
  if (config) {
    blocks.push({
      kind: 'section',
      text: md`:information_source: ${code(r.digest)} is an image *config id* (the IMAGE ID that \`docker images\` and \`crictl images\` show, or a \`docker://sha256:…\` imageID), not a manifest digest: matched against the config ids container runtimes report.`,
    });
  }
  blocks.push({ kind: 'section', text: headline });
  blocks.push(...caveatBlock(r.caveats, now), ...unreadableBlock(r.unreadable));
  const stale = unreachable(r.caveats);
  let shown = 0;
  for (const env of r.environments) {
    const earliest = env.earliest ? md` — earliest deployment ${when(env.earliest, now)}` : lit('');
    blocks.push({ kind: 'section', text: md`${bold(env.environment.toUpperCase())}${earliest}` });
    const items = env.uses.slice(0, Math.max(0, INLINE_LIMIT - shown)).map((u) => useLine(u, now, { stale }));
    shown += items.length;
    if (items.length) blocks.push({ kind: 'list', items });
    if (items.length < env.uses.length) {
      blocks.push({
        kind: 'context',
        text: md`…and ${env.uses.length - items.length} more in this environment (full list attached as CSV).`,
      });
    }
  }
  if (r.totals.pods > 0) blocks.push({ kind: 'actions', buttons: [verifyDigestButton(r.digest)] });
  blocks.push({
    kind: 'context',
    text: join([footer(ctx), dataAge(r.dataAsOf, now), completenessLabel(r)], ' · '),
  });
  const attachments: FileAttachment[] =
    all.length > INLINE_LIMIT
      ? [
          {
            filename: `scope-digest-${r.digest.slice(7, 19)}.csv`,
            title: `Every workload that runs or ran ${r.digest}`,
            content: usesCsv(all),
          },
        ]
      : [];
  const summary = `${summaryPrefix(r)}${
    r.totals.pods > 0
      ? `${short(r.digest)} runs in ${r.totals.clusters} clusters, ${r.totals.workloads} workloads, ${r.totals.pods} pods`
      : r.completeness === 'unknown'
        ? `cannot tell where ${short(r.digest)} runs`
        : `${short(r.digest)} is not running now${r.completeness === 'partial' ? ' in the clusters that answered' : ''}`
  }`;
  return { summary, blocks, ...(attachments.length ? { attachments } : {}) };
}

export function presentImage(r: ImageReport, ctx: PresentContext): Message {
  const now = ctx.now;
  const name = `${r.repository}${r.tag ? `:${r.tag}` : ''}`;
  const blocks: Block[] = [];
  if (r.drift.length) {
    blocks.push({
      kind: 'section',
      text: md`:rotating_light: *Tag drift:* the same tag runs as different digests`,
    });
    blocks.push({
      kind: 'list',
      items: r.drift.map((d) => {
        const envs = Object.entries(d.environments).map(
          ([env, ds]) => md`${env}: ${ds.map(short).join(', ')}`,
        );
        return md`${code(`${r.repository}:${d.tag}`)} → ${d.digests.length} digests (${join(envs, '; ')})${d.kind === 'environment' ? ' — differs between environments' : ''}`;
      }),
    });
  }
  const total = new Set(r.tags.flatMap((t) => t.digests.map((d) => d.digest))).size;
  blocks.push({
    kind: 'section',
    text:
      total === 0
        ? notFoundHeadline(md`${code(name)}`, r, now, '')
        : md`:package: ${code(name)} runs as ${bold(plural(total, 'digest'))} across ${plural(r.tags.length, 'tag')}.${partialNote(r, now)}`,
  });
  blocks.push(...caveatBlock(r.caveats, now), ...unreadableBlock(r.unreadable));
  const stale = unreachable(r.caveats);
  const allUses: WorkloadUse[] = [];
  let shown = 0;
  let hidden = 0;
  for (const t of r.tags) {
    for (const d of t.digests) {
      allUses.push(...d.uses);
      if (shown >= INLINE_LIMIT) {
        hidden++;
        continue;
      }
      blocks.push({
        kind: 'section',
        text: md`${bold(t.tag)} → ${code(d.digest)}${d.firstSeen ? md` — first seen ${when(d.firstSeen, now)}` : lit('')}`,
      });
      const items = d.uses.slice(0, Math.max(0, INLINE_LIMIT - shown)).map((u) => useLine(u, now, { stale }));
      shown += items.length;
      if (items.length) blocks.push({ kind: 'list', items });
      if (items.length < d.uses.length)
        blocks.push({ kind: 'context', text: md`…and ${d.uses.length - items.length} more (CSV attached).` });
    }
  }
  if (hidden)
    blocks.push({
      kind: 'context',
      text: md`…and ${plural(hidden, 'more tag/digest pair')} in the attached CSV.`,
    });
  if (r.unpinned) {
    blocks.push({
      kind: 'context',
      text: md`${plural(r.unpinned, 'container')} of this image reported no repo digest (not started yet, or a runtime that only reports image ids).`,
    });
  }
  blocks.push({
    kind: 'context',
    text: join([footer(ctx), dataAge(r.dataAsOf, now), completenessLabel(r)], ' · '),
  });
  const summary = `${summaryPrefix(r)}${
    r.drift.length
      ? `Tag drift in ${name}: ${r.drift.map((d) => `${d.tag} → ${d.digests.length} digests`).join(', ')}`
      : r.completeness === 'unknown' && total === 0
        ? `cannot tell where ${name} runs`
        : `${name} runs as ${plural(total, 'digest')}`
  }`;
  return {
    summary,
    blocks,
    ...(allUses.length > INLINE_LIMIT
      ? {
          attachments: [
            { filename: 'scope-image.csv', title: `Where ${name} runs`, content: usesCsv(allUses) },
          ],
        }
      : {}),
  };
}

export function presentWhere(r: WhereReport, ctx: PresentContext): Message {
  const now = ctx.now;
  const blocks: Block[] = [
    {
      kind: 'section',
      text:
        r.completeness === 'unknown'
          ? md`:grey_question: *Unknown:* the cluster has not answered, so scope cannot say what ${code(r.target)} runs${r.current.length ? ' now; below is the last known state' : ''}.`
          : md`:round_pushpin: ${code(r.target)} runs ${bold(plural(r.current.length, 'workload image'))} now; ${r.history.length} earlier in the look-back window.${r.completeness === 'partial' ? ' *Partial answer:* the data is not current.' : ''}`,
    },
    ...caveatBlock(r.caveats, now),
    ...unreadableBlock(r.unreadable),
  ];
  const stale = unreachable(r.caveats);
  if (r.current.length) {
    blocks.push({ kind: 'section', text: lit('*Running now*') });
    blocks.push({
      kind: 'list',
      items: r.current.slice(0, INLINE_LIMIT).map((u) => useLine(u, now, { digest: true, stale })),
    });
  }
  if (r.history.length) {
    blocks.push({ kind: 'section', text: lit('*Ran before* (most recent first)') });
    blocks.push({
      kind: 'list',
      items: r.history.slice(0, INLINE_LIMIT).map((u) => useLine(u, now, { digest: true })),
    });
  }
  if (r.unknownDigest.length) {
    blocks.push({
      kind: 'context',
      text: md`${plural(r.unknownDigest.length, 'container')} without a known repo digest yet: ${r.unknownDigest
        .slice(0, 5)
        .map((u) => `${u.namespace}/${u.workload.name} (${u.image})`)
        .join(', ')}`,
    });
  }
  blocks.push({
    kind: 'context',
    text: join([footer(ctx), dataAge(r.dataAsOf, now), completenessLabel(r)], ' · '),
  });
  const all = [...r.current, ...r.history];
  return {
    summary: `${summaryPrefix(r)}${r.target}: ${r.current.length} running, ${r.history.length} earlier`,
    blocks,
    ...(all.length > INLINE_LIMIT * 2 || r.current.length > INLINE_LIMIT || r.history.length > INLINE_LIMIT
      ? {
          attachments: [
            { filename: 'scope-where.csv', title: `What ${r.target} runs and ran`, content: usesCsv(all) },
          ],
        }
      : {}),
  };
}
