import {
  type ClusterGuardrails,
  type ClusterStatus,
  engineLabel,
  type GuardrailsReport,
  type NamespaceStatus,
} from '../../domain/provenance/guardrails.ts';
import { footer, type PresentContext } from '../footer.ts';
import { type Block, bold, join, lit, type Message, md, type Text } from '../message.ts';

const CLUSTER_ICON: Record<ClusterStatus, string> = {
  enforced: ':large_green_circle:',
  partial: ':large_orange_circle:',
  'audit-only': ':red_circle:',
  none: ':red_circle:',
  unknown: ':grey_question:',
};

const CLUSTER_WORDS: Record<ClusterStatus, string> = {
  enforced: 'signature enforcement blocks in every namespace',
  partial: 'enforced in some namespaces only',
  'audit-only': 'policies exist but only warn or audit: nothing is blocked',
  none: 'no signature enforcement',
  unknown: 'unknown — some policies could not be read',
};

const NS_WORDS: Record<NamespaceStatus, string> = {
  enforced: 'blocked by',
  'audit-only': 'only audited by',
  none: 'nothing enforces',
  unknown: 'unknown',
};

/** Namespaces per status shown inline; the full per-namespace table goes into the CSV. */
const INLINE_NAMESPACES = 12;

function namespaceLines(c: ClusterGuardrails): Text[] {
  const groups: NamespaceStatus[] = ['none', 'audit-only', 'unknown', 'enforced'];
  const lines: Text[] = [];
  for (const status of groups) {
    const ns = c.namespaces.filter((n) => n.status === status);
    if (ns.length === 0) continue;
    const names = ns.slice(0, INLINE_NAMESPACES).map((n) => n.namespace);
    const more = ns.length > names.length ? ` and ${ns.length - names.length} more` : '';
    const by = [...new Set(ns.flatMap((n) => n.mechanisms.map((m) => `${engineLabel(m.engine)} ${m.name}`)))];
    const via = by.length && status !== 'none' && status !== 'unknown' ? md` — ${by.join('; ')}` : lit('');
    lines.push(
      md`${status === 'enforced' ? '✓' : '✗'} ${ns.length} namespace(s) ${NS_WORDS[status]}: ${names.join(', ')}${more}${via}`,
    );
  }
  return lines;
}

function clusterBlocks(c: ClusterGuardrails): Block[] {
  const blocks: Block[] = [
    {
      kind: 'section',
      // The icon is scope's own markup (a literal span); values are escaped by the renderer.
      text: [
        ...lit(`${CLUSTER_ICON[c.status]} `),
        ...md`${bold(c.cluster)} (${c.environment}): ${CLUSTER_WORDS[c.status]}`,
      ],
    },
  ];
  const items: Text[] = [
    ...namespaceLines(c),
    ...c.findings.map((f) => {
      const where = f.namespaces?.length
        ? md` (${f.namespaces.slice(0, INLINE_NAMESPACES).join(', ')}${f.namespaces.length > INLINE_NAMESPACES ? ', …' : ''})`
        : lit('');
      const name = f.name ? md`${bold(f.name)}: ` : lit('');
      const icon = lit(f.severity === 'high' ? ':warning: ' : ':information_source: ');
      return [...icon, ...md`${engineLabel(f.engine)} — ${name}${f.message}${where}`];
    }),
  ];
  if (items.length) blocks.push({ kind: 'list', items });
  if (c.notInstalled.length) {
    blocks.push({
      kind: 'context',
      text: md`Not installed here: ${c.notInstalled.map(engineLabel).join(', ')}`,
    });
  }
  return blocks;
}

function csv(report: GuardrailsReport): string {
  const esc = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const rows = ['cluster,environment,namespace,status,mechanisms'];
  for (const c of report.clusters) {
    for (const n of c.namespaces) {
      rows.push(
        [c.cluster, c.environment, n.namespace, n.status, n.mechanisms.map((m) => m.detail).join('; ')]
          .map(esc)
          .join(','),
      );
    }
  }
  return `${rows.join('\n')}\n`;
}

/** `/scope guardrails`: headline says how sure we are, then one section per cluster, worst first. */
export function presentGuardrails(report: GuardrailsReport, ctx: PresentContext): Message {
  const rank: Record<ClusterStatus, number> = {
    none: 0,
    'audit-only': 1,
    partial: 2,
    unknown: 3,
    enforced: 4,
  };
  const clusters = [...report.clusters].sort(
    (a, b) => rank[a.status] - rank[b.status] || a.cluster.localeCompare(b.cluster),
  );
  const enforced = clusters.filter((c) => c.status === 'enforced').length;
  const asked = clusters.length + report.failed.length;
  const headline =
    asked === 0
      ? md`:grey_question: *Unknown:* no clusters are configured (or none by that name), so there is nothing to judge.`
      : report.completeness === 'unknown'
        ? md`:grey_question: *Unknown:* no cluster answered, so scope cannot say whether signatures are enforced.`
        : enforced === clusters.length && report.completeness === 'complete'
          ? md`:large_green_circle: Signature enforcement blocks in every namespace of all ${asked} cluster(s).`
          : md`:warning: Signature enforcement is missing or incomplete: ${enforced} of ${asked} cluster(s) enforce everywhere.`;
  const blocks: Block[] = [
    { kind: 'header', text: 'Admission guardrails' },
    { kind: 'section', text: headline },
  ];
  if (report.failed.length) {
    blocks.push({
      kind: 'section',
      text: join(
        report.failed.map(
          (f) => md`:grey_question: ${bold(f.cluster)} (${f.environment}): unknown — ${f.error}`,
        ),
        '\n',
      ),
    });
  }
  for (const c of clusters) blocks.push({ kind: 'divider' }, ...clusterBlocks(c));
  blocks.push({ kind: 'context', text: footer(ctx) });
  return {
    summary: `Admission guardrails: ${enforced} of ${asked} cluster(s) enforce signatures everywhere (${report.completeness})`,
    blocks,
    attachments: report.clusters.some((c) => c.namespaces.length > INLINE_NAMESPACES)
      ? [{ filename: 'guardrails.csv', title: 'Signature enforcement per namespace', content: csv(report) }]
      : [],
  };
}
