import type { Analysis } from '../audit/analyse.ts';
import { changeSchema, type RotateFinishInput, type RotateInput } from './steps.ts';

/**
 * What Rotate is offered for after an audit: the audited principal (users and roles only) and the access keys it
 * created for other users. The approval engine stores this with the offer; the planner recomputes live state.
 */
export function rotateOffer(
  principal: string,
  analysis: Analysis,
  account?: string,
): RotateInput | undefined {
  const rotatable = /^(user|role):/.test(principal);
  const createdKeys = analysis.credentials.created
    .filter((k) => /^AKIA[A-Z0-9]{12,124}$/.test(k.accessKeyId) && /^[\w+=,.@-]{1,128}$/.test(k.user))
    .map((k) => ({ user: k.user, accessKeyId: k.accessKeyId }));
  if (!rotatable && createdKeys.length === 0) return undefined;
  return { principal, ...(account ? { account } : {}), createdKeys: createdKeys.slice(0, 50) };
}

/**
 * The second confirmation after a rotation: `rotate-finish` input deleting the user keys the executed rotation
 * deactivated (its own old keys, not keys created for others, which stay inactive as evidence). Undefined when
 * nothing was deactivated.
 */
export function rotateFinishOffer(
  plan: { steps: readonly { key: string; change: unknown }[] },
  records: readonly { key: string; state: string }[],
): RotateFinishInput | undefined {
  const applied = new Set(records.filter((r) => r.state === 'applied').map((r) => r.key));
  const created = plan.steps.find((s) => s.key.startsWith('create-key:') && applied.has(s.key));
  if (!created) return undefined;
  const parsed = changeSchema.safeParse(created.change);
  if (!parsed.success || parsed.data.op !== 'create-key') return undefined;
  const { account, user } = parsed.data;
  const keys = plan.steps.flatMap((s) => {
    if (!applied.has(s.key)) return [];
    const c = changeSchema.safeParse(s.change);
    return c.success && c.data.op === 'deactivate-key' && c.data.user === user ? [c.data.accessKeyId] : [];
  });
  return keys.length > 0 ? { account, user, accessKeyIds: keys.slice(0, 2) } : undefined;
}
