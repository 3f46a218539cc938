import type { ApprovalPolicy } from '../../domain/actions/approval.ts';
import type { ActionKind, PlanStep, StepRecord } from '../../domain/actions/contract.ts';
import { heldTargets } from '../../domain/actions/holdings.ts';
import type { ActionRequest } from '../../domain/actions/request.ts';
import { environmentRank } from '../../domain/inventory/inventory.ts';
import {
  type Block,
  type Button,
  bold,
  code,
  join,
  lit,
  type Message,
  md,
  type Span,
  type Text,
  user,
} from '../message.ts';
import { utc } from '../time.ts';

/** Bolt action ids of the engine's buttons; every value is an opaque server-side id, never a target. */
export const ACTION_IDS = {
  offer: 'scope_action_offer',
  approve: 'scope_action_approve',
  deny: 'scope_action_deny',
  cancel: 'scope_action_cancel',
  retry: 'scope_action_retry',
  inverse: 'scope_action_inverse',
} as const;

/** Callback id of the reason modal. */
export const REASON_CALLBACK = 'scope_action_reason';

/** Everything the approval card shows; read fresh from the store each time the card is rendered. */
export type CardView = {
  request: ActionRequest;
  records: ReadonlyMap<string, StepRecord>;
  rechecks: Readonly<Record<string, 'held' | 'reverted' | 'unknown'>>;
  policy: ApprovalPolicy;
  inverseKind?: ActionKind;
  now: Date;
};

const MAX_LINES = 40;
const VERB: Record<string, string> = {
  freeze: 'Freeze deploys',
  unfreeze: 'Unfreeze',
  quarantine: 'Quarantine',
  release: 'Release',
  rotate: 'Rotate credentials',
  'rotate-finish': 'Finish rotation',
};

/** The approval card: action, requester, reason, plan, approvers, expiry, then progress and outcomes. */
export function presentRequestCard(v: CardView): Message {
  const r = v.request;
  const verb = VERB[r.kind] ?? r.kind;
  const blocks: Block[] = [
    { kind: 'header', text: `${stateIcon(r.state)} ${verb} — ${stateLabel(r.state)}` },
    { kind: 'section', text: md`${bold(r.plan.title)}` },
    {
      kind: 'fields',
      fields: [
        { label: 'Requested by', value: md`${user(r.requestedBy)}` },
        { label: 'Reason', value: md`${r.reason}` },
        { label: 'Approvals', value: approvalsText(v) },
        { label: 'Expires', value: r.state === 'pending' ? md`${utc(r.expiresAt)}` : lit('—') },
      ],
    },
    { kind: 'context', text: approverText(v.policy) },
    { kind: 'divider' },
    ...planBlocks(v),
  ];
  if (r.plan.notes.length > 0) blocks.push({ kind: 'context', text: md`${r.plan.notes.join(' ')}` });
  const reverted = Object.entries(v.rechecks).filter(([, s]) => s === 'reverted');
  if (reverted.length > 0) {
    blocks.push({
      kind: 'section',
      text: md`:rotating_light: ${bold(`${reverted.length} object(s) were reverted after the change`)}: something is fighting it — ${reverted
        .slice(0, 10)
        .map(([k]) => k)
        .join(', ')}`,
    });
  }
  if (r.decision) {
    blocks.push({
      kind: 'context',
      text:
        r.decision.as === 'expired'
          ? md`Expired at ${utc(r.decision.at)} without enough approvals; nothing was changed.`
          : md`${r.decision.as === 'denied' ? 'Denied' : 'Cancelled'} by ${user(r.decision.by)} at ${utc(r.decision.at)}; nothing was changed.`,
    });
  }
  if (r.undoneBy) blocks.push({ kind: 'context', text: md`Undone by request ${code(r.undoneBy)}.` });
  const buttons = buttonsFor(v);
  if (buttons.length > 0) blocks.push({ kind: 'actions', buttons });
  blocks.push({
    kind: 'context',
    text: md`Request ${code(r.id)} · scope executes the plan stored with this request, once.`,
  });
  return { summary: `${verb}: ${stateLabel(r.state)} — ${r.plan.title}`, blocks };
}

function buttonsFor(v: CardView): Button[] {
  const r = v.request;
  if (r.state === 'pending') {
    return [
      { action: ACTION_IDS.approve, label: 'Approve', value: r.id, style: 'primary' },
      { action: ACTION_IDS.deny, label: 'Deny', value: r.id, style: 'danger' },
      { action: ACTION_IDS.cancel, label: 'Cancel', value: r.id },
    ];
  }
  const out: Button[] = [];
  const retryable = r.plan.steps.some((s) => {
    const rec = v.records.get(s.key);
    return s.state === 'todo' && rec?.state !== 'applied' && rec?.state !== 'skipped';
  });
  if ((r.state === 'partial' || r.state === 'failed') && retryable) {
    out.push({ action: ACTION_IDS.retry, label: 'Retry failed steps', value: r.id });
  }
  // Undoable while it holds anything: applied, or found in place and counted on (its inverse hands over).
  if (
    v.inverseKind &&
    !r.undoneBy &&
    heldTargets(r, v.records).length > 0 &&
    (r.state === 'done' || r.state === 'partial' || r.state === 'failed')
  ) {
    out.push({ action: ACTION_IDS.inverse, label: VERB[v.inverseKind] ?? v.inverseKind, value: r.id });
  }
  // A second, separately approved action (Rotate → delete the old key): the button holds the offer id only.
  if (r.followUp && (r.state === 'done' || r.state === 'partial')) {
    out.push({
      action: ACTION_IDS.offer,
      label: r.followUp.label,
      value: r.followUp.offerId,
      style: 'danger',
    });
  }
  return out;
}

