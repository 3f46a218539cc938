import { describe, expect, it } from 'vitest';
import type { Advisory, AffectedPackage } from '../../../src/domain/advisories/model.ts';
import { parseOsvDocument, parseOsvRecord } from '../../../src/domain/advisories/osv.ts';
import { isAffected } from '../../../src/domain/advisories/ranges.ts';

const pkg = (ecosystem: string, name: string, extra: Record<string, unknown>) => ({
  package: { ecosystem, name },
  ...extra,
});
const osv = (id: string, affected: unknown[], more: Record<string, unknown> = {}) => ({
  id,
  modified: '2026-11-01T00:00:00Z',
  summary: `${id} summary`,
  affected,
  ...more,
});
function parse(rec: unknown): Advisory {
  const r = parseOsvRecord(rec, 'test');
  if ('why' in r) throw new Error(r.why);
  return r;
}
const first = (a: Advisory) => a.packages[0] as AffectedPackage;

describe('OSV parsing', () => {
  it('reads a malicious-package record with introduced "0" (every version)', () => {
    const a = parse(
      osv('MAL-2025-1234', [
        pkg('npm', 'evil-pkg', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }),
      ]),
    );
    expect(a.severity).toBe('critical');
    expect(isAffected(first(a), '0.0.1')).toBe('affected');
    expect(isAffected(first(a), '99.0.0-beta.1')).toBe('affected');
  });

  it('fixed excludes, last_affected includes its own version', () => {
    const fixed = first(
      parse(
        osv('GHSA-aaaa-bbbb-cccc', [
          pkg('npm', 'lib', {
            ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.4.2' }] }],
          }),
        ]),
      ),
    );
    expect(isAffected(fixed, '0.9.9')).toBe('not-affected');
    expect(isAffected(fixed, '1.0.0')).toBe('affected');
    expect(isAffected(fixed, '1.4.2-rc.1')).toBe('affected');
    expect(isAffected(fixed, '1.4.2')).toBe('not-affected');
    const last = first(
      parse(
        osv('GHSA-aaaa-bbbb-dddd', [
          pkg('npm', 'lib', {
            ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.2' }] }],
          }),
        ]),
      ),
    );
    expect(isAffected(last, '1.4.2')).toBe('affected');
    expect(isAffected(last, '1.4.3')).toBe('not-affected');
  });

  it('pre-releases: a pre-release of the introduced version is before the range', () => {
    const p = first(
      parse(
        osv('GHSA-pre1-pre1-pre1', [
          pkg('npm', 'x', {
            ranges: [{ type: 'SEMVER', events: [{ introduced: '2.0.0' }, { fixed: '2.1.0' }] }],
          }),
        ]),
      ),
    );
    expect(isAffected(p, '2.0.0-beta.3')).toBe('not-affected');
    expect(isAffected(p, '2.1.0-alpha')).toBe('affected');
  });

  it('several ranges and explicit versions', () => {
    const p = first(
      parse(
        osv('GHSA-mult-mult-mult', [
          pkg('PyPI', 'Requests', {
            ranges: [
              { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2' }] },
              { type: 'ECOSYSTEM', events: [{ introduced: '2.0' }, { fixed: '2.0.3' }] },
            ],
            versions: ['3.0b1'],
          }),
        ]),
      ),
    );
    expect(p.name).toBe('requests');
    expect(isAffected(p, '1.1')).toBe('affected');
    expect(isAffected(p, '1.5')).toBe('not-affected');
    expect(isAffected(p, '2.0.2')).toBe('affected');
    expect(isAffected(p, '2.0.3')).toBe('not-affected');
    expect(isAffected(p, '3.0b1')).toBe('affected');
  });

  it('Debian ranges use dpkg order: a ~ backport is below the fixed version', () => {
    const p = first(
      parse(
        osv('DSA-5532-1', [
          pkg('Debian:12', 'openssl', {
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }] }],
          }),
        ]),
      ),
    );
    expect(p.ecosystem).toBe('debian');
    expect(isAffected(p, '3.0.11-1~deb12u1')).toBe('affected');
    expect(isAffected(p, '3.0.11-1~deb12u2')).toBe('not-affected');
    expect(isAffected(p, '3.0.11-1')).toBe('not-affected');
  });

  it('Go module versions with a v prefix against a SEMVER range', () => {
    const p = first(
      parse(
        osv('GO-2025-0001', [
          pkg('Go', 'github.com/foo/bar', {
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.4' }] }],
          }),
        ]),
      ),
    );
    expect(isAffected(p, 'v1.2.3')).toBe('affected');
    expect(isAffected(p, 'v1.2.4')).toBe('not-affected');
  });

  it('GIT ranges are ignored with a note; an ecosystem scope cannot order gives unknown, not safe', () => {
    const a = parse(
      osv('OSV-2025-9', [
        pkg('npm', 'g', { ranges: [{ type: 'GIT', repo: 'https://x', events: [{ introduced: 'abc' }] }] }),
        pkg('crates.io', 'c', {
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
        }),
      ]),
    );
    expect(a.notes.join(' ')).toContain('GIT range of g ignored');
    expect(isAffected(a.packages[0] as AffectedPackage, '1.0.0')).toBe('unknown');
    expect(isAffected(a.packages[1] as AffectedPackage, '0.5.0')).toBe('unknown');
  });

  it('a version that does not parse is unknown, not safe', () => {
    const p = first(
      parse(
        osv('GHSA-unkn-unkn-unkn', [
          pkg('npm', 'x', { ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }] }] }),
        ]),
      ),
    );
    expect(isAffected(p, 'not-a-version')).toBe('unknown');
  });

  it('keeps withdrawn records (for display) with the withdrawn date', () => {
    const a = parse(
      osv('GHSA-with-draw-n000', [pkg('npm', 'x', { versions: ['1.0.0'] })], {
        withdrawn: '2026-11-02T00:00:00Z',
      }),
    );
    expect(a.withdrawn).toBe('2026-11-02T00:00:00Z');
  });

  it('reports malformed records with the reason and keeps the rest', () => {
    const out = parseOsvDocument(
      [
        osv('GHSA-good-good-good', [pkg('npm', 'ok', { versions: ['1.0.0'] })]),
        { summary: 'no id' },
        osv('GHSA-bad1-bad1-bad1', [
          pkg('npm', 'x', { ranges: [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }] }),
        ]),
        osv('GHSA-bad2-bad2-bad2', [
          pkg('npm', 'x', { ranges: [{ type: 'RANDOM', events: [{ introduced: '0' }] }] }),
        ]),
        osv('GHSA-bad3-bad3-bad3', [
          pkg('npm', 'x', { ranges: [{ type: 'SEMVER', events: [{ introduced: 5 }] }] }),
        ]),
        osv('GHSA-bad4-bad4-bad4', [{ package: { name: 'x' } }]),
        osv('GHSA-bad5-bad5-bad5', [], { modified: 'yesterday' }),
        'text',
      ],
      'feed-a',
    );
    expect(out.advisories.map((a) => a.id)).toEqual(['GHSA-good-good-good']);
    expect(out.problems.map((p) => [p.record, p.why.split(' ')[0]])).toEqual([
      ['#2', 'missing'],
      ['GHSA-bad1-bad1-bad1', 'affected[0]:'],
      ['GHSA-bad2-bad2-bad2', 'affected[0]:'],
      ['GHSA-bad3-bad3-bad3', 'affected[0]:'],
      ['GHSA-bad4-bad4-bad4', 'affected[0]:'],
      ['GHSA-bad5-bad5-bad5', '"modified"'],
      ['#8', 'not'],
    ]);
    expect(out.problems.every((p) => p.source === 'feed-a')).toBe(true);
    expect(out.problems[1]?.why).toContain('no "introduced"');
  });

  it('reads {vulns: [...]} documents and database_specific severity', () => {
    const out = parseOsvDocument(
      {
        vulns: [
          osv('GHSA-sev0-sev0-sev0', [pkg('npm', 'x', { versions: ['1'] })], {
            database_specific: { severity: 'MODERATE' },
          }),
        ],
      },
      'f',
    );
    expect(out.advisories[0]?.severity).toBe('medium');
  });
});
