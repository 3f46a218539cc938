import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/adapters/aws/clients.ts';
import { CloudTrailAuditSource } from '../../src/adapters/aws/cloudtrail.ts';
import { type AwsConfig, awsConfigSchema } from '../../src/adapters/aws/config.ts';
import { analyse } from '../../src/domain/audit/analyse.ts';
import { parsePrincipal } from '../../src/domain/audit/principal.ts';
import { auditWindow, DAY_MS } from '../../src/domain/audit/window.ts';
import { bulkRecords, cleanScenario, compromisedCiScenario } from '../../src/testing/cloudtrail-fixtures.ts';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';

const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
const RATE = 20;
let fake: FakeAws;

function config(extra: Partial<Record<string, unknown>> = {}): AwsConfig {
  return awsConfigSchema.parse({
    regions: REGIONS,
    endpoint: fake.endpoint,
    audit: { requestsPerSecond: RATE },
    ...extra,
  });
}

function source(cfg = config()): CloudTrailAuditSource {
  return new CloudTrailAuditSource(new AwsClients(cfg), cfg.audit);
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  fake = await startFakeAws({ lookupRatePerSecond: RATE });
});
afterAll(async () => {
  await fake?.close();
});

describe('CloudTrail audit source against the stand-in', () => {
  const now = Date.parse('2026-11-20T00:00:00Z');

  it('pages through every region concurrently and keeps each event once', async () => {
    const records = bulkRecords({
      count: 330,
      regions: REGIONS,
      user: 'bulk-user',
      from: now - 2 * DAY_MS,
      to: now - 1000,
    });
    fake.cloudtrail.addRecords(records);
    const before = fake.count({ service: 'cloudtrail', operation: 'LookupEvents' });
    const pages: number[] = [];
    const res = await source().fetch(parsePrincipal('user:bulk-user'), auditWindow({ since: '2d' }, now), {
      signal: AbortSignal.timeout(15_000),
      onProgress: (p) => pages.push(p.pages),
    });
    expect(res.events).toHaveLength(330);
    expect(new Set(res.events.map((e) => e.id)).size).toBe(330);
    expect(res.regions.map((r) => [r.region, r.events, r.pages, r.error])).toEqual([
      ['eu-west-1', 110, 3, undefined],
      ['us-east-1', 110, 3, undefined],
      ['ap-southeast-2', 110, 3, undefined],
    ]);
    expect(fake.count({ service: 'cloudtrail', operation: 'LookupEvents' }) - before).toBe(9);
    expect(res.throttles).toBe(0);
    expect(pages.at(-1)).toBe(9);
  });

  it('holds the rate without provoking throttles, and recovers when the server throttles anyway', async () => {
    fake.cloudtrail.addRecords(
      bulkRecords({
        count: 400,
        regions: ['eu-west-1'],
        user: 'pacing',
        from: now - DAY_MS,
        to: now - 1000,
        seed: 3,
      }),
    );
    const w = auditWindow({ since: '1d' }, now);
    const paced = await source(config({ regions: ['eu-west-1'] })).fetch(parsePrincipal('user:pacing'), w, {
      signal: AbortSignal.timeout(15_000),
    });
    expect(paced.events).toHaveLength(400);
    expect(paced.throttles).toBe(0);
    // Another client shares the account: the server now allows a quarter of our rate.
    fake.cloudtrail.rate = RATE / 4;
    try {
      const throttledBefore = fake.cloudtrail.throttled;
      const res = await source(config({ regions: ['eu-west-1'] })).fetch(parsePrincipal('user:pacing'), w, {
        signal: AbortSignal.timeout(20_000),
      });
      expect(fake.cloudtrail.throttled - throttledBefore).toBeGreaterThan(0);
      // Backing off after a throttle lets the bucket refill: fewer throttles than pages (retrying at the pace would
      // be throttled again at once, about two throttles per page).
      expect(res.throttles).toBeLessThan(res.pages);
      expect(res.throttles).toBe(fake.cloudtrail.throttled - throttledBefore);
      expect(res.events).toHaveLength(400);
      expect(res.regions[0]?.error).toBeUndefined();
    } finally {
      fake.cloudtrail.rate = RATE;
    }
  });

  it('reports a failing region and still returns the others', async () => {
    fake.cloudtrail.addRecords(
      bulkRecords({ count: 30, regions: REGIONS, user: 'half', from: now - DAY_MS, to: now - 1000, seed: 4 }),
    );
    fake.setFault({
      service: 'cloudtrail',
      region: 'ap-southeast-2',
      status: 400,
      code: 'AccessDeniedException',
      message: 'not authorized',
    });
    try {
      const res = await source().fetch(parsePrincipal('user:half'), auditWindow({ since: '1d' }, now), {
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.events).toHaveLength(20);
      const failed = res.regions.find((r) => r.region === 'ap-southeast-2');
      expect(failed?.error).toMatch(/AccessDeniedException.*not authorized/);
      expect(res.regions.filter((r) => r.error === undefined).map((r) => r.events)).toEqual([10, 10]);
    } finally {
      fake.clearFaults();
    }
  });

  it('reads only the requested regions, and says which requested ones are not configured', async () => {
    const res = await source().fetch(parsePrincipal('user:half'), auditWindow({ since: '1d' }, now), {
      regions: ['eu-west-1', 'sa-east-1'],
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.regions.map((r) => r.region)).toEqual(['eu-west-1']);
    expect(res.notes).toContain('Not configured, so not read: sa-east-1.');
    await expect(
      source().fetch(parsePrincipal('user:half'), auditWindow({ since: '1d' }, now), {
        regions: ['sa-east-1'],
        signal: AbortSignal.timeout(5000),
      }),
    ).rejects.toThrow(/none of the requested regions is configured/);
  });

  it('counts malformed events instead of crashing, and reads odd fields as unknown', async () => {
    const base = { name: 'ListBuckets', source: 's3.amazonaws.com', username: 'odd', resources: [] };
    fake.cloudtrail.addStored('111111111111', 'eu-west-1', [
      { ...base, id: 'bad-1', time: now - 3600_000, cloudTrailEvent: 'not json {' },
      { ...base, id: 'bad-2', time: now - 3500_000, cloudTrailEvent: '[1,2,3]' },
      {
        ...base,
        id: 'odd-1',
        time: now - 3400_000,
        cloudTrailEvent: JSON.stringify({
          userIdentity: 'weird',
          sourceIPAddress: 42,
          userAgent: null,
          requestParameters: [1],
          readOnly: 'yes',
        }),
      },
      {
        ...base,
        id: 'ok-1',
        time: now - 3300_000,
        cloudTrailEvent: JSON.stringify({ eventName: 'ListBuckets', sourceIPAddress: '192.0.2.1' }),
      },
    ]);
    const res = await source(config({ regions: ['eu-west-1'] })).fetch(
      parsePrincipal('user:odd'),
      auditWindow({ since: '1d' }, now),
      {
        signal: AbortSignal.timeout(15_000),
      },
    );
    expect(res.unreadable).toBe(2);
    expect(res.regions[0]?.unreadable).toBe(2);
    expect(res.events.map((e) => e.id).sort()).toEqual(['odd-1', 'ok-1']);
    const odd = res.events.find((e) => e.id === 'odd-1');
    expect(odd?.sourceIp).toBeUndefined();
    expect(odd?.readOnly).toBeUndefined();
    expect(res.notes.join(' ')).toMatch(/2 event\(s\) could not be read/);
  });

  it('stops at once when cancelled', async () => {
    fake.cloudtrail.addRecords(
      bulkRecords({
        count: 500,
        regions: ['eu-west-1'],
        user: 'slow',
        from: now - DAY_MS,
        to: now - 1000,
        seed: 5,
      }),
    );
    const ctl = new AbortController();
    const cfg = config({ regions: ['eu-west-1'], audit: { requestsPerSecond: 2 } });
    const p = source(cfg).fetch(parsePrincipal('user:slow'), auditWindow({ since: '1d' }, now), {
      signal: ctl.signal,
      onProgress: (x) => {
        if (x.pages === 1) ctl.abort(new Error('cancelled by test'));
      },
    });
    await expect(p).rejects.toThrow('cancelled by test');
  });

  it('audits another account through an assumed role', async () => {
    const other = '222222222222';
    fake.cloudtrail.addRecords(
      bulkRecords({
        count: 12,
        regions: ['eu-west-1'],
        user: 'x-account',
        from: now - DAY_MS,
        to: now - 1000,
        seed: 6,
      }).map((r) => ({
        ...r,
        recipientAccountId: other,
      })),
    );
    const cfg = config({
      regions: ['eu-west-1'],
      accounts: [{ id: other, roleArn: `arn:aws:iam::${other}:role/scope-audit` }],
    });
    const res = await source(cfg).fetch(parsePrincipal('user:x-account'), auditWindow({ since: '1d' }, now), {
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.events).toHaveLength(12);
    expect(res.regions).toEqual([
      expect.objectContaining({ account: other, region: 'eu-west-1', events: 12 }),
    ]);
    expect(fake.count({ service: 'sts', operation: 'AssumeRole' })).toBeGreaterThan(0);
  });
});

describe('scenarios end to end (stand-in → adapter → analysis)', () => {
  it('the compromised CI role: every expected finding with its evidence', async () => {
    const sc = compromisedCiScenario();
    fake.cloudtrail.addRecords(sc.records);
    const now = sc.now.getTime();
    const window = auditWindow({}, now);
    const res = await source().fetch(parsePrincipal(`role:${sc.role}`), window, {
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.sessions).toEqual([sc.sessionName]);
    const a = analyse(res.events, window);
    const by = (rule: string, detail?: (d: Record<string, string | number>) => boolean) =>
      a.findings.filter((f) => f.rule === rule && (!detail || detail(f.evidence.details)));
    expect(by('high-risk-call', (d) => d.call === 'cloudtrail.amazonaws.com:StopLogging')[0]).toMatchObject({
      severity: 'critical',
      evidence: { eventIds: [sc.stopLoggingEventId], count: 1 },
    });
    expect(a.findings[0]?.evidence.details.call).toBe('cloudtrail.amazonaws.com:StopLogging');
    expect(
      by('high-risk-call', (d) => d.call === 'iam.amazonaws.com:CreateAccessKey')[0]?.evidence.eventIds,
    ).toEqual([sc.createdKey.eventId]);
    expect(
      by('high-risk-call', (d) => d.call === 'secretsmanager.amazonaws.com:GetSecretValue')[0]?.evidence,
    ).toMatchObject({
      eventIds: sc.secretReadEventIds,
      details: { regions: 'ap-southeast-2' },
    });
    expect(by('high-risk-call', (d) => d.category === 'role-chaining')).toHaveLength(1);
    expect(
      by('new-region')
        .map((f) => f.evidence.details.region)
        .sort(),
    ).toEqual(['ap-southeast-2', 'us-east-1']);
    expect(by('new-network')[0]?.evidence.details.addresses).toBe(sc.attackerIp);
    expect(by('new-user-agent')[0]?.evidence.details.family).toBe('boto3');
    const denied = by('denied-burst');
    expect(denied.map((f) => f.evidence.count).sort()).toEqual([3, 6]);
    expect(denied.flatMap((f) => f.evidence.eventIds).sort()).toEqual([...sc.deniedEventIds].sort());
    expect(a.credentials.created).toEqual([
      expect.objectContaining({ user: 'backup-admin', accessKeyId: sc.createdKey.accessKeyId }),
    ]);
    expect(a.credentials.rolesAssumed.map((r) => r.roleArn)).toEqual([sc.chainedRole]);
    expect(a.credentials.used.find((u) => u.accessKeyId === sc.stolenKey)?.sourceIps).toContain(
      sc.attackerIp,
    );
  });

  it('the clean principal: no findings', async () => {
    const sc = cleanScenario();
    fake.cloudtrail.addRecords(sc.records);
    const window = auditWindow({}, sc.now.getTime());
    const res = await source().fetch(parsePrincipal(`user:${sc.user}`), window, {
      signal: AbortSignal.timeout(20_000),
    });
    const a = analyse(res.events, window);
    expect(res.events.length).toBe(sc.records.length);
    expect(a.window.events).toBe(6);
    expect(a.findings).toEqual([]);
  });
});
