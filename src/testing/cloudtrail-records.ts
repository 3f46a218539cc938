/**
 * Builders of CloudTrail records in the documented record format (eventVersion 1.09: userIdentity, eventTime, eventSource,
 * eventName, awsRegion, sourceIPAddress, userAgent, requestParameters, responseElements, errorCode…) for tests,
 * the demo and the benchmark. Deterministic: a seeded generator, fixed clock.
 */

export type CloudTrailRecord = Record<string, unknown>;

export const ACCOUNT = '111111111111';

export const CLI_UA =
  'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off';
export const BOTO_UA =
  'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11';
export const GO_UA =
  'aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/cloudwatch#1.32.0';

/** A small seeded PRNG (mulberry32) so fixtures are identical on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuid(r: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function keyId(prefix: 'AKIA' | 'ASIA', r: () => number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return prefix + Array.from({ length: 16 }, () => abc[Math.floor(r() * 32)]).join('');
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type Identity = Record<string, unknown>;

export function assumedRoleIdentity(
  role: string,
  session: string,
  accessKeyId: string,
  account = ACCOUNT,
): Identity {
  return {
    type: 'AssumedRole',
    principalId: `AROA${role
      .toUpperCase()
      .replace(/[^A-Z]/g, '')
      .slice(0, 12)}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: `AROA${role
          .toUpperCase()
          .replace(/[^A-Z]/g, '')
          .slice(0, 12)}`,
        arn: `arn:aws:iam::${account}:role/${role}`,
        accountId: account,
        userName: role,
      },
      attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

export function userIdentity(user: string, accessKeyId: string, account = ACCOUNT): Identity {
  return {
    type: 'IAMUser',
    principalId: `AIDA${user
      .toUpperCase()
      .replace(/[^A-Z]/g, '')
      .slice(0, 12)}`,
    arn: `arn:aws:iam::${account}:user/${user}`,
    accountId: account,
    accessKeyId,
    userName: user,
  };
}

export type RecordSpec = {
  identity: Identity;
  time: number;
  source: string;
  name: string;
  region: string;
  ip: string;
  ua: string;
  readOnly: boolean;
  params?: Record<string, unknown> | null;
  response?: Record<string, unknown> | null;
  errorCode?: string;
  resources?: { ARN: string; type: string }[];
  account?: string;
};

export function record(spec: RecordSpec, r: () => number): CloudTrailRecord {
  const account = spec.account ?? ACCOUNT;
  return {
    eventVersion: '1.09',
    userIdentity: spec.identity,
    eventTime: iso(spec.time),
    eventSource: spec.source,
    eventName: spec.name,
    awsRegion: spec.region,
    sourceIPAddress: spec.ip,
    userAgent: spec.ua,
    ...(spec.errorCode
      ? {
          errorCode: spec.errorCode,
          errorMessage: `User: ${String(spec.identity.arn)} is not authorized to perform: ${spec.source.split('.')[0]}:${spec.name}`,
        }
      : {}),
    requestParameters: spec.params ?? null,
    responseElements: spec.errorCode ? null : (spec.response ?? null),
    requestID: uuid(r),
    eventID: uuid(r),
    readOnly: spec.readOnly,
    ...(spec.resources ? { resources: spec.resources.map((x) => ({ ...x, accountId: account })) } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256' },
  };
}
