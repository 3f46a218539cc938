import type { ActionPlan } from '../../domain/actions/contract.ts';
import type { ActiveFreeze } from '../../domain/freeze/plan.ts';
import { footer, type PresentContext } from '../footer.ts';
import { bold, code, join, type Message, md, type Text, user } from '../message.ts';
import { relativeAge } from '../time.ts';

/** `/scope frozen`: each active freeze with its age, requester and approvers. */
export function presentFrozen(freezes: readonly ActiveFreeze[], ctx: PresentContext): Message {
  if (freezes.length === 0) {
    return {
      summary: 'No active freezes',
      blocks: [
        { kind: 'section', text: md`No active freezes: nothing scope froze is still frozen.` },
        { kind: 'context', text: footer(ctx) },
      ],
    };
  }
  const items: Text[] = freezes.map((f) => {
    const approvers = join(
      f.approvedBy.map((u) => md`${user(u)}`),
      ', ',
    );
    return md`${bold(f.title)} — ${f.objects} object(s), ${f.state}, frozen ${relativeAge(f.finishedAt ?? f.createdAt, ctx.now)} by ${user(f.requestedBy)}, approved by ${approvers}. Reason: ${f.reason} (request ${code(f.requestId)})`;
  });
  return {
    summary: `${freezes.length} active freeze(s)`,
    blocks: [
      { kind: 'header', text: `${freezes.length} active freeze${freezes.length === 1 ? '' : 's'}` },
      { kind: 'list', items },
      { kind: 'context', text: footer(ctx) },
    ],
  };
}

/** A freeze plan without a request (the CLI's preview): what a freeze would change, nothing is changed. */
export function presentFreezePlan(plan: ActionPlan, ctx: PresentContext): Message {
  const items: Text[] = plan.steps.map(
    (s) =>
      md`${s.state} · ${s.target.kind} ${code(`${s.target.location}/${s.target.namespace ?? '-'}/${s.target.name}`)}: ${s.description}${s.reason ? ` — ${s.reason}` : ''}`,
  );
  return {
    summary: plan.title,
    blocks: [
      { kind: 'header', text: 'Freeze plan (preview: nothing was changed)' },
      { kind: 'section', text: md`${bold(plan.title)}` },
      ...(items.length > 0 ? [{ kind: 'list' as const, items }] : []),
      ...(plan.notes.length > 0 ? [{ kind: 'context' as const, text: md`${plan.notes.join(' ')}` }] : []),
      { kind: 'context', text: md`Run ${code('/scope freeze …')} in Slack to request it with approval.` },
      { kind: 'context', text: footer(ctx) },
    ],
  };
}
