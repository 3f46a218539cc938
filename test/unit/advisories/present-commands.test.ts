import { describe, expect, it } from 'vitest';
import { diffMatches } from '../../../src/domain/advisories/changes.ts';
import type { Finding } from '../../../src/domain/advisories/match.ts';
import type { Advisory } from '../../../src/domain/advisories/model.ts';
import { parseCommand } from '../../../src/domain/command.ts';
import { presentAdvisoryAlert, presentChangeNote } from '../../../src/render/advisories/present-alert.ts';
import { toSlack } from '../../../src/render/slack-blocks.ts';
import { toTerminal } from '../../../src/render/terminal.ts';
import { errorOf } from '../../support/errors.ts';
import { expectGolden } from '../../support/golden.ts';

const NOW = new Date('2026-11-25T12:00:00Z');
const D = `sha256:${'8e6b'.repeat(16)}`;
const advisory: Advisory = {
  id: 'MAL-2025-1234',
  source: 'osv-npm',
  kind: 'osv',
  title: 'Malicious code in flatmap-stream <script>',
  severity: 'critical',
  references: ['https://osv.dev/vulnerability/MAL-2025-1234'],
  aliases: ['GHSA-mh6f-8j2x-4483'],
  packages: [],
  indicators: [],
  notes: [],
};
const base = {
  namespace: 'payments',
  workload: 'Deployment/api',
  image: 'registry.example.com/shop/app:2.4.0',
  digest: D,
} as const;
const findings: Finding[] = [
  {
    ...base,
    environment: 'staging',
    cluster: 'stage-1',
    state: 'current',
    via: 'package',
    certainty: 'affected',
    component: { name: 'flatmap-stream', purl: 'pkg:npm/flatmap-stream@0.1.1', version: '0.1.1' },
  },
  {
    ...base,
    environment: 'prod',
    cluster: 'prod-eu',
    state: 'current',
    via: 'package',
    certainty: 'affected',
    component: { name: 'flatmap-stream', purl: 'pkg:npm/flatmap-stream@0.1.1', version: '0.1.1' },
  },
  {
    ...base,
    environment: 'dev',
    cluster: 'dev-1',
    state: 'past',
    lastSeen: '2026-11-24T09:00:00Z',
    via: 'package',
    certainty: 'affected',
    component: { name: 'flatmap-stream', purl: 'pkg:npm/flatmap-stream@0.1.1', version: '0.1.1' },
  },
];

describe('advisory notification rendering', () => {
  it('lists environment → cluster → workload, production first, current before past (golden)', () => {
    const msg = presentAdvisoryAlert(advisory, findings, NOW);
    expectGolden('advisory-alert.slack.json', toSlack(msg));
    const text = toTerminal(msg);
    expect(text.indexOf('prod-eu')).toBeLessThan(text.indexOf('stage-1'));
    expect(text.indexOf('stage-1')).toBeLessThan(text.indexOf('dev-1'));
    expect(JSON.stringify(toSlack(msg))).toContain('&lt;script&gt;');
  });

  it('the threaded note says what changed', () => {
    const note = presentChangeNote(advisory, diffMatches([], findings.slice(0, 1)), NOW);
    expect(note.summary).toBe('MAL-2025-1234: 1 new matches, 0 gone');
  });
});

describe('advisory commands', () => {
  it('parses advisories, advisory, diff, watch and unwatch', () => {
    expect(parseCommand('advisories')).toEqual({ name: 'advisories' });
    expect(parseCommand('advisory GHSA-mh6f-8j2x-4483')).toEqual({
      name: 'advisory',
      id: 'GHSA-mh6f-8j2x-4483',
    });
    expect(parseCommand('watch')).toEqual({ name: 'watch', feed: 'all' });
    expect(parseCommand('watch osv-npm')).toEqual({ name: 'watch', feed: 'osv-npm' });
    expect(parseCommand('unwatch all')).toEqual({ name: 'unwatch', feed: 'all' });
    expect(parseCommand(`diff vendor/agent:5.1 ${D}`)).toEqual({
      name: 'diff',
      good: { repository: 'docker.io/vendor/agent', tag: '5.1', label: 'vendor/agent:5.1' },
      suspicious: { digest: D, label: D },
    });
  });

  it('rejects bad ids, feeds and images with usage', () => {
    expect(errorOf(() => parseCommand('advisory "bad id!"')).message).toContain('is not an advisory id');
    expect(errorOf(() => parseCommand('watch Bad/Feed')).message).toContain('is not a feed name');
    expect(errorOf(() => parseCommand('diff onlyone')).hint).toContain('/scope diff');
  });
});
