/**
 * Scenarios for tests, the demo and the benchmark, built from documented CloudTrail records
 * (`cloudtrail-records.ts`): a compromised CI role, a clean user, bulk activity. Deterministic.
 */
import {
  ACCOUNT,
  assumedRoleIdentity,
  BOTO_UA,
  CLI_UA,
  type CloudTrailRecord,
  GO_UA,
  iso,
  keyId,
  type RecordSpec,
  record,
  rng,
  userIdentity,
} from './cloudtrail-records.ts';

export * from './cloudtrail-records.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIN = 60_000;

/** What the compromised-CI scenario contains, for tests to compare findings against. */
export type CompromisedCi = {
  records: CloudTrailRecord[];
  now: Date;
  role: string;
  roleArn: string;
  sessionName: string;
  stolenKey: string;
  attackerIp: string;
  createdKey: { user: string; accessKeyId: string; eventId: string };
  chainedRole: string;
  stopLoggingEventId: string;
  secretReadEventIds: string[];
  deniedEventIds: string[];
  regions: string[];
};

const DEPLOY_CALLS: [string, string, boolean][] = [
  ['sts.amazonaws.com', 'GetCallerIdentity', true],
  ['ecr.amazonaws.com', 'GetAuthorizationToken', true],
  ['ecr.amazonaws.com', 'BatchCheckLayerAvailability', true],
  ['ecr.amazonaws.com', 'PutImage', false],
  ['ecs.amazonaws.com', 'RegisterTaskDefinition', false],
  ['ecs.amazonaws.com', 'UpdateService', false],
  ['ecs.amazonaws.com', 'DescribeServices', true],
];
const RUNNER_NETS = ['20.102.45', '20.102.46', '52.160.3'];

