import { describe, expect, it } from 'vitest';
import { parseIocCsv, parseIocJson } from '../../../src/domain/advisories/ioc.ts';
import { parsePurl } from '../../../src/domain/advisories/purl.ts';

const id = (s: string) => {
  const p = parsePurl(s);
  if ('error' in p) throw new Error(p.error);
  return p;
};

describe('purl normalisation', () => {
  it('npm scopes written @scope or %40scope are the same package; qualifiers do not matter', () => {
    expect(id('pkg:npm/%40angular/core@17.0.0').identity).toEqual({
      ecosystem: 'npm',
      name: '@angular/core',
    });
    expect(id('pkg:npm/@angular/core@17.0.0?repository_url=x#sub').identity).toEqual({
      ecosystem: 'npm',
      name: '@angular/core',
    });
    expect(id('pkg:npm/@angular/core@17.0.0?repository_url=x').purl).toBe('pkg:npm/%40angular/core@17.0.0');
  });

  it('PyPI names follow PEP 503', () => {
    expect(id('pkg:pypi/Typing_Extensions@4.8.0').identity.name).toBe('typing-extensions');
    expect(id('pkg:pypi/zope.interface@6.0').identity.name).toBe('zope-interface');
  });

  it('maven is group:artifact, go the module path, deb keeps its source package as an alias', () => {
    expect(id('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1').identity.name).toBe(
      'org.apache.logging.log4j:log4j-core',
    );
    expect(id('pkg:golang/github.com/foo/bar@v1.2.3').identity).toEqual({
      ecosystem: 'go',
      name: 'github.com/foo/bar',
    });
    expect(
      id('pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&upstream=openssl&distro=debian-12').identity,
    ).toEqual({
      ecosystem: 'debian',
      name: 'libssl3',
      aliases: ['openssl'],
    });
  });

  it('rejects what it cannot identify', () => {
    expect(parsePurl('not a purl')).toHaveProperty('error');
    expect(parsePurl('pkg:generic/thing@1')).toHaveProperty('error');
  });
});

const D = `sha256:${'ab'.repeat(32)}`;
describe('IOC lists', () => {
  it('reads every indicator type from JSON and groups rows by id', () => {
    const out = parseIocJson(
      {
        indicators: [
          {
            id: 'IOC-1',
            type: 'image-digest',
            value: `registry.example.com/a@${D.toUpperCase().replace('SHA256', 'sha256')}`,
            title: 'Bad image',
            severity: 'critical',
            reference: 'https://example.com/a',
          },
          {
            id: 'IOC-1',
            type: 'image-tag',
            value: 'registry.example.com/vendor/agent:5.2',
            title: 'Bad image',
            severity: 'critical',
          },
          { id: 'IOC-2', type: 'image-repository', value: 'nginx', title: 'r', severity: 'low' },
          {
            id: 'IOC-3',
            type: 'artifact-hash',
            value: `SHA512:${'0F'.repeat(64)}`,
            title: 'h',
            severity: 'high',
          },
          {
            id: 'IOC-4',
            type: 'signer-identity',
            value: 'https://github.com/evil/ci/.github/workflows/r.yml@refs/heads/main',
            issuer: 'https://token.actions.githubusercontent.com',
            title: 's',
            severity: 'high',
          },
        ],
      },
      'iocs',
    );
    expect(out.problems).toEqual([]);
    expect(out.advisories.map((a) => [a.id, a.indicators.map((i) => i.kind)])).toEqual([
      ['IOC-1', ['image-digest', 'image-tag']],
      ['IOC-2', ['image-repository']],
      ['IOC-3', ['artifact-hash']],
      ['IOC-4', ['signer-identity']],
    ]);
    expect(out.advisories[0]?.indicators[0]).toEqual({ kind: 'image-digest', digest: D });
    expect(out.advisories[0]?.indicators[1]).toEqual({
      kind: 'image-tag',
      repository: 'registry.example.com/vendor/agent',
      tag: '5.2',
    });
    expect(out.advisories[1]?.indicators[0]).toEqual({
      kind: 'image-repository',
      repository: 'docker.io/library/nginx',
    });
    expect(out.advisories[2]?.indicators[0]).toEqual({
      kind: 'artifact-hash',
      algorithm: 'sha512',
      hex: '0f'.repeat(64),
    });
  });

  it('checks hash length per algorithm and reports each bad row without stopping', () => {
    const csv = [
      'id,type,value,title,severity,reference',
      `IOC-A,artifact-hash,sha256:${'a'.repeat(64)},"Title, with comma",high,https://example.com/x`,
      `IOC-B,artifact-hash,sha256:${'a'.repeat(128)},t,high,`,
      `IOC-C,artifact-hash,md5:${'a'.repeat(32)},t,high,`,
      `IOC-D,image-digest,sha256:1234,t,high,`,
      `IOC-E,image-tag,nginx,t,high,`,
      `IOC-F,artifact-hash,sha512:${'b'.repeat(128)},t,severe,`,
      `IOC-G,artifact-hash,sha512:${'b'.repeat(128)},t,low,http://insecure.example.com`,
      `,artifact-hash,sha512:${'b'.repeat(128)},t,low,`,
      `IOC-H,image-digest,${D},"",low,`,
      `IOC-I,teleport,x,t,low,`,
      `IOC-J,artifact-hash,sha512:${'C'.repeat(128)},"quoted ""ok""",medium,`,
    ].join('\r\n');
    const out = parseIocCsv(csv, 'list.csv');
    expect(out.advisories.map((a) => a.id)).toEqual(['IOC-A', 'IOC-J']);
    expect(out.advisories[0]?.title).toBe('Title, with comma');
    expect(out.advisories[1]?.title).toBe('quoted "ok"');
    expect(out.problems.map((p) => p.record)).toEqual([
      'IOC-B (line 3)',
      'IOC-C (line 4)',
      'IOC-D (line 5)',
      'IOC-E (line 6)',
      'IOC-F (line 7)',
      'IOC-G (line 8)',
      'line 9',
      'IOC-H (line 10)',
      'IOC-I (line 11)',
    ]);
    expect(out.problems[0]?.why).toBe('a sha256 hash has 64 hex digits, not 128');
    expect(out.problems[1]?.why).toContain('not supported');
  });

  it('refuses a CSV without the header and a JSON document of the wrong shape', () => {
    expect(parseIocCsv('a,b,c\n1,2,3', 'x').problems[0]?.why).toContain('header');
    expect(parseIocJson({ items: [] }, 'x').problems[0]?.why).toContain('indicators');
  });
});
