import { z } from 'zod';

const userId = z.string().regex(/^[UW][A-Z0-9]+$/);
const channelId = z.string().regex(/^[CGD][A-Z0-9]+$/);

/** The fields of a block_actions payload scope reads; everything else is ignored. */
export const blockActionSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: userId }),
  channel: z.object({ id: channelId }).optional(),
  container: z.object({ channel_id: channelId.optional() }).optional(),
  trigger_id: z.string().min(1).max(200),
  actions: z
    .array(
      z.object({
        action_id: z.string().max(255),
        value: z.string().max(2000).optional(),
        action_ts: z.string().max(40),
      }),
    )
    .length(1),
});

/** The fields of the reason modal's view_submission payload. */
export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: userId }),
  view: z.object({
    id: z.string().min(1).max(64),
    private_metadata: z.string().regex(/^[a-f0-9]{32}$/),
    state: z.object({
      values: z.object({
        reason: z.object({ reason: z.object({ value: z.string().trim().min(3).max(2000) }) }),
      }),
    }),
  }),
});
