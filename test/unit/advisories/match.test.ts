import { describe, expect, it } from 'vitest';
import { diffMatches, exposureCounts, matchFingerprint } from '../../../src/domain/advisories/changes.ts';
import { ComponentIndex, type Exposure, FleetIndex } from '../../../src/domain/advisories/match.ts';
import type { Advisory } from '../../../src/domain/advisories/model.ts';
import { parseOsvRecord } from '../../../src/domain/advisories/osv.ts';
import { parseSbom } from '../../../src/domain/advisories/sbom.ts';
import { diffSboms } from '../../../src/domain/advisories/sbom-diff.ts';

const IMG = `sha256:${'1'.repeat(64)}`;
const OTHER = `sha256:${'2'.repeat(64)}`;

function adv(
  id: string,
  ecosystem: string,
  name: string,
  events: Array<Record<string, string>>,
  more = {},
): Advisory {
  const r = parseOsvRecord(
    {
      id,
      modified: '2026-11-01T00:00:00Z',
      affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events }] }],
      ...more,
    },
    'test',
  );
  if ('why' in r) throw new Error(r.why);
  return r;
}

const cdx = (components: unknown[]) =>
  parseSbom({ bomFormat: 'CycloneDX', specVersion: '1.5', components }, 'img.cdx.json');
const fleetSbom = cdx([
  { name: 'core', group: '@angular', purl: 'pkg:npm/core@17.0.1', version: '17.0.1' },
  { name: 'lodash', purl: 'pkg:npm/lodash@4.17.20' },
  { name: 'typing_extensions', purl: 'pkg:pypi/Typing_Extensions@4.8.0' },
  { name: 'cryptography', purl: 'pkg:pypi/cryptography@41.0.0' },
  { name: 'libssl3', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&upstream=openssl' },
  {
    name: 'python3-cryptography',
    purl: 'pkg:deb/debian/python3-cryptography@3.4.8-1?upstream=python-cryptography',
  },
  {
    name: 'left-pad',
    purl: 'pkg:npm/left-pad@1.3.0',
    hashes: [{ alg: 'SHA-256', content: 'AB'.repeat(32) }],
  },
  {
    name: 'outer',
    purl: 'pkg:maven/org.example/outer@1.0-rc1',
    components: [{ name: 'log4j-core', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }],
  },
]);

function index(): ComponentIndex {
  const i = new ComponentIndex();
  i.add(IMG, fleetSbom);
  return i;
}
const names = (a: Advisory) =>
  index()
    .match(a)
    .map((m) => `${m.component.name}@${m.component.version}:${m.certainty}`);

describe('matching advisories against SBOM components', () => {
  it('matches an npm scope given as CycloneDX group + name', () => {
    expect(
      names(
        adv('GHSA-ng00-0000-0000', 'npm', '@angular/core', [{ introduced: '17.0.0' }, { fixed: '17.0.2' }]),
      ),
    ).toEqual(['core@17.0.1:affected']);
  });

  it('PyPI names match across spelling (PEP 503)', () => {
    expect(
      names(
        adv('PYSEC-2025-1', 'PyPI', 'typing.extensions', [{ introduced: '0' }, { last_affected: '4.8.0' }]),
      ),
    ).toEqual(['typing_extensions@4.8.0:affected']);
  });

  it('the same name in another ecosystem does not match', () => {
    expect(names(adv('GHSA-lo00-0000-0000', 'PyPI', 'lodash', [{ introduced: '0' }]))).toEqual([]);
    expect(names(adv('GHSA-cr00-0000-0000', 'npm', 'cryptography', [{ introduced: '0' }]))).toEqual([]);
  });

  it('look-alike names are not the package', () => {
    expect(names(adv('MAL-2025-1', 'npm', 'lodash.', [{ introduced: '0' }]))).toEqual([]);
    expect(names(adv('MAL-2025-2', 'npm', '1odash', [{ introduced: '0' }]))).toEqual([]);
    expect(names(adv('MAL-2025-3', 'npm', '@angular/c0re', [{ introduced: '0' }]))).toEqual([]);
    expect(names(adv('MAL-2025-4', 'npm', 'angular-core', [{ introduced: '0' }]))).toEqual([]);
  });

  it('a Debian source package matches its binary packages, never the PyPI package of a similar name', () => {
    expect(
      names(adv('DSA-1-1', 'Debian:12', 'python-cryptography', [{ introduced: '0' }, { fixed: '3.4.8-2' }])),
    ).toEqual(['python3-cryptography@3.4.8-1:affected']);
    expect(names(adv('DSA-2-1', 'Debian:12', 'cryptography', [{ introduced: '0' }]))).toEqual([]);
    expect(names(adv('PYSEC-2025-2', 'PyPI', 'python-cryptography', [{ introduced: '0' }]))).toEqual([]);
    expect(
      names(adv('DSA-3-1', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }])),
    ).toEqual(['libssl3@3.0.11-1~deb12u1:affected']);
  });

  it('nested CycloneDX components and maven ordering', () => {
    expect(
      names(
        adv('GHSA-jfh8-c2jp-5v3q', 'Maven', 'org.apache.logging.log4j:log4j-core', [
          { introduced: '2.0-beta9' },
          { fixed: '2.15.0' },
        ]),
      ),
    ).toEqual(['log4j-core@2.14.1:affected']);
    expect(names(adv('GHSA-out0-0000-0000', 'Maven', 'org.example:outer', [{ introduced: '1.0' }]))).toEqual(
      [],
    );
  });

  it('withdrawn advisories match nothing', () => {
    expect(
      names(
        adv('GHSA-wd00-0000-0000', 'npm', 'lodash', [{ introduced: '0' }], {
          withdrawn: '2026-11-02T00:00:00Z',
        }),
      ),
    ).toEqual([]);
  });

  it('an SBOM taken out of the index matches nothing any more; the others still do', () => {
    const i = index();
    i.add(OTHER, fleetSbom);
    const a = adv('GHSA-lodr-0000-0000', 'npm', 'lodash', [{ introduced: '0' }]);
    expect(
      i
        .match(a)
        .map((m) => m.sbom)
        .sort(),
    ).toEqual([IMG, OTHER]);
    i.remove(IMG);
    expect(i.match(a).map((m) => m.sbom)).toEqual([OTHER]);
    expect(i.keys()).toEqual([OTHER]);
    i.remove(OTHER);
    expect(i.match(a)).toEqual([]);
    expect(i.size).toBe(0);
  });

  it('artifact hashes match component hashes', () => {
    const a: Advisory = {
      id: 'IOC-H',
      source: 't',
      kind: 'ioc',
      title: 'h',
      severity: 'high',
      references: [],
      aliases: [],
      packages: [],
      indicators: [{ kind: 'artifact-hash', algorithm: 'sha256', hex: 'ab'.repeat(32) }],
      notes: [],
    };
    expect(names(a)).toEqual(['left-pad@1.3.0:affected']);
  });
});

