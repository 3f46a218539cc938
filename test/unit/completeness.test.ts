import { describe, expect, it } from 'vitest';
import { caveatsFor, coverageOf } from '../../src/domain/inventory/completeness.ts';
import {
  buildDigestReport,
  buildImageReport,
  buildWhereReport,
} from '../../src/domain/inventory/fleet-report.ts';
import type { ClusterSyncState } from '../../src/jobs/status.ts';
import { clusterStatus } from '../../src/jobs/status.ts';
import { present } from '../../src/render/present.ts';
import { toSlack } from '../../src/render/slack-blocks.ts';
import { toTerminal } from '../../src/render/terminal.ts';

const NOW = new Date('2026-11-25T03:30:00Z');
const D = `sha256:${'8e6b'.repeat(16)}`;
const ctx = { commandText: '/scope digest x', now: NOW };

const ok = (cluster: string): ClusterSyncState => ({
  cluster,
  environment: 'prod',
  state: 'ok',
  lastSuccessAt: '2026-11-25T03:20:00Z',
});
const never = (cluster: string): ClusterSyncState => ({ cluster, environment: 'dev', state: 'never' });
const down = (cluster: string): ClusterSyncState => ({
  cluster,
  environment: 'prod',
  state: 'error',
  lastSuccessAt: '2026-11-25T03:12:00Z',
  lastAttemptAt: '2026-11-25T03:25:00Z',
  lastError: 'connect ECONNREFUSED 10.0.0.9:443',
});

const coverage = (states: ClusterSyncState[]) => coverageOf(states, caveatsFor(states, NOW));

describe('coverageOf', () => {
  it('is complete only when every cluster answered recently', () => {
    expect(coverage([ok('a'), ok('b')])).toEqual({
      completeness: 'complete',
      clustersAnswered: 2,
      clustersTotal: 2,
    });
  });

  it('is partial when some clusters failed, never synced or are stale', () => {
    expect(coverage([ok('a'), down('b'), never('c')])).toEqual({
      completeness: 'partial',
      clustersAnswered: 1,
      clustersTotal: 3,
    });
    const stale = { ...ok('s'), lastSuccessAt: '2026-11-24T20:00:00Z' };
    expect(coverage([ok('a'), stale]).completeness).toBe('partial');
  });

  it('is unknown when no cluster ever answered, or none is configured', () => {
    expect(coverage([never('a'), never('b')]).completeness).toBe('unknown');
    expect(coverage([{ ...never('a'), state: 'error', lastError: 'forbidden' }]).completeness).toBe(
      'unknown',
    );
    expect(coverage([]).completeness).toBe('unknown');
  });
});

describe('no false all-clear', () => {
  it('says UNKNOWN, without a check mark, when no cluster has synced yet', () => {
    const r = buildDigestReport(D, [], [], [never('prod-eu'), never('dev-1')], NOW);
    expect(r.completeness).toBe('unknown');
    const m = present({ kind: 'digest', report: r }, ctx);
    const text = toTerminal(m);
    expect(text).not.toContain('✅');
    expect(text).toContain('Unknown: no cluster has answered');
    expect(text).toContain('prod-eu (never synced) and dev-1 (never synced)');
    expect(JSON.stringify(toSlack(m))).not.toContain('white_check_mark');
    expect(m.summary).toMatch(/^Unknown \(no cluster answered\): cannot tell where/);
  });

  it('says "not running" only for the clusters that answered and names the others, with since when', () => {
    const r = buildDigestReport(
      D,
      [],
      [],
      [ok('prod-eu'), ok('stage-1'), ok('dev-2'), down('prod-ap'), never('dev-1')],
      NOW,
    );
    expect(r.completeness).toBe('partial');
    const text = toTerminal(present({ kind: 'digest', report: r }, ctx));
    expect(text).not.toContain('✅');
    expect(text).toContain('is not running in the 3 clusters that answered');
    expect(text).toContain(
      'prod-ap (unreachable since 2026-11-25 03:12 UTC: connect ECONNREFUSED 10.0.0.9:443) and dev-1 (never synced) unknown',
    );
  });

  it('keeps the check mark for a complete answer', () => {
    const r = buildDigestReport(D, [], [], [ok('prod-eu'), ok('dev-1')], NOW);
    expect(toTerminal(present({ kind: 'digest', report: r }, ctx))).toContain(
      `✅ ${D} is not running in any of the 2 clusters`,
    );
  });

  it('applies to image and where answers', () => {
    const img = buildImageReport('docker.io/vendor/agent', '5.2', [], new Map(), [down('prod-ap')], NOW);
    expect(img.completeness).toBe('unknown');
    const imgText = toTerminal(present({ kind: 'image', report: img }, ctx));
    expect(imgText).not.toContain('✅');
    expect(imgText).toContain('Unknown');
    const where = buildWhereReport('prod-ap/payments', [], [], [never('prod-ap')], NOW);
    expect(where.completeness).toBe('unknown');
    expect(toTerminal(present({ kind: 'where', report: where }, ctx))).toContain(
      'Unknown: the cluster has not answered',
    );
  });

  it('status heads with the completeness of the inventory', () => {
    const report = { queues: [], workers: [], ...clusterStatus([never('a'), never('b')], NOW) };
    expect(report.completeness).toBe('unknown');
    expect(toTerminal(present({ kind: 'status', report }, ctx))).toContain(
      '❓ Inventory unknown: no cluster has answered yet',
    );
    const partial = { queues: [], workers: [], ...clusterStatus([ok('a'), down('b')], NOW) };
    expect(toTerminal(present({ kind: 'status', report: partial }, ctx))).toContain(
      'Inventory partial: 1 of 2 clusters answering',
    );
  });
});
