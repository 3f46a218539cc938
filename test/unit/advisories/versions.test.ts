import { describe, expect, it } from 'vitest';
import { DPKG, MAVEN, orderFor, PEP440, SEMVER } from '../../../src/domain/advisories/versions.ts';

const sign = (n: number | undefined) => (n === undefined ? undefined : Math.sign(n));

describe('version ordering per ecosystem', () => {
  it.each([
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-alpha.beta', '1.0.0-beta', -1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-beta.11', '1.0.0-beta.2', 1],
    ['v1.2.3', '1.2.3', 0],
    ['1.2.3+build.7', '1.2.3', 0],
    ['v0.0.0-20200101000000-abcdefabcdef', 'v0.0.1', -1],
  ])('semver %s vs %s', (a, b, want) => {
    expect(sign(SEMVER.compare(a, b))).toBe(want);
  });

  it('semver says unknown for versions it cannot parse', () => {
    expect(SEMVER.compare('1.2', '1.2.0')).toBeUndefined();
    expect(SEMVER.compare('latest', '1.0.0')).toBeUndefined();
  });

  it.each([
    ['1.0a1', '1.0', -1],
    ['1.0.dev1', '1.0a1', -1],
    ['1.0', '1.0.post1', -1],
    ['1!0.1', '2.0', 1],
    ['1.0', '1.0.0', 0],
    ['2.0rc1', '2.0', -1],
    ['1.0+local.1', '1.0', 1],
  ])('PEP 440 %s vs %s', (a, b, want) => {
    expect(sign(PEP440.compare(a, b))).toBe(want);
  });

  it.each([
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~', -1],
    ['1:0.9', '2.0', 1],
    ['2.30-1', '2.4-1', 1],
    ['3.0.11-1~deb12u2', '3.0.11-1', -1],
    ['3.0.11-1', '3.0.11-1+deb12u1', -1],
    ['1.0a', '1.0+', -1],
    ['0:1.0-1', '1.0-1', 0],
    ['1.0-1', '1.0-1.1', -1],
  ])('dpkg %s vs %s', (a, b, want) => {
    expect(sign(DPKG.compare(a, b))).toBe(want);
  });

  it.each([
    ['1.0-alpha-1', '1.0-beta-1', -1],
    ['1.0-rc1', '1.0', -1],
    ['1.0-SNAPSHOT', '1.0', -1],
    ['1.0', '1.0.0', 0],
    ['1.0.RELEASE', '1.0', 0],
    ['1.0-sp1', '1.0', 1],
    ['2.17.0', '2.9.1', 1],
    ['1.0-M1', '1.0-RC1', -1],
    ['1.0-cr1', '1.0-rc1', 0],
  ])('maven %s vs %s', (a, b, want) => {
    expect(sign(MAVEN.compare(a, b))).toBe(want);
  });

  it('picks the order from the OSV ecosystem name, release suffix ignored', () => {
    expect(orderFor('Debian:12')?.name).toBe('dpkg');
    expect(orderFor('PyPI')?.name).toBe('pep440');
    expect(orderFor('Go')?.name).toBe('semver');
    expect(orderFor('crates.io')).toBeUndefined();
  });
});
