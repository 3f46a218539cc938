import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { tufOptions } from '../../src/jobs/provenance/trust-root.ts';
import { configError } from '../support/errors.ts';

const refused = (provenance: Record<string, unknown>) => {
  const err = configError(() => parseConfig({ provenance }));
  expect(err.code).toBe('CONFIG_INVALID');
  return err.message;
};

describe('provenance.tufRefresh settings', () => {
  test('off by default; on alone uses the public-good mirror and the seed shipped with @sigstore/tuf', () => {
    expect(parseConfig({}).provenance.tufRefresh).toBe(false);
    const p = parseConfig({ provenance: { tufRefresh: true } }).provenance;
    expect(tufOptions(p)).toMatchObject({ mirrorUrl: 'https://tuf-repo-cdn.sigstore.dev' });
    expect(tufOptions(p).initialRoot).toBeUndefined();
  });

  test('refused together with a custom trusted root, naming the key', () => {
    expect(refused({ tufRefresh: true, trustedRoot: '/etc/scope/trusted_root.json' })).toMatch(
      /provenance\.tufRefresh: tufRefresh .* cannot be combined with a custom trustedRoot/,
    );
  });

  test.each([
    ['http://tuf.example.com', /provenance\.tufMirrorUrl: plain http to tuf\.example\.com/],
    ['ftp://tuf.example.com', /provenance\.tufMirrorUrl: scheme ftp \(https only\)/],
    ['https://user:pw@tuf.example.com', /provenance\.tufMirrorUrl: credentials in the mirror URL/],
    ['not a url', /provenance\.tufMirrorUrl: not a URL/],
  ])('mirror %s is refused', (url, message) => {
    expect(refused({ tufRefresh: true, tufMirrorUrl: url, tufInitialRoot: '/r.json' })).toMatch(message);
  });

  test('plain http only to loopback; https elsewhere', () => {
    for (const url of [
      'http://127.0.0.1:8080',
      'http://localhost:9',
      'http://[::1]:9',
      'https://tuf.example.com/repo',
    ])
      expect(
        parseConfig({ provenance: { tufRefresh: true, tufMirrorUrl: url, tufInitialRoot: '/r.json' } })
          .provenance.tufMirrorUrl,
      ).toBe(url);
  });

  test('a mirror other than the public-good one needs its initial root.json', () => {
    expect(refused({ tufRefresh: true, tufMirrorUrl: 'https://tuf.example.com' })).toMatch(
      /provenance\.tufInitialRoot: the mirror https:\/\/tuf\.example\.com is not the public-good one/,
    );
  });

  test('TUF settings with tufRefresh off are refused, not silently ignored', () => {
    expect(refused({ tufCacheDir: '/var/cache/scope-tuf' })).toMatch(
      /provenance\.tufCacheDir: tufCacheDir is set but tufRefresh is false/,
    );
    expect(refused({ tufRefreshHours: 6 })).toMatch(/provenance\.tufRefreshHours: .*tufRefresh is false/);
  });

  test('refresh period bounds', () => {
    expect(refused({ tufRefresh: true, tufRefreshHours: 0 })).toMatch(/provenance\.tufRefreshHours/);
    expect(
      parseConfig({ provenance: { tufRefresh: true, tufRefreshHours: 6 } }).provenance.tufRefreshHours,
    ).toBe(6);
  });
});
