import type {
  ClusterCaveat,
  DigestReport,
  ImageReport,
  WhereReport,
  WorkloadUse,
} from '../domain/fleet-report.ts';
import { type Digest, shortDigest } from '../domain/image-ref.ts';
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
} from './message.ts';
import type { PresentContext } from './present.ts';
import { footer } from './present.ts';
import { relativeAge, utc, when } from './time.ts';

/** Workload lines shown inline before the rest goes to the attached CSV. */
export const INLINE_LIMIT = 15;

const short = (d: string) => (d.startsWith('sha256:') && d.length === 71 ? shortDigest(d as Digest) : d);

function useLine(u: WorkloadUse, now: Date, showDigest = false): Text {
  const wl = md`${bold(`${u.namespace}/${u.workload.name}`)} (${u.workload.kind.toLowerCase()})`;
  const state = u.running
    ? md`${u.pods} pod${u.pods === 1 ? '' : 's'}${u.nodes ? ` on ${u.nodes} node${u.nodes === 1 ? '' : 's'}` : ''}, since ${when(u.firstSeen, now)}`
    : md`_not running now_ — ran ${utc(u.firstSeen)} → ${when(u.lastSeen, now)}`;
  const image = u.images.length ? md` · image ${code(u.images.join(', '))}` : lit('');
  const digest = showDigest ? md` · ${code(short(u.digest))}` : lit('');
  return md`${wl} in ${code(u.cluster)}: ${state}${image}${digest}`;
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
  const esc = (v: string | number | boolean | undefined) => {
    const s = v === undefined ? '' : String(v);
    const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
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
  let shown = 0;
  for (const env of r.environments) {
    const earliest = env.earliest ? md` — earliest deployment ${when(env.earliest, now)}` : lit('');
    blocks.push({ kind: 'section', text: md`*${env.environment.toUpperCase()}*${earliest}` });
    const items = env.uses.slice(0, Math.max(0, INLINE_LIMIT - shown)).map((u) => useLine(u, now));
    shown += items.length;
    if (items.length) blocks.push({ kind: 'list', items });
    if (items.length < env.uses.length) {
      blocks.push({
        kind: 'context',
        text: md`…and ${env.uses.length - items.length} more in this environment (full list attached as CSV).`,
      });
    }
  }
  blocks.push(...caveatBlock(r.caveats, now));
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
  const total = r.tags.reduce((n, t) => n + t.digests.length, 0);
  blocks.push({
    kind: 'section',
    text:
      total === 0
        ? md`:white_check_mark: ${code(name)} is not running in any synced cluster.`
        : md`:package: ${code(name)} runs as ${bold(String(total))} digest${total === 1 ? '' : 's'} across ${r.tags.length} tag${r.tags.length === 1 ? '' : 's'}.`,
  });
  const allUses: WorkloadUse[] = [];
  let shown = 0;
  for (const t of r.tags) {
    for (const d of t.digests) {
      allUses.push(...d.uses);
      blocks.push({
        kind: 'section',
        text: md`*${t.tag}* → ${code(d.digest)}${d.firstSeen ? md` — first seen ${when(d.firstSeen, now)}` : lit('')}`,
      });
      const items = d.uses.slice(0, Math.max(0, INLINE_LIMIT - shown)).map((u) => useLine(u, now));
      shown += items.length;
      if (items.length) blocks.push({ kind: 'list', items });
      if (items.length < d.uses.length)
        blocks.push({ kind: 'context', text: md`…and ${d.uses.length - items.length} more (CSV attached).` });
    }
  }
  if (r.unpinned) {
    blocks.push({
      kind: 'context',
      text: md`${r.unpinned} container${r.unpinned === 1 ? '' : 's'} of this image reported no repo digest (not started yet, or a runtime that only reports image ids).`,
    });
  }
  blocks.push(...caveatBlock(r.caveats, now));
  blocks.push({ kind: 'context', text: join([footer(ctx), dataAge(r.dataAsOf, now)], ' · ') });
  const summary = r.drift.length
    ? `Tag drift in ${name}: ${r.drift.map((d) => `${d.tag} → ${d.digests.length} digests`).join(', ')}`
    : `${name} runs as ${total} digest(s)`;
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
      text: md`:round_pushpin: ${code(r.target)} runs ${bold(String(r.current.length))} workload image${r.current.length === 1 ? '' : 's'} now; ${r.history.length} earlier one${r.history.length === 1 ? '' : 's'} in the look-back window.`,
    },
  ];
  if (r.current.length) {
    blocks.push({ kind: 'section', text: lit('*Running now*') });
    blocks.push({ kind: 'list', items: r.current.slice(0, INLINE_LIMIT).map((u) => useLine(u, now, true)) });
  }
  if (r.history.length) {
    blocks.push({ kind: 'section', text: lit('*Ran before* (most recent first)') });
    blocks.push({ kind: 'list', items: r.history.slice(0, INLINE_LIMIT).map((u) => useLine(u, now, true)) });
  }
  if (r.unknownDigest.length) {
    blocks.push({
      kind: 'context',
      text: md`${r.unknownDigest.length} container(s) have no known repo digest yet: ${r.unknownDigest
        .slice(0, 5)
        .map((u) => `${u.namespace}/${u.workload.name} (${u.image})`)
        .join(', ')}`,
    });
  }
  blocks.push(...caveatBlock(r.caveats, now));
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
