import type { BreachCause, QuarantineBreach } from '../../domain/provenance/quarantine-watch.ts';
import { bold, code, join, type Message, md, type Text, user } from '../message.ts';
import { utc } from '../time.ts';

/** What the alert knows about the quarantine it breaches (from the stored request). */
export type BreachContext = {
  requestId: string;
  requestedBy: string;
  approvedBy: readonly string[];
  /** Pods of the workload beyond those listed (the alert stores at most 50). */
  more: number;
  /** Stored entries that did not read back valid (left out, counted). */
  unreadable: number;
};

/**
 * The alert when pods start running a quarantined digest anyway: one message per workload, updated in place as
 * more of its pods start. It leads with *how* the digest got past the quarantine, because that decides what the
 * responder does next (freeze the workload, re-plan the quarantine with the tag, or restore the policy).
 */
export function presentBreach(list: readonly QuarantineBreach[], ctx: BreachContext): Message {
  const first = list[0];
  if (!first) throw new Error('presentBreach needs at least one breach');
  const where = `${first.cluster}/${first.namespace} ${first.workload.kind}/${first.workload.name}`;
  const pods = list.length + ctx.more;
  const items: Text[] = list.map((b) => {
    const containers = b.containers.map(
      (c) =>
        md`${code(c.name)} (${c.role}, ${code(c.image)}${c.startedAt ? `, started ${utc(c.startedAt)}` : ''})`,
    );
    return [...md`pod ${code(b.pod)}${b.node ? ` on ${b.node}` : ''}: `, ...join(containers, ', ')];
  });
  const causes = [...new Map(list.map((b) => [JSON.stringify(b.cause), b.cause])).values()];
  return {
    summary: `Quarantined digest ${first.digest.slice(0, 19)}… started running in ${where} (${pods} pod(s))`,
    blocks: [
      { kind: 'header', text: 'Quarantined digest started running anyway' },
      {
        kind: 'section',
        text: md`${bold(`${pods} pod(s)`)} of ${bold(`${first.workload.kind}/${first.workload.name}`)} in ${code(`${first.cluster}/${first.namespace}`)} (${first.environment}) started running ${code(first.digest)} after it was quarantined (request ${code(ctx.requestId)}, requested by ${user(ctx.requestedBy)}).`,
      },
      ...causes.map((c) => ({ kind: 'section' as const, text: causeText(c, first.cluster) })),
      { kind: 'list', items },
      ...(ctx.more > 0
        ? [
            {
              kind: 'context' as const,
              text: md`…and ${ctx.more} more pod(s) of this workload (not listed).`,
            },
          ]
        : []),
      ...(ctx.unreadable > 0
        ? [
            {
              kind: 'context' as const,
              text: md`${ctx.unreadable} stored pod record(s) of this alert could not be read and are not shown.`,
            },
          ]
        : []),
      {
        kind: 'context',
        text: md`Admission blocks new pods only; running pods keep running. Freeze deploys of the workload to stop further rollouts, then replace its pods. ${code('/scope digest')} shows every place the digest runs.`,
      },
    ],
  };
}

function causeText(c: BreachCause, cluster: string): Text {
  switch (c.kind) {
    case 'not-in-force':
      return md`${bold('How:')} the quarantine is not in force in ${code(cluster)}: ${c.why}.`;
    case 'admitted-before':
      return md`${bold('How:')} the pod was admitted at ${utc(c.podStart)}, before the quarantine took effect here (${utc(c.since)}); its container started (or restarted) on this digest after that. Admission does not re-check pods that already exist.`;
    case 'unknown-reference':
      return md`${bold('How:')} the pod references ${code(c.reference)}, which the quarantine's policy does not list (the tag was not known to resolve to this digest when it was planned). Quarantine again to include it.`;
    case 'rejected-reference':
      return md`${bold('How:')} the pod references ${code(c.reference)}, which the quarantine's policy rejects, yet it was admitted: the policy or its binding may have been changed or removed in ${code(cluster)}, or admission failed open. Check ${code(`/scope guardrails ${cluster}`)}.`;
  }
}
