import { z } from 'zod';

const kind = z.enum(['freeze', 'unfreeze', 'quarantine', 'release', 'rotate', 'rotate-finish']);
const slackUser = z.string().regex(/^[UW][A-Z0-9]+$/);

export const stepSchema = z.object({
  key: z.string().min(1).max(600),
  target: z.object({
    system: z.enum(['kubernetes', 'aws']),
    location: z.string(),
    environment: z.string(),
    kind: z.string(),
    namespace: z.string().optional(),
    name: z.string(),
  }),
  description: z.string(),
  change: z.unknown(),
  state: z.enum(['todo', 'already-done', 'impossible']),
  reason: z.string().optional(),
  ownerOf: z.string().optional(),
});

export const planSchema = z.object({
  kind,
  title: z.string(),
  steps: z.array(stepSchema),
  environments: z.array(z.string()),
  notes: z.array(z.string()),
});

/** What a button or command offered: the action and its input, stored server-side; the button holds the id. */
export const offerSchema = z.object({
  id: z.string().regex(/^[a-f0-9]{32}$/),
  kind,
  input: z.unknown(),
  /** Short text for the modal ("Freeze deploys of sha256:… in prod"). */
  label: z.string().max(300),
  channelId: z.string().regex(/^[CGD][A-Z0-9]+$/),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type Offer = z.infer<typeof offerSchema>;

export const requestSchema = z.object({
  id: z.string().regex(/^[a-f0-9]{32}$/),
  kind,
  rev: z.number().int().min(0),
  state: z.enum([
    'pending',
    'approved',
    'executing',
    'done',
    'partial',
    'failed',
    'denied',
    'cancelled',
    'expired',
  ]),
  requestedBy: slackUser,
  reason: z.string().max(3000),
  channelId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  plan: planSchema,
  approvals: z.array(z.object({ userId: slackUser, at: z.string() })),
  decision: z
    .object({ by: z.string(), at: z.string(), as: z.enum(['denied', 'cancelled', 'expired']) })
    .optional(),
  executions: z.number().int().min(0),
  finishedAt: z.string().optional(),
  inverseOf: z.string().optional(),
  undoneBy: z.string().optional(),
  followUp: z.object({ offerId: z.string().regex(/^[a-f0-9]{32}$/), label: z.string().max(75) }).optional(),
});

export const recordSchema = z.object({
  key: z.string(),
  state: z.enum(['applied', 'skipped', 'failed']),
  prior: z.unknown().optional(),
  error: z.string().optional(),
  at: z.string(),
});

export const recheckSchema = z.record(z.string(), z.enum(['held', 'reverted', 'unknown']));
