import { z } from 'zod';

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');
const iamName = z.string().regex(/^[\w+=,.@-]{1,128}$/, 'an IAM name');
const k8sName = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'a Kubernetes object name');

/** An account audited and rotated through a role assumed from scope's own credentials. */
const accountSchema = z
  .object({
    id: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
    name: z.string().min(1).max(64).optional(),
    environment: z.string().min(1).default('unknown'),
    /** Role scope assumes in that account; absent = scope's own credentials already act there. */
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN')
      .optional(),
    externalId: z.string().min(2).max(1224).optional(),
    /** Regions of this account (default: aws.regions). */
    regions: z.array(region).optional(),
  })
  .strict();

/** Where a rotated IAM user's new key is stored: exactly one of a Secrets Manager secret or a Kubernetes Secret. */
const destinationSchema = z
  .object({
    user: iamName,
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    secretsManager: z
      .object({ secretId: z.string().min(1).max(2048), region })
      .strict()
      .optional(),
    kubernetes: z
      .object({ clusters: z.array(z.string().min(1)).min(1), namespace: k8sName, name: k8sName })
      .strict()
      .optional(),
  })
  .strict()
  .refine((d) => (d.secretsManager === undefined) !== (d.kubernetes === undefined), {
    message: 'set exactly one of secretsManager or kubernetes',
  });

/** A long-lived service-account token secret CI uses, which Rotate may delete and recreate. */
const saTokenSchema = z
  .object({
    principal: z.string().min(1),
    cluster: z.string().min(1),
    namespace: k8sName,
    serviceAccount: k8sName,
    secret: k8sName,
  })
  .strict();

export const awsConfigSchema = z
  .object({
    regions: z.array(region).default([]),
    credentialSource: z.enum(['default-chain', 'web-identity', 'profile']).default('default-chain'),
    profile: z.string().optional(),
    /** Overrides every service endpoint; AWS_ENDPOINT_URL_<SERVICE> work without it. */
    endpoint: z.string().url().optional(),
    accounts: z.array(accountSchema).default([]),
    audit: z
      .object({
        /**
         * LookupEvents requests per second per account+region. AWS allows 2; a higher value only makes sense
         * against a stand-in enforcing the same (tests).
         */
        requestsPerSecond: z.number().positive().max(50).default(2),
        baselineDays: z.number().int().min(0).max(89).default(14),
        /** Stop reading a query after this many events (reported as truncated). */
        maxEventsPerQuery: z.number().int().min(50).max(1_000_000).default(200_000),
        /** A role's distinct session names followed at most. */
        maxSessions: z.number().int().min(1).max(1000).default(100),
        throttleRetries: z.number().int().min(0).max(20).default(8),
        /** How often a running audit updates its progress message in the channel. */
        progressEveryMs: z.number().int().min(100).max(600_000).default(5000),
      })
      .strict()
      .default({
        requestsPerSecond: 2,
        baselineDays: 14,
        maxEventsPerQuery: 200_000,
        maxSessions: 100,
        throttleRetries: 8,
        progressEveryMs: 5000,
      }),
    rotation: z
      .object({
        destinations: z.array(destinationSchema).default([]),
        serviceAccountTokens: z.array(saTokenSchema).default([]),
      })
      .strict()
      .default({ destinations: [], serviceAccountTokens: [] }),
  })
  .strict();

export type AwsConfig = z.infer<typeof awsConfigSchema>;
export type AwsAccountConfig = AwsConfig['accounts'][number];
export type RotationDestination = AwsConfig['rotation']['destinations'][number];
export type ServiceAccountTokenConfig = AwsConfig['rotation']['serviceAccountTokens'][number];

export const AWS_CONFIG_DEFAULT = awsConfigSchema.parse({});