/** One CI deploy: the OIDC AssumeRoleWithWebIdentity, then the deploy calls under the session key. */
function deploy(
  out: CloudTrailRecord[],
  r: () => number,
  at: number,
  role: string,
  session: string,
  region: string,
): string {
  const key = keyId('ASIA', r);
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${role}`;
  const ip = `${RUNNER_NETS[Math.floor(r() * RUNNER_NETS.length)]}.${10 + Math.floor(r() * 200)}`;
  out.push(
    record(
      {
        identity: {
          type: 'WebIdentityUser',
          principalId:
            'token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/shop:ref:refs/heads/main',
          userName: 'repo:acme/shop:ref:refs/heads/main',
          identityProvider: 'token.actions.githubusercontent.com',
        },
        time: at,
        source: 'sts.amazonaws.com',
        name: 'AssumeRoleWithWebIdentity',
        region,
        ip,
        ua: 'aws-sdk-js/2.1500.0 promise',
        readOnly: true,
        params: { roleArn, roleSessionName: session, durationSeconds: 3600 },
        response: {
          credentials: { accessKeyId: key, expiration: iso(at + HOUR), sessionToken: '<redacted>' },
          assumedRoleUser: {
            assumedRoleId: `AROACIDEPLOY:${session}`,
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
          },
          provider: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
        },
        resources: [{ ARN: roleArn, type: 'AWS::IAM::Role' }],
      },
      r,
    ),
  );
  const identity = assumedRoleIdentity(role, session, key);
  DEPLOY_CALLS.forEach(([source, name, readOnly], i) => {
    out.push(
      record(
        { identity, time: at + (i + 1) * 20_000, source, name, region, ip, ua: CLI_UA, readOnly, params: {} },
        r,
      ),
    );
  });
  return key;
}

/**
 * A CI deploy role: two weeks of normal deploys (eu-west-1, GitHub runner networks, aws-cli, working hours),
 * then on the last day a stolen session key used from a new address with Boto3: AccessDenied probing,
 * CreateAccessKey for another user, GetSecretValue in an unused region, role chaining, StopLogging.
 */
export function compromisedCiScenario(now = new Date('2026-11-20T00:00:00Z')): CompromisedCi {
  const r = rng(42);
  const role = 'ci-deploy';
  const session = 'GitHubActions';
  const records: CloudTrailRecord[] = [];
  const start = now.getTime() - 24 * HOUR;
  for (let d = 14; d >= 1; d--) {
    for (const h of [9, 11, 14, 16]) {
      deploy(records, r, start - d * DAY + h * HOUR + Math.floor(r() * 40) * MIN, role, session, 'eu-west-1');
    }
  }
  deploy(records, r, start + 9 * HOUR + 5 * MIN, role, session, 'eu-west-1');
  const t = start + 14 * HOUR + 10 * MIN;
  const stolenKey = deploy(records, r, t, role, session, 'eu-west-1');
  const attackerIp = '198.51.100.23';
  const identity = assumedRoleIdentity(role, session, stolenKey);
  const a = (s: Omit<RecordSpec, 'identity' | 'ip' | 'ua'>) =>
    records.push(record({ identity, ip: attackerIp, ua: BOTO_UA, ...s }, r));
  const t0 = t + 25 * MIN;
  a({
    time: t0,
    source: 'sts.amazonaws.com',
    name: 'GetCallerIdentity',
    region: 'eu-west-1',
    readOnly: true,
  });
  a({
    time: t0 + 30_000,
    source: 'iam.amazonaws.com',
    name: 'ListUsers',
    region: 'us-east-1',
    readOnly: true,
  });
  const deniedBefore = records.length;
  for (let i = 0; i < 6; i++) {
    a({
      time: t0 + 60_000 + i * 10_000,
      source: 'iam.amazonaws.com',
      name: 'ListAttachedRolePolicies',
      region: 'us-east-1',
      readOnly: true,
      params: { roleName: ['admin', 'ops', 'billing', 'audit', 'dev', 'root-like'][i] },
      errorCode: 'AccessDenied',
    });
  }
  for (let i = 0; i < 3; i++) {
    a({
      time: t0 + 140_000 + i * 5000,
      source: 'iam.amazonaws.com',
      name: 'GetAccountAuthorizationDetails',
      region: 'us-east-1',
      readOnly: true,
      errorCode: 'AccessDenied',
    });
  }
  const deniedEventIds = records.slice(deniedBefore).map((x) => String(x.eventID));
  const createdKeyId = keyId('AKIA', r);
  a({
    time: t0 + 200_000,
    source: 'iam.amazonaws.com',
    name: 'CreateAccessKey',
    region: 'us-east-1',
    readOnly: false,
    params: { userName: 'backup-admin' },
    response: {
      accessKey: {
        userName: 'backup-admin',
        accessKeyId: createdKeyId,
        status: 'Active',
        createDate: iso(t0 + 200_000),
      },
    },
    resources: [{ ARN: `arn:aws:iam::${ACCOUNT}:user/backup-admin`, type: 'AWS::IAM::User' }],
  });
  const createdEventId = String(records[records.length - 1]?.eventID);
  const secretBefore = records.length;
  for (const name of ['prod/db/password', 'prod/stripe/api-key']) {
    a({
      time: t0 + 260_000 + secretBefore * 10,
      source: 'secretsmanager.amazonaws.com',
      name: 'GetSecretValue',
      region: 'ap-southeast-2',
      readOnly: true,
      params: { secretId: name },
    });
  }
  const secretReadEventIds = records.slice(secretBefore).map((x) => String(x.eventID));
  const chainedRole = `arn:aws:iam::${ACCOUNT}:role/admin-break-glass`;
  a({
    time: t0 + 320_000,
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    region: 'us-east-1',
    readOnly: true,
    params: { roleArn: chainedRole, roleSessionName: 'maint' },
    response: {
      credentials: {
        accessKeyId: keyId('ASIA', r),
        expiration: iso(t0 + 320_000 + HOUR),
        sessionToken: '<redacted>',
      },
      assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin-break-glass/maint` },
    },
    resources: [{ ARN: chainedRole, type: 'AWS::IAM::Role' }],
  });
  a({
    time: t0 + 400_000,
    source: 'cloudtrail.amazonaws.com',
    name: 'StopLogging',
    region: 'eu-west-1',
    readOnly: false,
    params: { name: `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/org-trail` },
    resources: [
      { ARN: `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/org-trail`, type: 'AWS::CloudTrail::Trail' },
    ],
  });
  const stopLoggingEventId = String(records[records.length - 1]?.eventID);
  return {
    records,
    now,
    role,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
    sessionName: session,
    stolenKey,
    attackerIp,
    createdKey: { user: 'backup-admin', accessKeyId: createdKeyId, eventId: createdEventId },
    chainedRole,
    stopLoggingEventId,
    secretReadEventIds,
    deniedEventIds,
    regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'],
  };
}

