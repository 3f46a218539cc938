import { describe, expect, it } from 'vitest';
import { analyse, type Finding } from '../../src/domain/audit/analyse.ts';
import type { AuditEvent } from '../../src/domain/audit/event.ts';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.parse('2026-11-20T00:00:00Z');
const OPTS = { since: NOW - D, until: NOW, baselineStart: NOW - 15 * D };
const CLI = 'aws-cli/2.15.30 Python/3.11.8';
let seq = 0;

function ev(p: Partial<AuditEvent> & { time: number }): AuditEvent {
  seq += 1;
  return {
    id: `e${seq}`,
    account: '111111111111',
    region: 'eu-west-1',
    source: 'ecs.amazonaws.com',
    name: 'DescribeServices',
    readOnly: true,
    sourceIp: '20.102.45.10',
    userAgent: CLI,
    accessKeyId: 'AKIAROUTINE000000001',
    identityType: 'IAMUser',
    relation: 'actor',
    ...p,
  };
}

/** Fourteen days of the same routine (10:00–10:10 UTC) plus the window's own day of it. */
function routine(): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let d = 14; d >= 0; d--) {
    for (let i = 0; i < 4; i++) {
      out.push(
        ev({
          time: NOW - D - d * D + 10 * H + i * 60_000,
          name: i === 3 ? 'UpdateService' : 'DescribeServices',
          readOnly: i !== 3,
        }),
      );
    }
  }
  return out;
}

