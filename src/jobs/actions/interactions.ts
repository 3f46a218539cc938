import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Config } from '../../config.ts';
import { approvalPolicy, usergroupsOf } from '../../domain/actions/approval.ts';
import { type ActionKind, INVERSE_KINDS } from '../../domain/actions/contract.ts';
import {
  type ActionRequest,
  approve,
  cancel,
  type Decision,
  deny,
  type Refusal,
  refusalText,
  retry,
} from '../../domain/actions/request.ts';
import type { Logger } from '../../log.ts';
import { ACTION_IDS, reasonModal } from '../../render/actions/present-request.ts';
import { type Message, md } from '../../render/message.ts';
import type { ActionStore } from '../../store/actions/action-store.ts';
import type { AuditLog } from '../../store/audit/audit-log.ts';
import type { ActionJobData } from './definitions.ts';
import { enqueueAction } from './enqueue.ts';
import { blockActionSchema, viewSubmissionSchema } from './payloads.ts';

/** The Slack calls the interaction side makes (modal, ephemeral answer); a port so Socket Mode and HTTP share it. */
export type InteractionSlack = {
  openModal(triggerId: string, view: Record<string, unknown>): Promise<void>;
  ephemeral(channelId: string, userId: string, message: Message): Promise<void>;
};

export type InteractionDeps = {
  config: Pick<Config, 'access' | 'actions'>;
  store: ActionStore;
  queue: Queue<ActionJobData>;
  audit: AuditLog;
  log: Logger;
  slack: InteractionSlack;
  groupsOf(userId: string, groups: readonly string[]): Promise<string[]>;
  now?: () => Date;
};

const ID = /^[a-f0-9]{32}$/;

/** The bot side of the approval engine: every click is validated, authorised, recorded, and answered. */
export class ActionInteractions {
  readonly #d: InteractionDeps;

  constructor(deps: InteractionDeps) {
    this.#d = deps;
  }

