/**
 * The contract between the approval mechanism (request → approve → execute exactly once → inverse) and the
 * capabilities that change something (Freeze, Quarantine, Rotate). An action is data before it is code: the
 * plan is computed against live state at request time, stored server-side under a request id, and the stored
 * plan is what runs. Buttons carry only ids. Capabilities implement `ActionPlanner` + `ActionExecutor`; the
 * engine (store, approval rules, Slack card, worker job) is generic and knows no capability.
 */

/** Every kind of change scope can make; each kind has one planner and one executor registered in the worker. */
export type ActionKind = 'freeze' | 'unfreeze' | 'quarantine' | 'release' | 'rotate' | 'rotate-finish';

/** What a step touches, precise enough to show on the approval card and to address the object again. */
export type StepTarget = {
  system: 'kubernetes' | 'aws';
  /** Kubernetes: cluster name from configuration. AWS: account id. */
  location: string;
  /** Used for the approver rules and the card grouping (prod first). */
  environment: string;
  /** Kubernetes kind (`Deployment`, `Kustomization`…) or AWS resource type (`AccessKey`, `Role`…). */
  kind: string;
  namespace?: string;
  name: string;
};

/**
 * One change to one object. `change` is capability-specific JSON (validated by the executor before it runs);
 * `state` says whether the step will be applied, is already in the wanted state, or cannot be done (and why).
 */
export type PlanStep = {
  /** Unique within the plan and stable across retries: the step log is keyed by it. */
  key: string;
  target: StepTarget;
  /** Exactly what changes, for humans: "spec.paused: false → true". */
  description: string;
  change: unknown;
  state: 'todo' | 'already-done' | 'impossible';
  reason?: string;
  /** Set when this target was added because it owns another target (GitOps owner). */
  ownerOf?: string;
};

/** A computed plan; stored with the request and executed as stored. */
export type ActionPlan = {
  kind: ActionKind;
  /** One line for the card title, e.g. "Freeze deploys of 3 workloads in prod-eu, stage-1". */
  title: string;
  steps: PlanStep[];
  /** Environments the plan touches; the strictest approver rule among them applies. */
  environments: string[];
  /** Warnings that are not steps: clusters that did not answer, objects skipped. */
  notes: string[];
};

/** The recorded outcome of one step; the inverse is derived from `prior`, never recomputed. */
export type StepRecord = {
  key: string;
  state: 'applied' | 'skipped' | 'failed';
  /** The exact prior value of every field the step changed (JSON), recorded before or with the change. */
  prior?: unknown;
  error?: string;
  at: string;
};

/** Who asked and in which request: executors annotate changed objects with it. */
export type ActionContext = {
  requestId: string;
  requestedBy: string;
  approvedBy: string[];
  reason: string;
  now: () => Date;
  signal: AbortSignal;
  /**
   * The other active, not undone requests of `kind` that hold `target` in their wanted state, oldest first
   * (read fresh on each call, provided by the engine). An inverse step asks before it undoes anything.
   */
  holders?: (kind: ActionKind, target: StepTarget) => Promise<Holding[]>;
};

/** An active request that holds a target (applied it, or found it already in place and counts on it). */
export type Holding = { requestId: string; requestedBy: string; stepKey: string };

/** A holding with what and of which kind: what the engine hands to `inverse` when it plans. */
export type HeldTarget = Holding & { kind: ActionKind; target: StepTarget };

/** Computes a plan against live state; `input` is capability-specific JSON stored server-side with the offer. */
export interface ActionPlanner {
  readonly kind: ActionKind;
  plan(input: unknown, signal: AbortSignal): Promise<ActionPlan>;
}

/** Applies the steps of one kind. Called only after approval, at most once per successful step. */
export interface ActionExecutor {
  readonly kind: ActionKind;
  /**
   * Applies one step and returns what it recorded. Must be idempotent with respect to its own marker (for
   * example an annotation carrying the request id and step key) so a step that succeeded remotely but was not
   * recorded before a crash is recognised on resume and not applied twice.
   */
  apply(step: PlanStep, ctx: ActionContext): Promise<StepRecord>;
  /** The kind that undoes this one (`freeze` → `unfreeze`), if any. */
  readonly inverseKind?: ActionKind;
  /**
   * The inverse plan, derived only from the executed plan and its records (prior values). `requestId` is the
   * executed request's id, so inverse steps can check the object still carries that request's marker.
   * `held` lists what other active requests hold right now (the step is checked again when it runs).
   */
  inverse?(
    plan: ActionPlan,
    records: StepRecord[],
    requestId?: string,
    held?: readonly HeldTarget[],
  ): ActionPlan;
  /**
   * A second, separately approved action offered once this one finished (Rotate → delete the old key): the
   * engine stores it as an offer and the card shows its button. Undefined when there is nothing to offer.
   */
  followUp?(
    plan: ActionPlan,
    records: StepRecord[],
  ): { kind: ActionKind; input: unknown; label: string; button: string } | undefined;
  /** Re-reads a step's object after a while: is the change still in place (something may fight it)? */
  recheck?(step: PlanStep, record: StepRecord, signal: AbortSignal): Promise<'held' | 'reverted' | 'unknown'>;
}

/** The kind that undoes each reversible kind; lets the bot offer the inverse without loading executors. */
export const INVERSE_KINDS: Partial<Record<ActionKind, ActionKind>> = {
  freeze: 'unfreeze',
  quarantine: 'release',
};
