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
import { relativeAge, utc, when } from '../time.ts';

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
  return md`${wl} in ${code(u.cluster)}: ${state}${image}${digest}${stale}`;
}

function unreachable(caveats: readonly ClusterCaveat[]): ReadonlySet<string> {
  return new Set(caveats.filter((c) => c.state !== 'never').map((c) => c.cluster));
}

function caveatBlock(caveats: readonly ClusterCaveat[], now: Date): Block[] {
  if (caveats.length === 0) return [];
  return [
    {
      kind: 'section',
      text: lit(':warning: *Incomplete:* these clusters may be missing from the answer'),
    },
    {
      kind: 'list',
      items: caveats.map((c) => {
        const why =
          c.state === 'never'
            ? lit('never synced')
            : c.state === 'stale'
              ? md`stale, last good sync ${when(c.lastSuccessAt, now)}`
              : md`unreachable (${c.lastError ?? 'error'}), last good sync ${when(c.lastSuccessAt, now)}`;
        return md`${bold(c.cluster)} (${c.environment}) — ${why}`;
      }),
    },
  ];
}

function usesCsv(uses: readonly WorkloadUse[]): string {
  const esc = csvCell;
  const head =
    'environment,cluster,namespace,kind,workload,digest,images,containers,pods,nodes,running,first_seen,last_seen';
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
  const headline =
    r.totals.pods > 0
      ? md`:mag: ${code(r.digest)} is *running* in ${bold(String(r.totals.clusters))} cluster${r.totals.clusters === 1 ? '' : 's'}, ${r.totals.namespaces} namespace${r.totals.namespaces === 1 ? '' : 's'}, ${r.totals.workloads} workload${r.totals.workloads === 1 ? '' : 's'}, ${r.totals.pods} pod${r.totals.pods === 1 ? '' : 's'}.`
      : ranBefore > 0
        ? md`:mag: ${code(r.digest)} is *not running now*, but ran in ${ranBefore} workload${ranBefore === 1 ? '' : 's'} earlier.`
        : md`:white_check_mark: ${code(r.digest)} is not running in any synced cluster and has not run within the look-back window.`;
  blocks.push({ kind: 'section', text: headline });
  blocks.push(...caveatBlock(r.caveats, now));
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
  blocks.push({ kind: 'context', text: join([footer(ctx), dataAge(r.dataAsOf, now)], ' · ') });
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
  const summary =
    r.totals.pods > 0
      ? `${short(r.digest)} runs in ${r.totals.clusters} clusters, ${r.totals.workloads} workloads, ${r.totals.pods} pods`
      : `${short(r.digest)} is not running now`;
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
        ? md`:white_check_mark: ${code(name)} is not running in any synced cluster.`
        : md`:package: ${code(name)} runs as ${bold(plural(total, 'digest'))} across ${plural(r.tags.length, 'tag')}.`,
  });
  blocks.push(...caveatBlock(r.caveats, now));
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
  blocks.push({ kind: 'context', text: join([footer(ctx), dataAge(r.dataAsOf, now)], ' · ') });
  const summary = r.drift.length
    ? `Tag drift in ${name}: ${r.drift.map((d) => `${d.tag} → ${d.digests.length} digests`).join(', ')}`
    : `${name} runs as ${plural(total, 'digest')}`;
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
      text: md`:round_pushpin: ${code(r.target)} runs ${bold(plural(r.current.length, 'workload image'))} now; ${r.history.length} earlier in the look-back window.`,
    },
    ...caveatBlock(r.caveats, now),
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
  blocks.push({ kind: 'context', text: join([footer(ctx), dataAge(r.dataAsOf, now)], ' · ') });
  const all = [...r.current, ...r.history];
  return {
    summary: `${r.target}: ${r.current.length} running, ${r.history.length} earlier`,
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