function planBlocks(v: CardView): Block[] {
  const steps = [...v.request.plan.steps].sort(
    (a, b) =>
      environmentRank(a.target.environment) - environmentRank(b.target.environment) ||
      a.target.environment.localeCompare(b.target.environment),
  );
  if (steps.length === 0)
    return [{ kind: 'section', text: lit('The plan is empty: nothing matched, nothing to change.') }];
  const counts = countBy(steps, v);
  const items: Text[] = steps.slice(0, MAX_LINES).map((s) => stepLine(s, v));
  if (steps.length > MAX_LINES) items.push(md`… and ${steps.length - MAX_LINES} more objects`);
  return [
    { kind: 'section', text: md`${bold('Plan')} (${counts})` },
    { kind: 'list', items },
  ];
}

function stepLine(s: PlanStep, v: CardView): Text {
  const rec = v.records.get(s.key);
  const recheck = v.rechecks[s.key];
  const t = s.target;
  const where = `${t.environment} · ${t.location}${t.namespace ? `/${t.namespace}` : ''}`;
  const parts: Array<Span | Text> = [
    lit(`${stepIcon(s, rec, recheck)} `),
    md`${t.kind} ${code(t.name)} (${where})`,
    s.ownerOf ? md` — GitOps owner of ${code(s.ownerOf.split('/').slice(-1)[0] ?? '')}` : [],
    md`: ${s.description}`,
  ];
  if (s.state === 'impossible' && s.reason) parts.push(md` — cannot: ${s.reason}`);
  if (s.state === 'todo' && s.reason && !rec) parts.push(md` — ${s.reason}`);
  if (rec?.state === 'failed' && rec.error) parts.push(md` — failed: ${rec.error}`);
  if (rec?.state === 'skipped' && rec.error) parts.push(md` — ${rec.error}`);
  if (recheck === 'reverted') parts.push(md` — ${bold('reverted since')}`);
  return parts.flatMap((p) => (Array.isArray(p) ? p : [p as Span]));
}

function stepIcon(s: PlanStep, rec: StepRecord | undefined, recheck: string | undefined): string {
  if (recheck === 'reverted') return ':rotating_light:';
  if (rec?.state === 'applied') return ':white_check_mark:';
  if (rec?.state === 'failed') return ':x:';
  if (rec?.state === 'skipped' || s.state === 'already-done') return ':heavy_minus_sign:';
  if (s.state === 'impossible') return ':no_entry_sign:';
  return ':small_blue_diamond:';
}

function countBy(steps: readonly PlanStep[], v: CardView): string {
  const todo = steps.filter((s) => s.state === 'todo').length;
  const already = steps.filter((s) => s.state === 'already-done').length;
  const impossible = steps.filter((s) => s.state === 'impossible').length;
  const recs = [...v.records.values()];
  const parts = [`${todo} to change`, `${already} already in place`, `${impossible} impossible`];
  if (recs.length > 0) {
    parts.push(
      `${recs.filter((x) => x.state === 'applied').length} applied`,
      `${recs.filter((x) => x.state === 'failed').length} failed`,
    );
  }
  return parts.join(', ');
}

function approvalsText(v: CardView): Text {
  const names = v.request.approvals.map((a) => md`${user(a.userId)}`);
  const have = join(names.length > 0 ? names : [lit('none yet')], ', ');
  return [...have, ...md` (${v.request.approvals.length} of ${v.policy.required} needed)`];
}

function approverText(p: ApprovalPolicy): Text {
  const envs = p.perEnvironment.map((e) => {
    const who = [...e.users.map((u) => md`${user(u)}`), ...e.usergroups.map((g) => md`group ${code(g)}`)];
    return [...md`${e.environment}: `, ...(who.length > 0 ? join(who, ', ') : lit('nobody is configured'))];
  });
  const rule = p.twoPersonRule ? ' The requester cannot approve their own request.' : '';
  return [...lit('May approve — '), ...join(envs, '; '), ...lit(`.${rule}`)];
}

function stateIcon(state: ActionRequest['state']): string {
  switch (state) {
    case 'pending':
      return '⏳';
    case 'approved':
    case 'executing':
      return '⚙️';
    case 'done':
      return '✅';
    case 'partial':
      return '⚠️';
    default:
      return '⛔';
  }
}

function stateLabel(state: ActionRequest['state']): string {
  switch (state) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return 'approved, starting';
    case 'executing':
      return 'in progress';
    case 'done':
      return 'done';
    case 'partial':
      return 'partly done (see the objects that failed or cannot be changed)';
    case 'failed':
      return 'failed';
    default:
      return state;
  }
}

/** The modal asking for the reason (Slack view JSON: modals have no neutral equivalent). */
export function reasonModal(offerId: string, label: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK,
    private_metadata: offerId,
    title: { type: 'plain_text', text: 'scope: request a change' },
    submit: { type: 'plain_text', text: 'Request approval' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'plain_text', text: label.slice(0, 2900) } },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason (shown on the approval card and in the audit trail)' },
        element: {
          type: 'plain_text_input',
          action_id: 'reason',
          multiline: true,
          min_length: 3,
          max_length: 2000,
        },
      },
    ],
  };
}
