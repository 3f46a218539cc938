import type {
  ActionContext,
  ActionExecutor,
  ActionPlan,
  HeldTarget,
  PlanStep,
  StepRecord,
} from '../../../domain/actions/contract.ts';
import {
  ANNOTATIONS,
  isFreezableKind,
  KINDS,
  type KindSpec,
  type RawObject,
  stepMarker,
} from '../../../domain/freeze/kinds.ts';
import {
  freezeChangeSchema,
  inverseFreezePlan,
  stillFrozenBy,
  unfreezeChangeSchema,
} from '../../../domain/freeze/plan.ts';
import { type KubeObjects, KubeRequestError } from '../objects.ts';

const CONFLICT_RETRIES = 3;

type Clusters = ReadonlyMap<string, KubeObjects>;

/** Freezes one object per step: merge patch with a resourceVersion precondition and an idempotency marker. */
export class FreezeExecutor implements ActionExecutor {
  readonly kind = 'freeze' as const;
  readonly inverseKind = 'unfreeze' as const;
  readonly #clusters: Clusters;

  constructor(clusters: Clusters) {
    this.#clusters = clusters;
  }

  async apply(step: PlanStep, ctx: ActionContext): Promise<StepRecord> {
    const at = () => ctx.now().toISOString();
    const parsed = freezeChangeSchema.safeParse(step.change);
    if (!parsed.success || !isFreezableKind(parsed.data.kind)) {
      return {
        key: step.key,
        state: 'failed',
        error: 'the stored step is not a valid freeze step',
        at: at(),
      };
    }
    const spec = KINDS[parsed.data.kind];
    const cluster = this.#clusters.get(step.target.location);
    if (!cluster)
      return { key: step.key, state: 'failed', error: `unknown cluster ${step.target.location}`, at: at() };
    const marker = stepMarker(ctx.requestId, step.key);
    return withConflictRetry(step, at, async () => {
      const obj = (await cluster.get(parsed.data.path, ctx.signal)) as RawObject;
      const annotations = obj.metadata?.annotations ?? {};
      // Landed before a crash but not recorded: recognise our own marker and record, never re-apply.
      if (annotations[ANNOTATIONS.step] === marker) {
        return {
          key: step.key,
          state: 'applied',
          prior: parsePrior(annotations[ANNOTATIONS.prior]) ?? null,
          at: at(),
        };
      }
      if (spec.isFrozen(obj)) {
        const by = annotations[ANNOTATIONS.request];
        return {
          key: step.key,
          state: 'skipped',
          error: `already frozen before this request${by ? ` (by request ${by})` : ''}: left alone`,
          at: at(),
        };
      }
      const prior = spec.prior(obj);
      const patch = mergeDeep(spec.freezePatch(), {
        metadata: {
          resourceVersion: obj.metadata?.resourceVersion,
          annotations: {
            [ANNOTATIONS.by]: ctx.requestedBy,
            [ANNOTATIONS.at]: at(),
            [ANNOTATIONS.request]: ctx.requestId,
            [ANNOTATIONS.step]: marker,
            [ANNOTATIONS.prior]: JSON.stringify(prior),
          },
        },
      });
      await cluster.patch(parsed.data.path, patch, ctx.signal);
      return { key: step.key, state: 'applied', prior, at: at() };
    });
  }

  inverse(
    plan: ActionPlan,
    records: StepRecord[],
    requestId = '',
    held: readonly HeldTarget[] = [],
  ): ActionPlan {
    return inverseFreezePlan(requestId, plan, records, held);
  }

  async recheck(
    step: PlanStep,
    record: StepRecord,
    signal: AbortSignal,
  ): Promise<'held' | 'reverted' | 'unknown'> {
    if (record.state !== 'applied') return 'unknown';
    const parsed = freezeChangeSchema.safeParse(step.change);
    const cluster = this.#clusters.get(step.target.location);
    if (!parsed.success || !isFreezableKind(parsed.data.kind) || !cluster) return 'unknown';
    try {
      const obj = (await cluster.get(parsed.data.path, signal)) as RawObject;
      return KINDS[parsed.data.kind].isFrozen(obj) ? 'held' : 'reverted';
    } catch (err) {
      if (err instanceof KubeRequestError && err.status === 404) return 'reverted';
      return 'unknown';
    }
  }
}

/**
 * Restores the exact prior value a freeze recorded; leaves alone objects no longer frozen by that request; hands
 * over (marker and original prior, on the object) what another active freeze still holds instead of undoing it.
 */
export class UnfreezeExecutor implements ActionExecutor {
  readonly kind = 'unfreeze' as const;
  readonly #clusters: Clusters;

  constructor(clusters: Clusters) {
    this.#clusters = clusters;
  }

