import { describe, expect, it } from 'vitest';
import { PacedLimiter } from '../../src/adapters/aws/limiter.ts';
import { parseLookupEntry } from '../../src/domain/audit/event.ts';
import { parsePrincipal } from '../../src/domain/audit/principal.ts';
import { parseAuditArgs, validateAuditRequest } from '../../src/domain/audit/request.ts';
import { networkOf, userAgentFamily } from '../../src/domain/audit/rules.ts';
import { auditWindow, DAY_MS } from '../../src/domain/audit/window.ts';
import { parseCommand } from '../../src/domain/command.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');

describe('principals', () => {
  it.each([
    ['user:alice', { kind: 'user', name: 'alice' }],
    ['role:ci-deploy', { kind: 'role', name: 'ci-deploy' }],
    ['arn:aws:iam::111111111111:role/path/ci-deploy', { kind: 'role', name: 'ci-deploy' }],
    ['arn:aws:iam::111111111111:user/bob', { kind: 'user', name: 'bob' }],
    ['AKIAIOSFODNN7EXAMPLE', { kind: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE' }],
    ['ASIAIOSFODNN7EXAMPLE', { kind: 'access-key', id: 'ASIAIOSFODNN7EXAMPLE' }],
    ['resource:arn:aws:s3:::bucket', { kind: 'resource', name: 'arn:aws:s3:::bucket' }],
  ])('%s', (text, want) => expect(parsePrincipal(text)).toEqual(want));
  it.each(['alice', 'user:', 'role:bad name', 'AKIAshort', 'user:a/b', 'group:x'])('refuses %s', (text) =>
    expect(() => parsePrincipal(text)).toThrow(/not a principal/),
  );
});

describe('windows', () => {
  it('defaults to the last 24 h with a 14-day baseline', () => {
    expect(auditWindow({}, NOW)).toEqual({
      since: NOW - DAY_MS,
      until: NOW,
      baselineStart: NOW - 15 * DAY_MS,
      baselineClamped: false,
    });
  });
  it('takes durations and ISO timestamps', () => {
    expect(auditWindow({ since: '7d', until: '2h' }, NOW)).toMatchObject({
      since: NOW - 7 * DAY_MS,
      until: NOW - 2 * 3_600_000,
    });
    expect(auditWindow({ since: '2026-11-19T00:00:00Z' }, NOW).since).toBe(
      Date.parse('2026-11-19T00:00:00Z'),
    );
  });
  it('clamps the baseline to the 90 days CloudTrail keeps', () => {
    const w = auditWindow({ since: '85d' }, NOW);
    expect(w).toMatchObject({ baselineStart: NOW - 90 * DAY_MS, baselineClamped: true });
  });
  it.each([
    [{ since: '91d' }, /90 days/],
    [{ since: '1h', until: '2h' }, /before --until/],
    [{ since: 'yesterday' }, /neither a duration/],
    [{ since: '2026-11-19' + 'T00:00:00' }, /neither a duration/],
  ])('refuses %j', (opts, msg) => expect(() => auditWindow(opts, NOW)).toThrow(msg));
});

describe('the audit command', () => {
  it('parses flags in both forms', () => {
    expect(
      parseAuditArgs(['role:ci', '--since', '7d', '--until=1h', '--regions', 'eu-west-1,us-east-1'], NOW),
    ).toEqual({
      principal: 'role:ci',
      since: '7d',
      until: '1h',
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(parseCommand('audit user:alice')).toEqual({ name: 'audit', request: { principal: 'user:alice' } });
  });
  it.each([
    [['role:ci', '--foo', 'x'], /unknown option/],
    [['role:ci', '--since'], /needs a value/],
    [['role:ci', 'role:other'], /exactly one principal/],
    [['role:ci', '--regions', 'mars-1'], /not an AWS region/],
    [['role:ci', '--since', '1d', '--since', '2d'], /twice/],
  ])('refuses %j', (args, msg) => expect(() => parseAuditArgs(args, NOW)).toThrow(msg));
  it('re-validates job data read back from the queue', () => {
    expect(() => validateAuditRequest({ principal: 42 })).toThrow(/no principal/);
    expect(() => validateAuditRequest({ principal: 'user:a', regions: 'eu-west-1' })).toThrow(/regions/);
  });
  it('shows the usage when the principal is missing', () => {
    expect(() => parseCommand('audit')).toThrow(/needs/);
  });
});

describe('event parsing and classification', () => {
  const where = { account: '111111111111', region: 'eu-west-1' };
  it('reads the documented record', () => {
    const e = parseLookupEntry(
      {
        EventId: 'id-1',
        EventName: 'CreateAccessKey',
        EventTime: new Date(NOW),
        CloudTrailEvent: JSON.stringify({
          eventSource: 'iam.amazonaws.com',
          awsRegion: 'us-east-1',
          userIdentity: {
            type: 'AssumedRole',
            arn: 'arn:aws:sts::1:assumed-role/ci/GitHubActions',
            accessKeyId: 'ASIAX',
          },
          requestParameters: { userName: 'backup-admin' },
          responseElements: { accessKey: { accessKeyId: 'AKIANEW', userName: 'backup-admin' } },
          readOnly: false,
        }),
      },
      where,
    );
    expect(e).toMatchObject({
      region: 'us-east-1',
      sessionName: 'GitHubActions',
      createdKey: { user: 'backup-admin', accessKeyId: 'AKIANEW' },
      target: 'backup-admin',
      readOnly: false,
    });
  });
  it.each(['', 'null', '"text"', '[]', '{'])('counts %j as unreadable', (raw) => {
    expect(
      parseLookupEntry(
        { EventId: 'x', EventName: 'Y', EventTime: new Date(NOW), CloudTrailEvent: raw },
        where,
      ),
    ).toBeUndefined();
  });
  it('needs an id, a name and a time', () => {
    expect(parseLookupEntry({ CloudTrailEvent: '{}' }, where)).toBeUndefined();
  });
  it.each([
    ['aws-cli/2.15.30 Python/3.11', 'aws-cli'],
    ['Boto3/1.34.11 md/Botocore#1.34.11', 'boto3'],
    ['aws-sdk-go-v2/1.24.0 os/linux', 'aws-sdk-go-v2'],
    ['[aws-sdk-js/3.500.0]', 'aws-sdk-js'],
    ['APN/1.0 HashiCorp/1.0 Terraform/1.6.0', 'terraform'],
    ['ecs.amazonaws.com', 'aws-service:ecs.amazonaws.com'],
    [undefined, 'unknown'],
  ])('user agent %s is family %s', (ua, fam) => expect(userAgentFamily(ua)).toBe(fam));
  it.each([
    ['198.51.100.23', '198.51.100.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['ecs.amazonaws.com', 'service:ecs.amazonaws.com'],
  ])('address %s is network %s', (ip, net) => expect(networkOf(ip)).toBe(net));
});

describe('the paced limiter', () => {
  it('spaces requests evenly at the rate, without bursts', () => {
    let now = 1000;
    const l = new PacedLimiter(2, { now: () => now });
    expect([l.reserve(), l.reserve(), l.reserve()]).toEqual([0, 500, 1000]);
    now += 5000;
    expect(l.reserve()).toBe(0);
  });
  it('backs off exponentially with jitter when throttled, and resets on success', () => {
    let now = 0;
    const l = new PacedLimiter(2, { now: () => now, random: () => 1 });
    expect(l.throttled()).toBe(1000);
    expect(l.throttled()).toBe(2000);
    expect(l.reserve()).toBe(2000);
    l.succeeded();
    now = 10_000;
    expect(l.throttled()).toBe(1000);
  });
});
