import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PlanStep, StepTarget } from '../actions/contract.ts';

const IAM = /^[\w+=,.@-]{1,128}$/;
const KEY = /^AKIA[A-Z0-9]{12,124}$/;
const ACCOUNT = /^\d{12}$/;
const K8S = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** What Rotate is offered for, stored server-side with the offer (from an audit's principal and credentials). */
export const rotateInputSchema = z
  .object({
    principal: z.string().min(3).max(300),
    account: z.string().regex(ACCOUNT).optional(),
    /** Keys the principal created for other users (from the audit): offered for deactivation. */
    createdKeys: z
      .array(z.object({ user: z.string().regex(IAM), accessKeyId: z.string().regex(KEY) }).strict())
      .max(50)
      .default([]),
  })
  .strict();
export type RotateInput = z.infer<typeof rotateInputSchema>;

export const rotateFinishInputSchema = z
  .object({
    account: z.string().regex(ACCOUNT),
    user: z.string().regex(IAM),
    accessKeyIds: z.array(z.string().regex(KEY)).min(1).max(2),
  })
  .strict();
export type RotateFinishInput = z.infer<typeof rotateFinishInputSchema>;

export const destinationSchema = z.union([
  z
    .object({ kind: z.literal('secrets-manager'), secretId: z.string().min(1).max(2048), region: z.string() })
    .strict(),
  z
    .object({
      kind: z.literal('kubernetes'),
      cluster: z.string().min(1),
      namespace: z.string().regex(K8S),
      name: z.string().regex(K8S),
    })
    .strict(),
]);
export type KeyDestination = z.infer<typeof destinationSchema>;

/** The `change` of each step kind; executors parse it with these before doing anything. */
export const changeSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('create-key'),
      account: z.string().regex(ACCOUNT),
      user: z.string().regex(IAM),
      destinations: z.array(destinationSchema).max(10),
      /** Every key id the user had when the plan was made: any other key is ours from an earlier attempt or foreign. */
      knownKeys: z.array(z.string().regex(KEY)).max(2),
    })
    .strict(),
  z
    .object({
      op: z.literal('deactivate-key'),
      account: z.string().regex(ACCOUNT),
      user: z.string().regex(IAM),
      accessKeyId: z.string().regex(KEY),
      observedStatus: z.enum(['Active', 'Inactive']),
    })
    .strict(),
  z
    .object({
      op: z.literal('delete-key'),
      account: z.string().regex(ACCOUNT),
      user: z.string().regex(IAM),
      accessKeyId: z.string().regex(KEY),
    })
    .strict(),
  z
    .object({
      op: z.literal('revoke-sessions'),
      account: z.string().regex(ACCOUNT),
      role: z.string().regex(IAM),
    })
    .strict(),
  z
    .object({
      op: z.literal('recreate-token'),
      cluster: z.string().min(1),
      namespace: z.string().regex(K8S),
      secret: z.string().regex(K8S),
      serviceAccount: z.string().regex(K8S),
    })
    .strict(),
]);
export type RotateChange = z.infer<typeof changeSchema>;

/** The inline policy AWS's own "Revoke active sessions" writes. */
export const REVOKE_POLICY = 'AWSRevokeOlderSessions';

export function revokePolicy(issuedBefore: Date, sid: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          DateLessThan: { 'aws:TokenIssueTime': issuedBefore.toISOString().replace(/\.\d{3}Z$/, 'Z') },
        },
      },
    ],
  });
}

/** A marker derived from the request and the step: the same on every retry, different for any other request. */
export function marker(requestId: string, stepKey: string): string {
  return createHash('sha256').update(`${requestId}\n${stepKey}`).digest('hex').slice(0, 32);
}

/** The marker as a UUID, the form Secrets Manager's ClientRequestToken (idempotency token) takes. */
export function markerUuid(requestId: string, stepKey: string): string {
  const h = marker(requestId, stepKey);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function step(
  key: string,
  target: StepTarget,
  description: string,
  change: RotateChange,
  state: PlanStep['state'] = 'todo',
  reason?: string,
): PlanStep {
  return { key, target, description, change, state, ...(reason ? { reason } : {}) };
}