const exposures: Exposure[] = [
  {
    environment: 'prod',
    cluster: 'prod-eu',
    namespace: 'pay',
    workload: 'Deployment/api',
    image: 'r/app:1',
    digest: IMG,
    repository: 'r/app',
    tag: '1',
    state: 'current',
  },
  {
    environment: 'dev',
    cluster: 'dev-1',
    namespace: 'pay',
    workload: 'Deployment/api',
    image: 'r/app:1',
    digest: IMG,
    repository: 'r/app',
    tag: '1',
    state: 'past',
    lastSeen: '2026-11-20T00:00:00Z',
  },
  {
    environment: 'prod',
    cluster: 'prod-eu',
    namespace: 'web',
    workload: 'Deployment/web',
    image: 'r/web:2',
    digest: OTHER,
    repository: 'r/web',
    tag: '2',
    state: 'current',
  },
];
const ioc = (indicators: Advisory['indicators']): Advisory => ({
  id: 'IOC-1',
  source: 't',
  kind: 'ioc',
  title: 't',
  severity: 'critical',
  references: [],
  aliases: [],
  packages: [],
  indicators,
  notes: [],
});

describe('matching against the fleet (current and past exposure)', () => {
  const fleet = new FleetIndex(exposures, index());
  it('a digest IOC finds current and past exposure', () => {
    const f = fleet.match(ioc([{ kind: 'image-digest', digest: IMG }]));
    expect(f.map((x) => `${x.cluster}:${x.state}`)).toEqual(['dev-1:past', 'prod-eu:current']);
    expect(exposureCounts(f)).toEqual({ current: 1, past: 1 });
  });
  it('repository and tag IOCs', () => {
    expect(fleet.match(ioc([{ kind: 'image-repository', repository: 'r/web' }]))).toHaveLength(1);
    expect(fleet.match(ioc([{ kind: 'image-tag', repository: 'r/web', tag: '2' }]))).toHaveLength(1);
    expect(fleet.match(ioc([{ kind: 'image-tag', repository: 'r/web', tag: '3' }]))).toHaveLength(0);
  });
  it('package advisories reach workloads through the image SBOM, with the component', () => {
    const f = fleet.match(
      adv('GHSA-lod0-0000-0000', 'npm', 'lodash', [{ introduced: '0' }, { fixed: '4.17.21' }]),
    );
    expect(f.map((x) => [x.cluster, x.component?.purl])).toEqual([
      ['dev-1', 'pkg:npm/lodash@4.17.20'],
      ['prod-eu', 'pkg:npm/lodash@4.17.20'],
    ]);
  });
  it('fingerprints are stable and change with the match set; diffs say what changed', () => {
    const a = fleet.match(ioc([{ kind: 'image-digest', digest: IMG }]));
    expect(matchFingerprint('IOC-1', a)).toBe(matchFingerprint('IOC-1', [...a].reverse()));
    const b = a.slice(1);
    expect(matchFingerprint('IOC-1', b)).not.toBe(matchFingerprint('IOC-1', a));
    const change = diffMatches(
      b.map((x) => `${x.cluster}|${x.namespace}|${x.workload}|${x.digest}|${x.state}|${x.via}|`),
      a,
    );
    expect(change.added.map((x) => x.cluster)).toEqual(['dev-1']);
    expect(change.removed).toEqual([]);
  });
});