const at = (h: number, m = 0) => NOW - D + h * H + m * 60_000;
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}`);

describe('analyse: table of behaviours', () => {
  const cases: { name: string; extra: () => AuditEvent[]; expect: string[] }[] = [
    { name: 'routine only', extra: () => [], expect: [] },
    {
      name: 'a new region with a write',
      extra: () => [
        ev({ time: at(10, 20), region: 'ap-southeast-2', name: 'UpdateService', readOnly: false }),
      ],
      expect: ['new-region:high'],
    },
    {
      name: 'a new region, reads only',
      extra: () => [ev({ time: at(10, 20), region: 'ap-southeast-2' })],
      expect: ['new-region:medium'],
    },
    {
      name: 'a new address in a known /24',
      extra: () => [ev({ time: at(10, 20), sourceIp: '20.102.45.99' })],
      expect: [],
    },
    {
      name: 'a new network',
      extra: () => [ev({ time: at(10, 20), sourceIp: '198.51.100.7' })],
      expect: ['new-network:medium'],
    },
    {
      name: 'a write from a new network',
      extra: () => [
        ev({ time: at(10, 20), sourceIp: '198.51.100.7', name: 'UpdateService', readOnly: false }),
      ],
      expect: ['new-network:high'],
    },
    {
      name: 'an AWS service calling on its behalf',
      extra: () => [ev({ time: at(10, 20), sourceIp: 'ecs.amazonaws.com' })],
      expect: [],
    },
    {
      name: 'a new client family',
      extra: () => [ev({ time: at(10, 20), userAgent: 'Boto3/1.34.11 Python/3.12' })],
      expect: ['new-user-agent:medium'],
    },
    {
      name: 'a newer version of the same client',
      extra: () => [ev({ time: at(10, 20), userAgent: 'aws-cli/2.17.0 Python/3.12' })],
      expect: [],
    },
    {
      name: 'a write call never made',
      extra: () => [
        ev({ time: at(10, 20), source: 'lambda.amazonaws.com', name: 'UpdateFunctionCode', readOnly: false }),
      ],
      expect: ['new-call:medium'],
    },
    {
      name: 'read calls never made are grouped',
      extra: () => [
        ev({ time: at(10, 20), source: 'iam.amazonaws.com', name: 'ListUsers' }),
        ev({ time: at(10, 21), source: 'iam.amazonaws.com', name: 'ListRoles' }),
      ],
      expect: ['new-call:low'],
    },
    {
      name: 'activity at 03:00 when the routine is 10:00',
      extra: () => [ev({ time: at(3) })],
      expect: ['unusual-hours:low'],
    },
    { name: 'activity within an hour of the routine', extra: () => [ev({ time: at(11, 30) })], expect: [] },
    {
      name: 'a volume spike',
      extra: () => Array.from({ length: 40 }, (_, i) => ev({ time: at(10, 15) + i * 1000 })),
      expect: ['volume-spike:medium'],
    },
    {
      name: 'five denials of one call in a minute',
      extra: () =>
        Array.from({ length: 5 }, (_, i) => ev({ time: at(10, 20) + i * 5000, errorCode: 'AccessDenied' })),
      expect: ['denied-burst:high'],
    },
    {
      name: 'three denials',
      extra: () =>
        Array.from({ length: 3 }, (_, i) => ev({ time: at(10, 20) + i * 5000, errorCode: 'AccessDenied' })),
      expect: ['denied-burst:medium'],
    },
    {
      name: 'two denials',
      extra: () =>
        Array.from({ length: 2 }, (_, i) => ev({ time: at(10, 20) + i * 5000, errorCode: 'AccessDenied' })),
      expect: [],
    },
    {
      name: 'three denials spread over half an hour',
      extra: () =>
        Array.from({ length: 3 }, (_, i) =>
          ev({ time: at(10, 0) + i * 15 * 60_000, errorCode: 'AccessDenied' }),
        ),
      expect: [],
    },
    {
      name: 'StopLogging (always flagged)',
      extra: () => [
        ev({ time: at(10, 20), source: 'cloudtrail.amazonaws.com', name: 'StopLogging', readOnly: false }),
      ],
      expect: ['high-risk-call:critical'],
    },
    {
      name: 'CreateAccessKey',
      extra: () => [
        ev({ time: at(10, 20), source: 'iam.amazonaws.com', name: 'CreateAccessKey', readOnly: false }),
      ],
      expect: ['high-risk-call:high'],
    },
    {
      name: 'a denied AttachUserPolicy is lowered one step',
      extra: () => [
        ev({
          time: at(10, 20),
          source: 'iam.amazonaws.com',
          name: 'AttachUserPolicy',
          readOnly: false,
          errorCode: 'AccessDenied',
        }),
      ],
      expect: ['high-risk-call:medium'],
    },
    {
      name: 'PutBucketPolicy',
      extra: () => [
        ev({ time: at(10, 20), source: 's3.amazonaws.com', name: 'PutBucketPolicy', readOnly: false }),
      ],
      expect: ['high-risk-call:high'],
    },
    {
      name: 'GetSecretValue',
      extra: () => [ev({ time: at(10, 20), source: 'secretsmanager.amazonaws.com', name: 'GetSecretValue' })],
      expect: ['high-risk-call:medium'],
    },
    {
      name: 'AssumeRole from a role session is role chaining',
      extra: () => [
        ev({
          time: at(10, 20),
          source: 'sts.amazonaws.com',
          name: 'AssumeRole',
          identityType: 'AssumedRole',
        }),
      ],
      expect: ['high-risk-call:medium'],
    },
    {
      name: 'AssumeRole from an IAM user is only a new call',
      extra: () => [ev({ time: at(10, 20), source: 'sts.amazonaws.com', name: 'AssumeRole' })],
      expect: ['new-call:low'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = analyse([...routine(), ...c.extra()], OPTS);
      expect(rules(a.findings).sort()).toEqual([...c.expect].sort());
      for (const f of a.findings) {
        expect(f.evidence.count).toBeGreaterThan(0);
        expect(f.evidence.eventIds.length).toBeGreaterThan(0);
        expect(f.why.length).toBeGreaterThan(10);
      }
    });
  }

  it('a high-risk call the principal routinely makes in that region is not flagged, logging changes always are', () => {
    const base = routine();
    const extra: AuditEvent[] = [];
    for (let d = 14; d >= 0; d--) {
      extra.push(
        ev({
          time: NOW - D - d * D + 10 * H + 5 * 60_000,
          source: 'secretsmanager.amazonaws.com',
          name: 'GetSecretValue',
        }),
      );
      extra.push(
        ev({
          time: NOW - D - d * D + 10 * H + 6 * 60_000,
          source: 'cloudtrail.amazonaws.com',
          name: 'UpdateTrail',
          readOnly: false,
        }),
      );
    }
    const a = analyse([...base, ...extra], OPTS);
    expect(rules(a.findings)).toEqual(['high-risk-call:critical']);
    expect(a.findings[0]?.evidence.details.call).toBe('cloudtrail.amazonaws.com:UpdateTrail');
  });

  it('without a baseline, only the high-risk list and denied bursts speak, and it says so', () => {
    const only = [
      ev({
        time: at(3),
        region: 'ap-southeast-2',
        source: 'iam.amazonaws.com',
        name: 'CreateAccessKey',
        readOnly: false,
      }),
      ev({ time: at(3, 1), sourceIp: '198.51.100.7' }),
    ];
    const a = analyse(only, OPTS);
    expect(rules(a.findings)).toEqual(['high-risk-call:high']);
    expect(a.notes[0]).toMatch(/Only 0 events in the baseline/);
  });

  it('orders findings by severity, then time', () => {
    const a = analyse(
      [
        ...routine(),
        ev({ time: at(10, 20), source: 'secretsmanager.amazonaws.com', name: 'GetSecretValue' }),
        ev({ time: at(10, 30), source: 'cloudtrail.amazonaws.com', name: 'StopLogging', readOnly: false }),
        ev({ time: at(10, 25), source: 'iam.amazonaws.com', name: 'CreateAccessKey', readOnly: false }),
      ],
      OPTS,
    );
    expect(a.findings.map((f) => f.severity)).toEqual(['critical', 'high', 'medium']);
  });

  it('lists the credentials the principal used, created for others and assumed; session starts are not behaviour', () => {
    const a = analyse(
      [
        ...routine(),
        ev({
          time: at(10, 20),
          source: 'iam.amazonaws.com',
          name: 'CreateAccessKey',
          readOnly: false,
          createdKey: { user: 'backup-admin', accessKeyId: 'AKIANEWKEY0000000001' },
        }),
        ev({
          time: at(10, 21),
          source: 'sts.amazonaws.com',
          name: 'AssumeRole',
          identityType: 'AssumedRole',
          assumedRole: { roleArn: 'arn:aws:iam::1:role/admin', accessKeyId: 'ASIACHAINED000000001' },
        }),
        ev({
          time: at(3),
          source: 'sts.amazonaws.com',
          name: 'AssumeRoleWithWebIdentity',
          relation: 'session-start',
          sourceIp: '203.0.113.1',
          assumedRole: {
            roleArn: 'arn:aws:iam::1:role/ci',
            sessionName: 'GitHubActions',
            accessKeyId: 'ASIASESSION000000001',
          },
        }),
      ],
      OPTS,
    );
    expect(a.credentials.created).toEqual([
      expect.objectContaining({ user: 'backup-admin', accessKeyId: 'AKIANEWKEY0000000001' }),
    ]);
    expect(a.credentials.rolesAssumed).toEqual([
      expect.objectContaining({ roleArn: 'arn:aws:iam::1:role/admin', accessKeyId: 'ASIACHAINED000000001' }),
    ]);
    expect(a.credentials.sessions).toEqual([
      expect.objectContaining({ sessionName: 'GitHubActions', accessKeyId: 'ASIASESSION000000001' }),
    ]);
    expect(a.credentials.used[0]).toMatchObject({ accessKeyId: 'AKIAROUTINE000000001' });
    expect(rules(a.findings)).not.toContain('unusual-hours:low');
  });
});

describe('the Rotate offer after an audit', async () => {
  const { rotateOffer } = await import('../../src/domain/rotate/offer.ts');
  it('offers the principal and the keys it created for others', () => {
    const a = analyse(
      [
        ...routine(),
        ev({
          time: at(10, 20),
          source: 'iam.amazonaws.com',
          name: 'CreateAccessKey',
          readOnly: false,
          createdKey: { user: 'backup-admin', accessKeyId: 'AKIANEWKEY0000000001' },
        }),
      ],
      OPTS,
    );
    expect(rotateOffer('role:ci-deploy', a)).toEqual({
      principal: 'role:ci-deploy',
      createdKeys: [{ user: 'backup-admin', accessKeyId: 'AKIANEWKEY0000000001' }],
    });
    expect(rotateOffer('resource:bucket', analyse(routine(), OPTS))).toBeUndefined();
  });
});
