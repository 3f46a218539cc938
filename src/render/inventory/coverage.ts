import type { ClusterCaveat, Coverage, WorkloadUse } from '../../domain/inventory/fleet-report.ts';
import type { ContainerRole } from '../../domain/inventory/inventory.ts';
import { type Block, bold, code, join, lit, md, type Text } from '../message.ts';
import { utc, when } from '../time.ts';

const HEADLINE_CLUSTERS = 3;

/** Why a cluster is missing from an answer, short: "never synced", "unreachable since 03:12 UTC (…)". */
export function reason(c: ClusterCaveat, now: Date): Text {
  switch (c.state) {
    case 'never':
      return c.lastError ? md`never synced: ${c.lastError}` : lit('never synced');
    case 'stale':
      return md`no fresh data since ${when(c.lastSuccessAt, now)}`;
    default:
      return c.lastSuccessAt
        ? md`unreachable since ${utc(c.lastSuccessAt)}: ${c.lastError ?? 'error'}`
        : md`never answered: ${c.lastError ?? 'error'}`;
  }
}

/** "prod-ap (unreachable since …) and dev-1 (never synced)", at most a few, then "and N more". */
export function missingClusters(caveats: readonly ClusterCaveat[], now: Date): Text {
  const shown = caveats.slice(0, HEADLINE_CLUSTERS).map((c) => md`${bold(c.cluster)} (${reason(c, now)})`);
  const rest = caveats.length - shown.length;
  if (rest > 0) return md`${join(shown, ', ')} and ${rest} more`;
  if (shown.length <= 1) return join(shown, '');
  return md`${join(shown.slice(0, -1), ', ')} and ${shown[shown.length - 1] ?? []}`;
}

/** "the 3 clusters that answered" / "the only cluster" / "any of the 3 clusters". */
export function answeredClusters(r: Coverage): string {
  if (r.completeness === 'complete') {
    return r.clustersTotal === 1 ? 'the one cluster' : `any of the ${r.clustersTotal} clusters`;
  }
  return r.clustersAnswered === 1
    ? 'the 1 cluster that answered'
    : `the ${r.clustersAnswered} clusters that answered`;
}

/** Headline when nothing was found: a check mark only when every cluster answered. */
export function notFoundHeadline(
  subject: Text,
  r: Coverage & { caveats: readonly ClusterCaveat[] },
  now: Date,
  tail: string,
): Text {
  if (r.completeness === 'unknown') {
    return md`:grey_question: *Unknown:* no cluster has answered, so scope cannot tell whether ${subject} runs anywhere. ${missingClusters(r.caveats, now)}.`;
  }
  if (r.completeness === 'partial') {
    return md`:warning: ${subject} is not running in ${answeredClusters(r)}${tail}; *${missingClusters(r.caveats, now)} unknown*.`;
  }
  return md`:white_check_mark: ${subject} is not running in ${answeredClusters(r)}${tail}.`;
}

/** A sentence added to a positive answer that some clusters did not answer. */
export function partialNote(r: Coverage & { caveats: readonly ClusterCaveat[] }, now: Date): Text {
  if (r.completeness === 'complete') return lit('');
  return md` *Partial answer:* ${missingClusters(r.caveats, now)} did not answer, so what runs there now is not known.`;
}

/** "completeness: partial (4 of 5 clusters answered)", the field as every answer's footer shows it. */
export function completenessLabel(r: Coverage): Text {
  return md`completeness: ${bold(r.completeness)} (${r.clustersAnswered} of ${r.clustersTotal} cluster${r.clustersTotal === 1 ? '' : 's'} answered)`;
}

/** Summary prefix for notifications and the Slack fallback text. */
export function summaryPrefix(r: Coverage): string {
  return r.completeness === 'unknown'
    ? 'Unknown (no cluster answered): '
    : r.completeness === 'partial'
      ? 'Partial: '
      : '';
}

export function caveatBlock(caveats: readonly ClusterCaveat[], now: Date): Block[] {
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
          c.state === 'never' || !c.lastSuccessAt
            ? reason(c, now)
            : c.state === 'stale'
              ? md`stale, last good sync ${when(c.lastSuccessAt, now)}`
              : md`unreachable (${c.lastError ?? 'error'}), last good sync ${when(c.lastSuccessAt, now)}`;
        return md`${bold(c.cluster)} (${c.environment}) — ${why}`;
      }),
    },
  ];
}

const ROLE_LABEL: Readonly<Record<ContainerRole, string>> = {
  app: 'app container',
  init: 'init container',
  sidecar: 'sidecar (native, init with restartPolicy Always)',
  ephemeral: 'ephemeral debug container',
};

/** True when the workload runs the image only in ephemeral (debug) containers, not as its own image. */
export function debugOnly(u: WorkloadUse): boolean {
  const roles = Object.values(u.roles);
  return roles.length > 0 && roles.every((r) => r === 'ephemeral');
}

/** How the workload runs the image: " · app container `api`", or the debug container, its pod, target and start. */
export function roleText(u: WorkloadUse, now: Date): Text {
  const byRole = new Map<ContainerRole, string[]>();
  for (const [name, role] of Object.entries(u.roles)) byRole.set(role, [...(byRole.get(role) ?? []), name]);
  const parts: Text[] = [];
  for (const [role, names] of byRole) {
    if (role === 'ephemeral') continue;
    parts.push(md`${ROLE_LABEL[role]}${names.length > 1 ? 's' : ''} ${code(names.join(', '))}`);
  }
  for (const d of u.debug ?? []) {
    const target = d.target ? md`, attached to ${code(d.target)}` : lit('');
    const started = d.startedAt ? md`, started ${when(d.startedAt, now)}` : lit('');
    parts.push(
      md`${bold(ROLE_LABEL.ephemeral)} ${code(d.container)} in pod ${code(d.pod)}${target}${started} (who started it: the API server audit log; the pod does not record it)`,
    );
  }
  return parts.length ? md` · ${join(parts, '; ')}` : lit('');
}
