import type { Queue } from 'bullmq';
import pLimit from 'p-limit';
import type { Notifier } from '../../adapters/slack/notifier.ts';
import { approvalPolicy, type DefaultApprovers } from '../../domain/actions/approval.ts';
import type { ActionsConfig } from '../../domain/actions/approval-config.ts';
import type {
  ActionKind,
  ActionPlan,
  PlanStep,
  StepRecord,
  StepTarget,
} from '../../domain/actions/contract.ts';
import { heldTargets } from '../../domain/actions/holdings.ts';
import {
  type ActionRequest,
  executionOutcome,
  expireIfDue,
  finishExecution,
  startExecution,
} from '../../domain/actions/request.ts';
import { isUserFacing, ScopeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { presentRequestCard } from '../../render/actions/present-request.ts';
import { md } from '../../render/message.ts';
import type { ActionStore } from '../../store/actions/action-store.ts';
import type { AuditLog } from '../../store/audit/audit-log.ts';
import type { ActionJobData, EngineJobData } from './definitions.ts';
import { enqueueAction } from './enqueue.ts';
import { HoldingsReader } from './holdings.ts';
import type { ActionRegistry } from './registry.ts';

/** What the engine's worker side needs; built by the worker process, the same in tests and the demo. */
export type EnginePorts = {
  store: ActionStore;
  registry: ActionRegistry;
  queue: Queue<ActionJobData>;
  notifier: Notifier;
  audit: AuditLog;
  actions: ActionsConfig;
  defaultApprovers: DefaultApprovers;
  log: Logger;
  now?: () => Date;
  /** Called between two steps; tests use it to stop a worker at a precise point. */
  afterStep?: (record: StepRecord) => Promise<void>;
};

const CARD_THROTTLE_MS = 1500;

/** The worker side of the approval engine: plan, execute once, keep the card current, expire, recheck. */
export class ActionEngine {
  readonly #p: EnginePorts;

  constructor(ports: EnginePorts) {
    this.#p = ports;
  }

  #now(): Date {
    return this.#p.now?.() ?? new Date();
  }

  async run(data: EngineJobData, signal: AbortSignal): Promise<string> {
    switch (data.type) {
      case 'plan':
        return this.#plan(data, signal);
      case 'execute':
        return this.#execute(data.requestId, signal);
      case 'card': {
        await this.refreshCard(data.requestId);
        // Self-healing: an approval whose execute job was never enqueued (Redis blip after the CAS) is
        // enqueued here; the deterministic job id keeps it to one.
        const r = await this.#p.store.getRequest(data.requestId);
        if (r?.state === 'approved') {
          await enqueueAction(
            this.#p.queue,
            { type: 'execute', requestId: r.id },
            { execution: r.executions + 1 },
          );
        }
        return 'card';
      }
      case 'expire':
        return this.#expire(data.requestId);
      case 'recheck':
        return this.#recheck(data.requestId, signal);
    }
  }

  async #plan(data: Extract<ActionJobData, { type: 'plan' }>, signal: AbortSignal): Promise<string> {
    const { store } = this.#p;
    const existing = await store.getRequest(data.requestId);
    if (existing) {
      // A redelivered plan job: the request (and its plan) were stored already; only make sure of the card.
      await this.refreshCard(existing.id);
      return 'exists';
    }
    const offer = await store.getOffer(data.offerId);
    if (!offer) throw new ScopeError('NOT_FOUND', `offer ${data.offerId} expired before it could be planned`);
    let plan: ActionPlan;
    let inverseOf: string | undefined;
    try {
      const inverse = this.#p.registry.forwardOf(offer.kind);
      if (inverse) {
        const src = parseInverseInput(offer.input);
        const original = await store.getRequest(src);
        if (!original) throw new ScopeError('NOT_FOUND', `request ${src} to undo no longer exists`);
        const records = [...(await store.steps(src)).values()];
        if (!inverse.inverse) throw new ScopeError('INTERNAL', `${inverse.kind} has no inverse`);
        // What other active requests hold now, for the card; each inverse step asks again when it runs.
        const held = await new HoldingsReader(store).held(inverse.kind);
        plan = inverse.inverse(original.plan, records, src, held);
        inverseOf = src;
      } else {
        const planner = this.#p.registry.planner(offer.kind);
        if (!planner) throw new ScopeError('INTERNAL', `no planner registered for ${offer.kind}`);
        plan = await planner.plan(offer.input, signal);
      }
    } catch (err) {
      if (!isUserFacing(err)) throw err;
      await this.#p.notifier.deliver(
        { channelId: offer.channelId },
        {
          summary: `Could not plan: ${err.message}`,
          blocks: [{ kind: 'section', text: md`:warning: scope could not plan this change: ${err.message}` }],
        },
        `action-${data.requestId}`,
      );
      return 'unplannable';
    }
    const now = this.#now();
    const request: ActionRequest = {
      id: data.requestId,
      kind: offer.kind,
      rev: 0,
      state: 'pending',
      requestedBy: data.requestedBy,
      reason: data.reason,
      channelId: offer.channelId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#p.actions.requestTtlMinutes * 60_000).toISOString(),
      plan,
      approvals: [],
      executions: 0,
      ...(inverseOf ? { inverseOf } : {}),
    };
    const { created } = await store.createRequest(request);
    if (created) {
      await this.#audit('request', data.requestedBy, request, `requested: ${plan.title}`, data.reason);
      await enqueueAction(
        this.#p.queue,
        { type: 'expire', requestId: request.id },
        {
          delayMs: Date.parse(request.expiresAt) - now.getTime() + 500,
        },
      );
    }
    await this.refreshCard(request.id);
    return 'planned';
  }

  /** Runs the stored plan. Steps already recorded as applied or skipped are never applied again. */
  async #execute(requestId: string, signal: AbortSignal): Promise<string> {
    const { store, registry } = this.#p;
    const claimed = await store.transition(requestId, startExecution);
    if (!claimed?.result.ok) return 'not-executable';
    const request = claimed.request;
    const executor = registry.executor(request.kind);
    if (!executor) throw new ScopeError('INTERNAL', `no executor registered for ${request.kind}`);
    const records = await store.steps(requestId);
    const done = (s: PlanStep) => {
      const r = records.get(s.key);
      return r !== undefined && r.state !== 'failed';
    };
    const todo = request.plan.steps.filter((s) => s.state === 'todo' && !done(s));
    const holdings = new HoldingsReader(store);
    const ctx = {
      requestId,
      requestedBy: request.requestedBy,
      approvedBy: request.approvals.map((a) => a.userId),
      reason: request.reason,
      now: () => this.#now(),
      signal,
      holders: (kind: ActionKind, target: StepTarget) => holdings.holders(kind, target),
    };
    let lastCard = 0;
    const limit = pLimit(this.#p.actions.parallelism);
    // Owners first (a GitOps controller would otherwise revert the workload), then the rest; an inverse plan
    // undoes in the reverse order (workloads restored before their owners resume reconciling).
    const owners = todo.filter((s) => s.ownerOf);
    const rest = todo.filter((s) => !s.ownerOf);
    const phases = registry.forwardOf(request.kind) ? [rest, owners] : [owners, rest];
    for (const phase of phases) {
      await Promise.all(
        phase.map((step) =>
          limit(async () => {
            signal.throwIfAborted();
            const record = await executor.apply(step, ctx);
            await store.recordStep(requestId, record);
            records.set(step.key, record);
            await this.#audit(
              'action',
              request.requestedBy,
              request,
              `step ${record.state}`,
              `${step.key}${record.error ? `: ${record.error}` : ''}`,
            );
            await this.#p.afterStep?.(record);
            if (Date.now() - lastCard > CARD_THROTTLE_MS) {
              lastCard = Date.now();
              await this.refreshCard(requestId).catch((err: unknown) =>
                this.#p.log.warn({ err, requestId }, 'progress card update failed'),
              );
            }
          }),
        ),
      );
    }
    const { outcome, applied, failed } = executionOutcome(request.plan, records);
    const finished = await store.transition(requestId, (r) => finishExecution(r, outcome, this.#now()));
    if (finished?.result.ok) {
      await this.#audit(
        'result',
        request.requestedBy,
        request,
        outcome,
        `${applied} applied, ${failed} failed`,
      );
      await this.#afterFinish(finished.request, records);
    }
    await this.refreshCard(requestId);
    if (executor.recheck && applied > 0) {
      await enqueueAction(
        this.#p.queue,
        { type: 'recheck', requestId },
        {
          execution: request.executions,
          delayMs: this.#p.actions.recheckSeconds * 1000,
        },
      );
    }
    return outcome;
  }

  async #afterFinish(r: ActionRequest, records: ReadonlyMap<string, StepRecord>): Promise<void> {
    const { store, registry } = this.#p;
    const executor = registry.executor(r.kind);
    // Active while it holds anything: applied, or found in place and counted on (another request must not
    // undo it). A request that holds nothing has nothing to undo.
    if (executor?.inverseKind && heldTargets(r, records).length > 0)
      await store.setActive(r.kind, r.id, true, Date.parse(r.createdAt));
    if (executor?.followUp && (r.state === 'done' || r.state === 'partial'))
      await this.#offerFollowUp(r, records);
    if (r.inverseOf && r.state === 'done') {
      const forward = registry.forwardOf(r.kind);
      await store.transition(r.inverseOf, (o) => ({ next: { ...o, rev: o.rev + 1, undoneBy: r.id } }));
      if (forward) await store.setActive(forward.kind, r.inverseOf, false);
      await this.refreshCard(r.inverseOf);
    }
  }

  /** Stores the follow-up offer (Rotate → delete the old key) once and names it on the request for the card. */
  async #offerFollowUp(r: ActionRequest, records: ReadonlyMap<string, StepRecord>): Promise<void> {
    const executor = this.#p.registry.executor(r.kind);
    const next = executor?.followUp?.(r.plan, [...records.values()]);
    if (!next || r.followUp) return;
    const offer = await this.#p.store.saveOffer({
      kind: next.kind,
      input: next.input,
      label: next.label.slice(0, 300),
      channelId: r.channelId,
      createdBy: r.requestedBy,
      createdAt: this.#now().toISOString(),
    });
    await this.#p.store.transition(r.id, (o) =>
      o.followUp
        ? {}
        : { next: { ...o, rev: o.rev + 1, followUp: { offerId: offer.id, label: next.button } } },
    );
  }

  async #expire(requestId: string): Promise<string> {
    const t = await this.#p.store.transition(requestId, (r) => expireIfDue(r, this.#now()));
    if (!t?.result.ok) return 'not-due';
    await this.#audit('refusal', 'scope', t.request, 'expired', 'request expired without enough approvals');
    await this.refreshCard(requestId);
    return 'expired';
  }

  async #recheck(requestId: string, signal: AbortSignal): Promise<string> {
    const { store, registry } = this.#p;
    const request = await store.getRequest(requestId);
    const executor = request ? registry.executor(request.kind) : undefined;
    if (!request || !executor?.recheck || request.undoneBy) return 'skipped';
    const records = await store.steps(requestId);
    const results: Record<string, 'held' | 'reverted' | 'unknown'> = {};
    const limit = pLimit(this.#p.actions.parallelism);
    await Promise.all(
      request.plan.steps.map((s) =>
        limit(async () => {
          const rec = records.get(s.key);
          if (rec?.state !== 'applied' || !executor.recheck) return;
          results[s.key] = await executor.recheck(s, rec, signal);
        }),
      ),
    );
    await store.recordRecheck(requestId, results);
    const reverted = Object.entries(results)
      .filter(([, v]) => v === 'reverted')
      .map(([k]) => k);
    if (reverted.length > 0) {
      await this.#audit('action', 'scope', request, 'reverted', reverted.join(', ').slice(0, 2000));
    }
    await this.refreshCard(requestId);
    return reverted.length > 0 ? 'reverted' : 'held';
  }

  /** Re-renders the card from the current stored state (safe to call any time, any number of times). */
  async refreshCard(requestId: string): Promise<void> {
    await this.#p.store.withCardLock(requestId, () => this.#renderCard(requestId));
  }

  async #renderCard(requestId: string): Promise<void> {
    const { store, registry } = this.#p;
    const request = await store.getRequest(requestId);
    if (!request) return;
    const [records, rechecks] = await Promise.all([store.steps(requestId), store.rechecks(requestId)]);
    const executor = registry.executor(request.kind);
    const message = presentRequestCard({
      request,
      records,
      rechecks,
      policy: this.policyFor(request.kind, request.plan.environments),
      ...(executor?.inverseKind ? { inverseKind: executor.inverseKind } : {}),
      now: this.#now(),
    });
    await this.#p.notifier.deliver({ channelId: request.channelId }, message, `action-${requestId}`);
  }

  policyFor(kind: ActionKind, environments: readonly string[]) {
    return approvalPolicy(this.#p.actions, this.#p.defaultApprovers, kind, environments);
  }

  async #audit(
    kind: 'request' | 'action' | 'result' | 'refusal',
    actor: string,
    r: ActionRequest,
    outcome: string,
    detail?: string,
  ): Promise<void> {
    await this.#p.audit.append({
      kind,
      actor,
      channel: r.channelId,
      command: `${r.kind} ${r.id}`,
      correlationId: r.id,
      outcome,
      ...(detail ? { detail: detail.slice(0, 2000) } : {}),
    });
  }
}

function parseInverseInput(input: unknown): string {
  const id = (input as { inverseOf?: unknown } | null)?.inverseOf;
  if (typeof id !== 'string' || !/^[a-f0-9]{32}$/.test(id)) {
    throw new ScopeError('BAD_INPUT', 'the inverse offer names no request');
  }
  return id;
}
