import { z } from 'zod';
import { ALERT_KEY, breachSchema } from '../../store/provenance/quarantine-breaches.ts';

/** BullMQ queue for the approval engine: plan, execute, card refresh, expiry, recheck. */
export const ACTION_QUEUE = 'scope-actions';

const id = z.string().regex(/^[a-f0-9]{32}$/);

/** Every action job's data, validated when a worker reads it from Redis. */
export const actionJobSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('plan'),
    requestId: id,
    offerId: id,
    requestedBy: z.string().regex(/^[UW][A-Z0-9]+$/),
    reason: z.string().min(1).max(3000),
  }),
  z.object({ type: z.literal('execute'), requestId: id }),
  z.object({ type: z.literal('card'), requestId: id }),
  z.object({ type: z.literal('expire'), requestId: id }),
  z.object({ type: z.literal('recheck'), requestId: id }),
  /** A pod started running a quarantined digest anyway (queued by the collector's quarantine sentinel). */
  z.object({ type: z.literal('quarantine-alert'), breach: breachSchema }),
  /** Renders one workload's breach alert from what is stored (coalesces many pods into few Slack updates). */
  z.object({ type: z.literal('quarantine-alert-render'), requestId: id, alert: z.string().regex(ALERT_KEY) }),
]);
export type ActionJobData = z.infer<typeof actionJobSchema>;
/** The jobs the approval engine itself runs (everything but the breach alerts). */
export type EngineJobData = Exclude<ActionJobData, { type: 'quarantine-alert' | 'quarantine-alert-render' }>;

/** Deterministic BullMQ job ids (no ':' allowed): the same event always maps to the same job. */
export const actionJobIds = {
  plan: (requestId: string) => `plan-${requestId}`,
  execute: (requestId: string, execution: number) => `exec-${requestId}-${execution}`,
  card: (requestId: string, rev: number) => `card-${requestId}-${rev}`,
  expire: (requestId: string) => `expire-${requestId}`,
  recheck: (requestId: string, execution: number) => `recheck-${requestId}-${execution}`,
};
