import type { Analysis } from '../audit/analyse.ts';
import type { RotateInput } from './steps.ts';

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