  async apply(step: PlanStep, ctx: ActionContext): Promise<StepRecord> {
    const at = () => ctx.now().toISOString();
    const parsed = unfreezeChangeSchema.safeParse(step.change);
    if (!parsed.success || !isFreezableKind(parsed.data.kind)) {
      return {
        key: step.key,
        state: 'failed',
        error: 'the stored step is not a valid unfreeze step',
        at: at(),
      };
    }
    const c = parsed.data;
    const spec: KindSpec = KINDS[parsed.data.kind];
    const cluster = this.#clusters.get(step.target.location);
    if (!cluster)
      return { key: step.key, state: 'failed', error: `unknown cluster ${step.target.location}`, at: at() };
    const marker = stepMarker(ctx.requestId, step.key);
    const skipped = (error: string): StepRecord => ({ key: step.key, state: 'skipped', error, at: at() });
    return withConflictRetry(step, at, async () => {
      const obj = (await cluster.get(c.path, ctx.signal)) as RawObject;
      const annotations = obj.metadata?.annotations ?? {};
      // Landed before a crash but not recorded: either restored, or handed over to another freeze.
      if (annotations[ANNOTATIONS.unfreezeStep] === marker) {
        const holder = annotations[ANNOTATIONS.request];
        if (annotations[ANNOTATIONS.step] && holder && holder !== c.freezeRequestId) {
          return skipped(
            stillFrozenBy({
              requestId: holder,
              requestedBy: annotations[ANNOTATIONS.by] ?? 'unknown',
              stepKey: '',
            }),
          );
        }
        return { key: step.key, state: 'applied', prior: spec.prior(obj), at: at() };
      }
      if (annotations[ANNOTATIONS.step] !== stepMarker(c.freezeRequestId, c.freezeStepKey)) {
        if (!c.held) return skipped('no longer carries this freeze (changed since): left alone');
        const holders = (await ctx.holders?.('freeze', step.target)) ?? [];
        const by = holders.find((h) => h.requestId === annotations[ANNOTATIONS.request]);
        return skipped(
          by
            ? stillFrozenBy(by)
            : 'was already frozen before this freeze and nothing handed it over: left alone',
        );
      }
      // The prior value travels with the marker: recorded by this request, or handed over on the object.
      const prior = c.held ? parsePrior(annotations[ANNOTATIONS.prior]) : c.prior;
      if (prior === undefined || !spec.isPrior(prior)) {
        return {
          key: step.key,
          state: 'failed',
          error: `the prior value handed over on the object (${ANNOTATIONS.prior}) is missing or malformed: left frozen, restore it by hand`,
          at: at(),
        };
      }
      // Another active freeze still counts on it: never undo what it holds; it inherits the original prior.
      const holder = ((await ctx.holders?.('freeze', step.target)) ?? []).find(
        (h) => h.requestId !== c.freezeRequestId,
      );
      if (holder) {
        await cluster.patch(
          c.path,
          {
            metadata: {
              resourceVersion: obj.metadata?.resourceVersion,
              annotations: {
                [ANNOTATIONS.by]: holder.requestedBy,
                [ANNOTATIONS.at]: at(),
                [ANNOTATIONS.request]: holder.requestId,
                [ANNOTATIONS.step]: stepMarker(holder.requestId, holder.stepKey),
                [ANNOTATIONS.prior]: JSON.stringify(prior),
                [ANNOTATIONS.unfreezeStep]: marker,
              },
            },
          },
          ctx.signal,
        );
        return skipped(stillFrozenBy(holder));
      }
      const current = spec.prior(obj);
      const patch = mergeDeep(spec.restorePatch(prior), {
        metadata: {
          resourceVersion: obj.metadata?.resourceVersion,
          annotations: {
            [ANNOTATIONS.by]: null,
            [ANNOTATIONS.at]: null,
            [ANNOTATIONS.request]: null,
            [ANNOTATIONS.step]: null,
            [ANNOTATIONS.prior]: null,
            [ANNOTATIONS.reason]: null,
            [ANNOTATIONS.unfreezeStep]: marker,
          },
        },
      });
      await cluster.patch(c.path, patch, ctx.signal);
      return { key: step.key, state: 'applied', prior: current, at: at() };
    });
  }
}

async function withConflictRetry(
  step: PlanStep,
  at: () => string,
  attempt: () => Promise<StepRecord>,
): Promise<StepRecord> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof KubeRequestError) {
        // 409: the object changed between our read and our patch; read again (our marker may be there now).
        if (err.status === 409 && i < CONFLICT_RETRIES) continue;
        return { key: step.key, state: 'failed', error: outcomeText(err), at: at() };
      }
      throw err;
    }
  }
}

function outcomeText(err: KubeRequestError): string {
  switch (err.status) {
    case 0:
      return `cluster unreachable: ${err.message}`;
    case 403:
      return `forbidden (403): grant the scope actor role patch on this kind — ${err.message}`;
    case 404:
      return 'not found (404): the object was deleted since the plan was made';
    case 409:
      return 'conflict (409): the object kept changing; retry';
    default:
      return err.message;
  }
}

/** The prior value an object's annotation carries; undefined when absent or not JSON (never guessed). */
function parsePrior(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      typeof cur === 'object' &&
      cur !== null &&
      !Array.isArray(cur) &&
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v)
        ? mergeDeep(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