/** A reporting user with the same routine every day, in the window and in the baseline: must yield no findings. */
export function cleanScenario(now = new Date('2026-11-20T00:00:00Z')): {
  records: CloudTrailRecord[];
  now: Date;
  user: string;
  accessKeyId: string;
} {
  const r = rng(7);
  const user = 'reporting-bot';
  const key = 'AKIAREPORTINGBOT0001';
  const identity = userIdentity(user, key);
  const records: CloudTrailRecord[] = [];
  const start = now.getTime() - 24 * HOUR;
  for (let d = 14; d >= 0; d--) {
    const base = start - d * DAY + 6 * HOUR + Math.floor(r() * 30) * MIN;
    for (let i = 0; i < 5; i++) {
      records.push(
        record(
          {
            identity,
            time: base + i * 60_000,
            source: 'monitoring.amazonaws.com',
            name: i === 0 ? 'ListMetrics' : 'GetMetricData',
            region: 'eu-west-1',
            ip: '192.0.2.10',
            ua: GO_UA,
            readOnly: true,
            params: {},
          },
          r,
        ),
      );
    }
    records.push(
      record(
        {
          identity,
          time: base + 10 * 60_000,
          source: 'ce.amazonaws.com',
          name: 'GetCostAndUsage',
          region: 'us-east-1',
          ip: '192.0.2.10',
          ua: GO_UA,
          readOnly: true,
          params: {},
        },
        r,
      ),
    );
  }
  return { records, now, user, accessKeyId: key };
}

/**
 * Bulk activity of one IAM user, spread evenly over `regions` and the given time range (for paging tests and
 * the benchmark); a few events per thousand are the risky kind so the analysis has work to do.
 */
export function bulkRecords(opts: {
  count: number;
  regions: readonly string[];
  user: string;
  from: number;
  to: number;
  seed?: number;
}): CloudTrailRecord[] {
  const r = rng(opts.seed ?? 1);
  const key = keyId('AKIA', r);
  const identity = userIdentity(opts.user, key);
  const calls: [string, string, boolean][] = [
    ['s3.amazonaws.com', 'ListBuckets', true],
    ['ec2.amazonaws.com', 'DescribeInstances', true],
    ['ec2.amazonaws.com', 'RunInstances', false],
    ['lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', false],
    ['iam.amazonaws.com', 'CreateAccessKey', false],
    ['secretsmanager.amazonaws.com', 'GetSecretValue', true],
  ];
  const out: CloudTrailRecord[] = [];
  const span = opts.to - opts.from;
  for (let i = 0; i < opts.count; i++) {
    const c = calls[r() < 0.995 ? Math.floor(r() * 4) : 4 + Math.floor(r() * 2)] as [string, string, boolean];
    out.push(
      record(
        {
          identity,
          time: opts.from + Math.floor((span * (i + r())) / opts.count),
          source: c[0],
          name: c[1],
          region: opts.regions[i % opts.regions.length] as string,
          ip: `203.0.113.${Math.floor(r() * 8)}`,
          ua: r() < 0.999 ? CLI_UA : BOTO_UA,
          readOnly: c[2],
          params: {},
          ...(r() < 0.01 ? { errorCode: 'AccessDenied' } : {}),
        },
        r,
      ),
    );
  }
  return out;
}