  #now(): Date {
    return this.#d.now?.() ?? new Date();
  }

  /** `/scope freeze …` (or any command offering an action): store the offer, ask for the reason. */
  async offerFromCommand(
    input: { userId: string; channelId: string; triggerId?: string },
    kind: ActionKind,
    actionInput: unknown,
    label: string,
  ): Promise<void> {
    const offer = await this.#d.store.saveOffer({
      kind,
      input: actionInput,
      label,
      channelId: input.channelId,
      createdBy: input.userId,
      createdAt: this.#now().toISOString(),
    });
    if (!input.triggerId) {
      await this.#d.slack.ephemeral(
        input.channelId,
        input.userId,
        say('Slack sent no trigger id, so scope cannot ask for the reason. Try again.'),
      );
      return;
    }
    await this.#d.slack.openModal(input.triggerId, reasonModal(offer.id, label));
  }

  /** A payload that failed validation: refused and audited under whoever it claims to come from. */
  async #refuseMalformed(body: unknown, why: string): Promise<void> {
    const actor = (body as { user?: { id?: unknown } } | null)?.user?.id;
    await this.#refuse(typeof actor === 'string' ? actor : 'unknown', undefined, 'malformed', why);
  }

  /** Any click on a scope_action_* button. Called after the ack; never throws. */
  async onBlockAction(body: unknown): Promise<void> {
    const parsed = blockActionSchema.safeParse(body);
    if (!parsed.success) {
      await this.#refuseMalformed(body, 'payload failed validation');
      return;
    }
    const p = parsed.data;
    const action = p.actions[0] as { action_id: string; value?: string; action_ts: string };
    const channel = p.channel?.id ?? p.container?.channel_id;
    const user = p.user.id;
    const value = action.value ?? '';
    try {
      if (!ID.test(value)) {
        await this.#refuse(user, channel, 'tampered', `button value is not an id (${action.action_id})`);
        return;
      }
      if (action.action_id === ACTION_IDS.offer) {
        await this.#openOffer(user, channel, value, p.trigger_id);
        return;
      }
      const request = await this.#d.store.getRequest(value);
      if (!request) {
        await this.#refuse(user, channel, 'not-found', `${action.action_id} on unknown request ${value}`);
        return;
      }
      // Slack redelivers an interaction it thinks was not acknowledged: same action_ts, handled once.
      if (!(await this.#d.store.firstSeen(request.id, `${action.action_id}|${user}|${action.action_ts}`))) {
        await this.#refuse(user, request.channelId, 'replay', `${action.action_id} redelivered`, request);
        return;
      }
      if (action.action_id === ACTION_IDS.inverse) {
        await this.#offerInverse(user, request, p.trigger_id);
        return;
      }
      await this.#decide(action.action_id, user, request);
    } catch (err) {
      this.#d.log.error({ err, action: action.action_id }, 'action click failed');
      if (channel)
        await this.#d.slack
          .ephemeral(
            channel,
            user,
            say('scope hit an internal error handling your click; nothing was changed.'),
          )
          .catch(() => undefined);
    }
  }

  async #openOffer(
    user: string,
    channel: string | undefined,
    offerId: string,
    triggerId: string,
  ): Promise<void> {
    const offer = await this.#d.store.getOffer(offerId);
    if (!offer) {
      await this.#refuse(user, channel, 'not-found', `offer ${offerId} unknown or expired`);
      return;
    }
    if (!this.#channelAllowed(offer.channelId)) {
      await this.#refuse(user, offer.channelId, 'channel', 'channel not on the allow-list');
      return;
    }
    await this.#d.slack.openModal(triggerId, reasonModal(offer.id, offer.label));
  }

  async #offerInverse(user: string, request: ActionRequest, triggerId: string): Promise<void> {
    const kind = INVERSE_KINDS[request.kind];
    if (!kind || request.undoneBy || !['done', 'partial', 'failed'].includes(request.state)) {
      await this.#refuse(user, request.channelId, 'not-pending', 'nothing to undo', request);
      return;
    }
    const offer = await this.#d.store.saveOffer({
      kind,
      input: { inverseOf: request.id },
      label: `${kind} what request ${request.id.slice(0, 8)} changed (${request.plan.title}); the prior values recorded at the time are restored.`,
      channelId: request.channelId,
      createdBy: user,
      createdAt: this.#now().toISOString(),
    });
    await this.#d.slack.openModal(triggerId, reasonModal(offer.id, offer.label));
  }

  async #decide(actionId: string, user: string, request: ActionRequest): Promise<void> {
    const policy = approvalPolicy(
      this.#d.config.actions,
      this.#d.config.access.approvers,
      request.kind,
      request.plan.environments,
    );
    const groups = await this.#d.groupsOf(user, usergroupsOf(policy));
    const actor = { userId: user, usergroups: groups };
    const now = this.#now();
    let decide: (r: ActionRequest) => Decision;
    switch (actionId) {
      case ACTION_IDS.approve:
        decide = (r) => approve(r, actor, policy, now);
        break;
      case ACTION_IDS.deny:
        decide = (r) => deny(r, actor, policy, now);
        break;
      case ACTION_IDS.cancel:
        decide = (r) => cancel(r, actor, now);
        break;
      case ACTION_IDS.retry:
        decide = (r) => retry(r, actor, policy);
        break;
      default:
        await this.#refuse(
          user,
          request.channelId,
          'tampered',
          `unknown action ${actionId.slice(0, 60)}`,
          request,
        );
        return;
    }
    const t = await this.#d.store.transition(request.id, decide);
    if (!t) {
      await this.#refuse(user, request.channelId, 'not-found', 'request vanished', request);
      return;
    }
    const { result, request: after } = t;
    if (!result.ok) {
      await this.#refuse(user, request.channelId, result.refusal, actionId, after);
      if (result.next)
        await enqueueAction(this.#d.queue, { type: 'card', requestId: after.id }, { rev: after.rev });
      return;
    }
    const what = actionId.replace('scope_action_', '');
    await this.#d.audit.append({
      kind: 'approval',
      actor: user,
      channel: after.channelId,
      command: `${after.kind} ${after.id}`,
      correlationId: after.id,
      outcome:
        what === 'approve'
          ? result.approvedNow
            ? 'approved (final)'
            : 'approved'
          : what === 'deny'
            ? 'denied'
            : what === 'cancel'
              ? 'cancelled'
              : 'retry',
    });
    if (after.state === 'approved') {
      await enqueueAction(
        this.#d.queue,
        { type: 'execute', requestId: after.id },
        { execution: after.executions + 1 },
      );
    }
    await enqueueAction(this.#d.queue, { type: 'card', requestId: after.id }, { rev: after.rev });
  }

  /** The reason modal was submitted: enqueue the plan job (the worker computes the plan against live state). */
  async onViewSubmission(body: unknown): Promise<void> {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      await this.#refuseMalformed(body, 'view submission failed validation');
      return;
    }
    const p = parsed.data;
    const offer = await this.#d.store.getOffer(p.view.private_metadata);
    if (!offer) {
      await this.#refuse(
        p.user.id,
        undefined,
        'not-found',
        `offer ${p.view.private_metadata} unknown or expired`,
      );
      return;
    }
    if (!this.#channelAllowed(offer.channelId)) {
      await this.#refuse(p.user.id, offer.channelId, 'channel', 'channel not on the allow-list');
      return;
    }
    // Same modal (view id) and offer → same request id: a redelivered submission creates nothing new.
    const requestId = createHash('sha256').update(`${p.view.id}\n${offer.id}`).digest('hex').slice(0, 32);
    await enqueueAction(this.#d.queue, {
      type: 'plan',
      requestId,
      offerId: offer.id,
      requestedBy: p.user.id,
      reason: p.view.state.values.reason.reason.value,
    });
    await this.#d.slack.ephemeral(
      offer.channelId,
      p.user.id,
      say('Computing the plan against the live clusters; the approval card will be posted in this channel.'),
    );
  }

  #channelAllowed(channel: string): boolean {
    const allowed = this.#d.config.access.allowedChannels;
    return allowed.includes('*') || allowed.includes(channel);
  }

  async #refuse(
    user: string,
    channel: string | undefined,
    why: Refusal | 'malformed' | 'tampered' | 'replay' | 'channel',
    detail: string,
    request?: ActionRequest,
  ): Promise<void> {
    this.#d.log.info({ user, why, detail }, 'action click refused');
    await this.#d.audit
      .append({
        kind: 'refusal',
        actor: user,
        ...(channel ? { channel } : {}),
        command: request ? `${request.kind} ${request.id}` : 'action',
        correlationId: request?.id ?? 'none',
        outcome: why,
        detail: detail.slice(0, 500),
      })
      .catch((err: unknown) => this.#d.log.error({ err }, 'audit append failed'));
    if (!channel || user === 'unknown') return;
    const text =
      why === 'malformed' || why === 'tampered'
        ? 'scope could not read this button; nothing was changed and the attempt was recorded.'
        : why === 'replay'
          ? 'This click was already handled; nothing more was changed.'
          : why === 'channel'
            ? 'scope is not enabled in this channel; nothing was changed.'
            : refusalText(why, request);
    await this.#d.slack
      .ephemeral(channel, user, say(text))
      .catch((err: unknown) => this.#d.log.warn({ err }, 'ephemeral failed'));
  }
}

function say(text: string): Message {
  return { summary: text, blocks: [{ kind: 'section', text: md`${text}` }] };
}
