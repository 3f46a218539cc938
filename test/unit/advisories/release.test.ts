import { describe, expect, it } from 'vitest';
import { ComponentIndex } from '../../../src/domain/advisories/component-index.ts';
import type { Advisory } from '../../../src/domain/advisories/model.ts';
import { parseOsvRecord } from '../../../src/domain/advisories/osv.ts';
import { parsePurl } from '../../../src/domain/advisories/purl.ts';
import { checkRelease, ecosystemRelease } from '../../../src/domain/advisories/release.ts';
import { parseSbom } from '../../../src/domain/advisories/sbom.ts';

describe('OSV ecosystem release vs the purl distro qualifier', () => {
  it.each([
    // [OSV ecosystem, distro qualifier, result]
    ['Debian:12', 'debian-12', 'same'],
    ['Debian:12', 'bookworm', 'same'],
    ['Debian:12', 'debian-bookworm', 'same'],
    ['Debian:12', 'debian-12.4', 'same'],
    ['Debian:11', 'bullseye', 'same'],
    ['Debian:10', 'buster', 'same'],
    ['Debian:13', 'trixie', 'same'],
    ['Debian:11', 'debian-12', 'different'],
    ['Debian:11', 'bookworm', 'different'],
    ['Debian:12', 'debian-1', 'different'],
    ['Debian:12', 'debian-120', 'different'],
    ['Debian:13', 'bookworm', 'different'],
    ['Ubuntu:22.04:LTS', 'ubuntu-22.04', 'same'],
    ['Ubuntu:22.04:LTS', 'jammy', 'same'],
    ['Ubuntu:Pro:18.04:LTS', 'ubuntu-18.04', 'same'],
    ['Ubuntu:22.04:LTS', 'ubuntu-20.04', 'different'],
    ['Ubuntu:22.04:LTS', 'ubuntu-22.10', 'different'],
    ['Ubuntu:24.10', 'ubuntu-24.10', 'same'],
    ['Alpine:v3.18', 'alpine-3.18.4', 'same'],
    ['Alpine:v3.18', '3.18', 'same'],
    ['Alpine:v3.18', 'alpine-3.19.1', 'different'],
    ['Alpine:v3.18', 'alpine-3.1', 'different'],
    ['Alpine:v3.1', 'alpine-3.18.0', 'different'],
    ['npm', undefined, 'none'],
    ['Debian', 'debian-12', 'none'],
    ['PyPI', 'debian-12', 'none'],
    // Every Ubuntu LTS codename syft writes.
    ['Ubuntu:18.04:LTS', 'bionic', 'same'],
    ['Ubuntu:20.04:LTS', 'focal', 'same'],
    ['Ubuntu:24.04:LTS', 'noble', 'same'],
    ['Ubuntu:22.04:LTS', 'focal', 'different'],
    // Point releases, including two-digit ones, belong to their release.
    ['Debian:12', 'debian-12.10', 'same'],
    ['Alpine:v3.18', 'alpine-3.18.12', 'same'],
    ['Ubuntu:22.04:LTS', 'ubuntu-22.04.4', 'same'],
    ['Ubuntu:20.04:LTS', 'ubuntu-20.04.10', 'same'],
    ['Alpine:v10.1', 'alpine-10.1.0', 'same'],
    // Case and stray spaces do not matter, on either side.
    ['Debian:12', 'Debian-12', 'same'],
    ['Alpine:v3.18', 'ALPINE-3.18.4', 'same'],
    ['Debian:12', ' debian-12 ', 'same'],
    ['Debian : 12', 'debian-12', 'same'],
  ])('%s vs distro=%s → %s', (eco, distro, result) => {
    expect(checkRelease(eco, distro).result).toBe(result);
  });

  it.each([
    ['Debian:12', undefined, 'no-distro'],
    ['Debian:12', '', 'no-distro'],
    ['Debian:12', 'ubuntu-22.04', 'unreadable-distro'],
    ['Debian:12', 'sid-ish', 'unreadable-distro'],
    ['Alpine:v3.18', 'edge', 'unreadable-distro'],
    ['Debian:unstable', 'debian-12', 'unreadable-advisory'],
    ['Debian:12', '   ', 'no-distro'],
    // Near misses: a release is read from the whole value, never from a piece of it.
    ['Debian:12', 'x86_64-debian-12', 'unreadable-distro'],
    ['Debian:12', 'debian-1012', 'unreadable-distro'],
    ['Debian:12', 'debian-12-slim', 'unreadable-distro'],
    ['Alpine:v3.18', 'alpine-edge-3.18', 'unreadable-distro'],
    ['Alpine:v3.18', 'alpine-3.18_rc1', 'unreadable-distro'],
    ['Ubuntu:22.04:LTS', 'ubuntu-122.04', 'unreadable-distro'],
    ['Ubuntu:22.04:LTS', 'ubuntu-22.04-lts', 'unreadable-distro'],
  ])('%s vs distro=%s cannot be checked (%s)', (eco, distro, why) => {
    expect(checkRelease(eco, distro)).toMatchObject({ result: 'unchecked', why });
  });

  it('an unreadable distro is echoed back, cut to 64 characters', () => {
    expect(checkRelease('Debian:12', 'sid-ish')).toEqual({
      result: 'unchecked',
      why: 'unreadable-distro',
      distro: 'sid-ish',
    });
    expect(checkRelease('Debian:12', 'x'.repeat(100))).toEqual({
      result: 'unchecked',
      why: 'unreadable-distro',
      distro: 'x'.repeat(64),
    });
  });

  it('reads the release out of each OSV ecosystem form', () => {
    expect(ecosystemRelease('Debian:12')).toEqual({ family: 'debian', release: '12' });
    expect(ecosystemRelease('Ubuntu:22.04:LTS')).toEqual({ family: 'ubuntu', release: '22.04' });
    expect(ecosystemRelease('Alpine:v3.18')).toEqual({ family: 'alpine', release: '3.18' });
    expect(ecosystemRelease('Debian')).toBeUndefined();
  });

  it('the purl keeps its distro qualifier (identity still ignores qualifiers)', () => {
    const p = parsePurl(
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12',
    );
    expect(p).toMatchObject({ distro: 'debian-12', identity: { ecosystem: 'debian', name: 'libssl3' } });
    expect(parsePurl('pkg:npm/lodash@4.17.20')).not.toHaveProperty('distro');
  });
});

