import type { ActionKind, HeldTarget, Holding, StepRecord, StepTarget } from './contract.ts';
import type { ActionRequest } from './request.ts';

/** The same object: system, cluster/account, kind, namespace and name (the environment is a label only). */
export function sameTarget(a: StepTarget, b: StepTarget): boolean {
  return (
    a.system === b.system &&
    a.location === b.location &&
    a.kind === b.kind &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    a.name === b.name
  );
}

/**
 * What a finished request holds: every step in its wanted state because of it or with its consent — applied,
 * found already in place when it ran (skipped), or already in place when it was planned. A failed or
 * impossible step holds nothing; an undone request holds nothing.
 */
export function heldTargets(
  r: ActionRequest,
  records: ReadonlyMap<string, StepRecord>,
  kind: ActionKind = r.kind,
): HeldTarget[] {
  if (r.undoneBy) return [];
  return r.plan.steps.flatMap((s) => {
    const rec = records.get(s.key);
    const held =
      s.state === 'already-done' ||
      (s.state === 'todo' && (rec?.state === 'applied' || rec?.state === 'skipped'));
    return held
      ? [{ requestId: r.id, requestedBy: r.requestedBy, stepKey: s.key, kind, target: s.target }]
      : [];
  });
}

/** The holders of one target among `held`, in the given order, each request once. */
export function holdersOf(held: readonly HeldTarget[], target: StepTarget): Holding[] {
  const seen = new Set<string>();
  const out: Holding[] = [];
  for (const h of held) {
    if (seen.has(h.requestId) || !sameTarget(h.target, target)) continue;
    seen.add(h.requestId);
    out.push({ requestId: h.requestId, requestedBy: h.requestedBy, stepKey: h.stepKey });
  }
  return out;
}