describe('SBOM parsing and diff', () => {
  it('reads SPDX 2.3 packages with purls and checksums', () => {
    const s = parseSbom(
      {
        spdxVersion: 'SPDX-2.3',
        name: 'img',
        packages: [
          {
            name: 'lodash',
            versionInfo: '4.17.21',
            checksums: [{ algorithm: 'SHA256', checksumValue: 'cd'.repeat(32) }],
            externalRefs: [
              {
                referenceCategory: 'PACKAGE-MANAGER',
                referenceType: 'purl',
                referenceLocator: 'pkg:npm/lodash@4.17.21',
              },
            ],
          },
          { name: 'no-purl', versionInfo: 'NOASSERTION' },
          { name: 'bad', externalRefs: [{ referenceType: 'purl', referenceLocator: 'nope' }] },
        ],
      },
      'x.spdx.json',
    );
    expect(s.components.map((c) => [c.name, c.version, c.purl, c.hashes.length])).toEqual([
      ['lodash', '4.17.21', 'pkg:npm/lodash@4.17.21', 1],
      ['no-purl', undefined, undefined, 0],
      ['bad', undefined, undefined, 0],
    ]);
    expect(s.problems.map((p) => p.record)).toEqual(['packages[2] bad']);
  });

  it('refuses unsupported versions and formats', () => {
    expect(() => parseSbom({ bomFormat: 'CycloneDX', specVersion: '1.2' }, 'a')).toThrow(/1.4, 1.5 and 1.6/);
    expect(() => parseSbom({ hello: 1 }, 'a')).toThrow(/neither/);
  });

  it('diffs two SBOMs: added, removed, changed', () => {
    const good = cdx([
      { name: 'a', purl: 'pkg:npm/a@1.0.0' },
      { name: 'b', purl: 'pkg:npm/b@1.0.0' },
      { name: 'c', purl: 'pkg:npm/c@1.0.0' },
    ]);
    const bad = cdx([
      { name: 'a', purl: 'pkg:npm/a@1.0.0' },
      { name: 'b', purl: 'pkg:npm/b@1.0.1' },
      { name: 'evil', purl: 'pkg:npm/evil@0.0.1' },
    ]);
    const d = diffSboms(good, bad);
    expect(d.added.map((c) => c.name)).toEqual(['evil']);
    expect(d.removed.map((c) => c.name)).toEqual(['c']);
    expect(d.changed.map((c) => `${c.before.version}->${c.after.version}`)).toEqual(['1.0.0->1.0.1']);
    expect(d.unchanged).toBe(1);
  });
});