function osv(ecosystems: string[]): Advisory {
  const r = parseOsvRecord(
    {
      id: 'DSA-0000-1',
      modified: '2026-11-01T00:00:00Z',
      affected: ecosystems.map((ecosystem) => ({
        package: { ecosystem, name: 'openssl' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.99' }] }],
      })),
    },
    'test',
  );
  if ('why' in r) throw new Error(r.why);
  return r;
}

function indexOf(purl: string): ComponentIndex {
  const i = new ComponentIndex();
  i.add(
    'img',
    parseSbom({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'libssl3', purl }] }, 'x'),
  );
  return i;
}

describe('package matching follows the release', () => {
  const pkg = (distro?: string) =>
    `pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl${distro ? `&distro=${distro}` : ''}`;

  it('near miss: a Debian:11 advisory does not match the same package and version from Debian 12', () => {
    expect(indexOf(pkg('debian-12')).match(osv(['Debian:11']))).toEqual([]);
    expect(indexOf(pkg('bookworm')).match(osv(['Debian:11']))).toEqual([]);
  });

  it('the same release matches, with nothing left unchecked', () => {
    const m = indexOf(pkg('bookworm')).match(osv(['Debian:12']));
    expect(m).toHaveLength(1);
    expect(m[0]).not.toHaveProperty('releaseUnchecked');
  });

  it('a record for several releases matches the one the package is from (once)', () => {
    expect(indexOf(pkg('debian-12')).match(osv(['Debian:11', 'Debian:12']))).toHaveLength(1);
  });

  it('an SBOM without a distro qualifier still matches, and says the release was not checked', () => {
    const m = indexOf(pkg()).match(osv(['Debian:11']));
    expect(m).toHaveLength(1);
    expect(m[0]?.releaseUnchecked).toEqual({ ecosystem: 'Debian:11', why: 'no-distro' });
  });
});
