// Edge cases found by mutation testing (npm run mutation): each test here kills a mutant that survived the
// rest of the suite. They pin boundaries and orderings the answers depend on.
import { describe, expect, it } from 'vitest';
import { mergeHistory } from '../../src/domain/inventory/fleet-report.ts';
import { parseImageRef } from '../../src/domain/inventory/image-ref.ts';
import { environmentRank } from '../../src/domain/inventory/inventory.ts';
import { csv, csvCell } from '../../src/render/csv.ts';

describe('registry port bounds', () => {
  it.each([
    ['reg.example.com:1/a:1', true],
    ['reg.example.com:65535/a:1', true],
    ['reg.example.com:65536/a:1', false],
    ['reg.example.com:0/a:1', false],
    ['reg.example.com:123456/a:1', false],
  ])('%s parses: %s', (ref, ok) => {
    if (ok) expect(parseImageRef(ref).registry).toBe(ref.split('/')[0]);
    else expect(() => parseImageRef(ref)).toThrow(/port/);
  });
});

describe('localhost is a registry host whatever its case', () => {
  it.each(['localhost', 'LOCALHOST', 'LocalHost'])('%s/team/app:1', (host) => {
    const ref = parseImageRef(`${host}/team/app:1`);
    expect(ref.registry.toLowerCase()).toBe('localhost');
    expect(ref.repository).toBe('team/app');
  });
});

describe('environment order: production first, development last', () => {
  it.each([
    ['prod', 0],
    ['production', 0],
    ['PROD-EU', 0],
    ['staging', 1],
    ['stage', 1],
    ['preprod', 1],
    ['uat', 1],
    ['UAT', 1],
    ['dev', 3],
    ['development', 3],
    ['test', 3],
    ['qa', 3],
    ['QA', 3],
    ['sandbox', 2],
    ['unknown', 2],
    ['testing', 2],
  ])('%s → %i', (env, rank) => expect(environmentRank(env)).toBe(rank));
});

describe('mergeHistory', () => {
  const base = {
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'payments',
    workload: { kind: 'Deployment', name: 'api' },
    digest: `sha256:${'1'.repeat(64)}`,
    image: 'registry.example.com/payments/api:1',
    firstSeen: '2026-11-20T00:00:00Z',
    lastSeen: '2026-11-21T00:00:00Z',
  };
  it('a workload known only from history does not run now, even when history says it did', () => {
    const [use] = mergeHistory([], [{ ...base, running: true }] as Parameters<typeof mergeHistory>[1]);
    expect(use?.running).toBe(false);
    expect(use?.pods).toBe(0);
    expect(use?.lastSeen).toBe('2026-11-21T00:00:00Z');
  });
});

describe('CSV cells cannot run as formulas or break rows', () => {
  it.each([
    ['=cmd()', "'=cmd()"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=cmd()', "'\t=cmd()"],
    ['\r=cmd()', `"'\r=cmd()"`],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    ['plain', 'plain'],
  ])('%j → %j', (input, expected) => expect(csvCell(input)).toBe(expected));

  it('joins rows with a trailing newline and renders undefined as empty', () => {
    expect(csv([['a', 1, true, undefined]])).toBe('a,1,true,\n');
  });
});

describe('digest results list what runs now before what ran, within a cluster', () => {
  it('running workload first, even when a past one sorts earlier by name', async () => {
    const { buildDigestReport } = await import('../../src/domain/inventory/fleet-report.ts');
    const digest = `sha256:${'2'.repeat(64)}`;
    const repo = 'registry.example.com/payments/api';
    const pod = {
      cluster: 'prod-eu',
      environment: 'prod',
      namespace: 'payments',
      name: 'zeta-1',
      uid: 'u1',
      node: 'n1',
      phase: 'Running',
      startTime: '2026-11-24T09:59:00Z',
      workload: { kind: 'Deployment', name: 'zeta' },
      containers: [
        {
          name: 'api',
          type: 'container',
          image: `${repo}:1`,
          repository: repo,
          tag: '1',
          digest,
          startedAt: '2026-11-24T10:00:00Z',
        },
      ],
    };
    const past = {
      cluster: 'prod-eu',
      environment: 'prod',
      namespace: 'payments',
      workload: { kind: 'Deployment', name: 'alpha' },
      digest,
      image: `${repo}:1`,
      firstSeen: '2026-11-20T00:00:00Z',
      lastSeen: '2026-11-21T00:00:00Z',
      running: false,
    };
    const pods = ['zeta', 'yank'].map((name) => ({
      ...pod,
      name: `${name}-1`,
      workload: { kind: 'Deployment', name },
    }));
    const pasts = ['alpha', 'beta', 'gamma'].map((name) => ({
      ...past,
      workload: { kind: 'Deployment', name },
    }));
    const report = buildDigestReport(
      digest,
      pods as unknown as Parameters<typeof buildDigestReport>[1],
      pasts as Parameters<typeof buildDigestReport>[2],
      [],
      new Date('2026-11-25T00:00:00Z'),
    );
    const uses = report.environments[0]?.uses ?? [];
    expect(uses.map((u) => [u.workload.name, u.running])).toEqual([
      ['yank', true],
      ['zeta', true],
      ['alpha', false],
      ['beta', false],
      ['gamma', false],
    ]);
  });
});
