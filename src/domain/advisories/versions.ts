import * as pep440 from '@renovatebot/pep440';
import semver from 'semver';

/**
 * Version ordering per ecosystem. `compare` returns <0, 0, >0, or undefined when a version cannot be
 * parsed in that ecosystem's grammar (the caller then says "unknown", never "not affected").
 */
export type VersionOrder = { readonly name: string; compare(a: string, b: string): number | undefined };

/** SemVer 2.0 with pre-releases (npm, and OSV `SEMVER` ranges); a leading `v` is accepted (Go). */
export const SEMVER: VersionOrder = {
  name: 'semver',
  compare(a, b) {
    const x = parseSemver(a);
    const y = parseSemver(b);
    if (!x || !y) return undefined;
    return x.compare(y);
  },
};

/** Parsed versions are memoised (bounded): matching compares the same few versions many times. */
const semverCache = new Map<string, semver.SemVer | null>();
const CACHE_LIMIT = 100_000;

function parseSemver(v: string): semver.SemVer | null {
  let p = semverCache.get(v);
  if (p === undefined) {
    p = semver.parse(stripV(v));
    if (semverCache.size >= CACHE_LIMIT) semverCache.clear();
    semverCache.set(v, p);
  }
  return p;
}

function stripV(v: string): string {
  return v.startsWith('v') ? v.slice(1) : v;
}

/** PEP 440 (PyPI): epochs, pre/post/dev releases, local versions. */
export const PEP440: VersionOrder = {
  name: 'pep440',
  compare(a, b) {
    if (!pep440Valid(a) || !pep440Valid(b)) return undefined;
    return pep440.compare(a, b);
  },
};

const pep440Cache = new Map<string, boolean>();
function pep440Valid(v: string): boolean {
  let ok = pep440Cache.get(v);
  if (ok === undefined) {
    ok = pep440.valid(v) !== null;
    if (pep440Cache.size >= CACHE_LIMIT) pep440Cache.clear();
    pep440Cache.set(v, ok);
  }
  return ok;
}

/** dpkg ordering (Debian, Ubuntu): `[epoch:]upstream[-revision]`, `~` sorts before everything, even the end. */
export const DPKG: VersionOrder = {
  name: 'dpkg',
  compare(a, b) {
    const x = parseDpkg(a);
    const y = parseDpkg(b);
    if (!x || !y) return undefined;
    if (x.epoch !== y.epoch) return x.epoch - y.epoch;
    return dpkgPart(x.upstream, y.upstream) || dpkgPart(x.revision, y.revision);
  },
};

const DPKG_VERSION = /^(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/;

function parseDpkg(v: string): { epoch: number; upstream: string; revision: string } | undefined {
  const m = DPKG_VERSION.exec(v.trim());
  if (!m) return undefined;
  return { epoch: Number(m[1] ?? 0), upstream: m[2] as string, revision: m[3] ?? '' };
}

function dpkgOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** The comparison of dpkg's verrevcmp: alternating non-digit and digit runs. */
function dpkgPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let diff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = i < a.length && !isDigit(a[i]) ? a[i] : undefined;
      const bc = j < b.length && !isDigit(b[j]) ? b[j] : undefined;
      const d = dpkgOrder(ac) - dpkgOrder(bc);
      if (d !== 0) return d;
      if (ac !== undefined) i++;
      if (bc !== undefined) j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (diff === 0) diff = (a.charCodeAt(i) as number) - (b.charCodeAt(j) as number);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (diff !== 0) return diff;
  }
  return 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Maven's ComparableVersion: items split on `.`, `-` and digit/letter transitions; trailing zeros and
 * release qualifiers ("", ga, final, release) are equal; alpha < beta < milestone < rc < snapshot < release < sp.
 */
export const MAVEN: VersionOrder = {
  name: 'maven',
  compare(a, b) {
    if (!/^[A-Za-z0-9._+-]+$/.test(a) || !/^[A-Za-z0-9._+-]+$/.test(b)) return undefined;
    const x = mavenItems(a);
    const y = mavenItems(b);
    const n = Math.max(x.length, y.length);
    for (let k = 0; k < n; k++) {
      const d = mavenItemCompare(x[k], y[k]);
      if (d !== 0) return d;
    }
    return 0;
  },
};

type MavenItem = { n: bigint } | { q: string };
const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = {
  a: 'alpha',
  b: 'beta',
  m: 'milestone',
  cr: 'rc',
  ga: '',
  final: '',
  release: '',
};

function mavenItems(v: string): MavenItem[] {
  const out: MavenItem[] = [];
  for (const tok of v.toLowerCase().match(/\d+|[a-z]+/g) ?? []) {
    if (/^\d/.test(tok)) out.push({ n: BigInt(tok) });
    else out.push({ q: ALIASES[tok] ?? tok });
  }
  // Trailing zeros and release qualifiers do not change the version (1.0 == 1 == 1.0.0-ga).
  while (out.length > 0) {
    const last = out[out.length - 1] as MavenItem;
    if (('n' in last && last.n === 0n) || ('q' in last && last.q === '')) out.pop();
    else break;
  }
  return out;
}

function qualifierRank(q: string): [number, string] {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? [i, ''] : [QUALIFIERS.length, q];
}

function mavenItemCompare(a: MavenItem | undefined, b: MavenItem | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -mavenItemCompare(b, a);
  if (b === undefined) {
    // Compared with nothing: a number is newer; a qualifier is older unless it sorts after a release (sp, unknown).
    if ('n' in a) return a.n === 0n ? 0 : 1;
    const [r] = qualifierRank(a.q);
    return r - QUALIFIERS.indexOf('');
  }
  if ('n' in a && 'n' in b) return a.n === b.n ? 0 : a.n < b.n ? -1 : 1;
  if ('n' in a) return 1;
  if ('n' in b) return -1;
  const [ra, sa] = qualifierRank(a.q);
  const [rb, sb] = qualifierRank(b.q);
  return ra !== rb ? ra - rb : sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The order for an OSV ecosystem (`Debian:12` → dpkg); undefined for ecosystems scope cannot order. */
export function orderFor(ecosystem: string): VersionOrder | undefined {
  switch (ecosystemKey(ecosystem)) {
    case 'npm':
    case 'go':
      return SEMVER;
    case 'pypi':
      return PEP440;
    case 'debian':
    case 'ubuntu':
      return DPKG;
    case 'maven':
      return MAVEN;
    default:
      return undefined;
  }
}

/** The identity part of an OSV ecosystem name: `Debian:12` → `debian`, `PyPI` → `pypi`. */
export function ecosystemKey(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return (i >= 0 ? ecosystem.slice(0, i) : ecosystem).trim().toLowerCase();
}
