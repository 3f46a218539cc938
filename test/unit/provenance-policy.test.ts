import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { parseCommand } from '../../src/domain/command.ts';
import { anchored, globToRegExp, matchKeyless, ruleFor } from '../../src/domain/provenance/policy.ts';
import { policyFromConfig, provenanceSchema } from '../../src/domain/provenance/policy-config.ts';
import { parseVerifyScope } from '../../src/domain/provenance/scope.ts';
import { errorOf } from '../support/errors.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const signer = (san: string, issuer = ISS, github = {}) => ({ san, issuer, github });

describe('keyless identity matching', () => {
  const exact = [{ identity: ID, issuer: ISS }];
  test.each([
    [ID, ISS, true],
    [`${ID}x`, ISS, false],
    [ID.slice(0, -1), ISS, false],
    [`https://evil.example/${ID}`, ISS, false],
    [ID.replace('release.yml', 'releaseXyml'), ISS, false],
    [ID.toUpperCase(), ISS, false],
    [ID, `${ISS}/`, false],
    [ID, 'https://token.actions.githubusercontent.com.evil', false],
  ])('exact: %s from %s → %s', (san, issuer, ok) => {
    expect(matchKeyless(signer(san, issuer), exact).ok).toBe(ok);
  });

  test('a regexp identity is anchored at both ends', () => {
    const ids = [{ identityRegexp: 'https://github\\.com/acme/[a-z]+/.*@refs/heads/main', issuer: ISS }];
    expect(matchKeyless(signer(ID), ids).ok).toBe(true);
    expect(matchKeyless(signer(`x${ID}`), ids).ok).toBe(false);
    expect(matchKeyless(signer(`${ID}-evil`), ids).ok).toBe(false);
    expect(anchored('a|b').test('ab')).toBe(false);
  });

  test('GitHub claims must all be equal', () => {
    const ids = [{ identity: ID, issuer: ISS, github: { repository: 'acme/app', ref: 'refs/heads/main' } }];
    expect(matchKeyless(signer(ID, ISS, { repository: 'acme/app', ref: 'refs/heads/main' }), ids).ok).toBe(
      true,
    );
    expect(matchKeyless(signer(ID, ISS, { repository: 'acme/app' }), ids).ok).toBe(false);
    expect(matchKeyless(signer(ID, ISS, { repository: 'acme/app2', ref: 'refs/heads/main' }), ids).ok).toBe(
      false,
    );
  });

  test('no identities configured: never trusted', () => {
    expect(matchKeyless(signer(ID), []).ok).toBe(false);
  });
});

describe('rules', () => {
  test('globs: * stays in a segment, ** crosses segments, first matching rule wins', () => {
    expect(globToRegExp('ghcr.io/acme/*').test('ghcr.io/acme/app')).toBe(true);
    expect(globToRegExp('ghcr.io/acme/*').test('ghcr.io/acme/team/app')).toBe(false);
    expect(globToRegExp('ghcr.io/acme/**').test('ghcr.io/acme/team/app')).toBe(true);
    expect(globToRegExp('ghcr.io/acme/*').test('ghcr.io/acmeevil/app')).toBe(false);
    expect(globToRegExp('ghcr.io/a.b').test('ghcr.io/aXb')).toBe(false);
    const policy = policyFromConfig(
      provenanceSchema.parse({
        registries: [{ host: 'ghcr.io' }],
        rules: [
          { name: 'special', match: ['ghcr.io/acme/special'], keyless: [{ identity: ID, issuer: ISS }] },
          { name: 'acme', match: ['ghcr.io/acme/**'], keyless: [{ identity: ID, issuer: ISS }] },
        ],
      }),
      () => '',
    );
    expect(ruleFor(policy, 'ghcr.io/acme/special')?.name).toBe('special');
    expect(ruleFor(policy, 'ghcr.io/acme/x/y')?.name).toBe('acme');
    expect(ruleFor(policy, 'docker.io/library/nginx')).toBeUndefined();
  });

  test('the policy version changes with the policy and only with it', () => {
    const cfg = (identity: string) =>
      policyFromConfig(
        provenanceSchema.parse({
          registries: [{ host: 'ghcr.io' }],
          rules: [{ name: 'a', match: ['ghcr.io/**'], keyless: [{ identity, issuer: ISS }] }],
        }),
        () => '',
      ).version;
    expect(cfg(ID)).toBe(cfg(ID));
    expect(cfg(ID)).not.toBe(cfg(`${ID}2`));
  });
});

describe('configuration is validated at start', () => {
  test.each([
    [{ rules: [{ name: 'r', match: ['ghcr.io/**'] }] }, 'trust at least one key or keyless identity'],
    [
      {
        rules: [
          {
            name: 'r',
            match: ['ghcr.io/**'],
            keyless: [{ identity: ID, identityRegexp: '.*', issuer: ISS }],
          },
        ],
      },
      'exactly one of identity',
    ],
    [
      { rules: [{ name: 'r', match: ['ghcr.io/**'], keyless: [{ identityRegexp: '(', issuer: ISS }] }] },
      'not a valid regular expression',
    ],
    [
      { rules: [{ name: 'r', match: ['ghcr.io/**'], keyless: [{ identity: ID, issuer: 'not a url' }] }] },
      'provenance.rules.0.keyless.0.issuer',
    ],
    [
      { rules: [{ name: 'r', match: ['ghcr.io/**'], keys: [{ name: 'k', pem: 'x', path: 'y' }] }] },
      'PEM public key',
    ],
    [{ registries: [{ host: 'ghcr.io' }, { host: 'ghcr.io' }] }, 'duplicate ghcr.io'],
    [{ registries: [{ host: 'https://ghcr.io' }] }, 'a registry host'],
  ])('%j is refused (%s)', (provenance, message) => {
    expect(() => parseConfig({ provenance })).toThrow(message);
  });

  test('defaults: no registries, no rules, cache for an hour, public-good root', () => {
    expect(parseConfig({}).provenance).toMatchObject({
      registries: [],
      rules: [],
      cacheTtlSeconds: 3600,
      tufRefresh: false,
    });
  });
});

describe('/scope verify arguments', () => {
  test.each([
    ['all', { kind: 'all' }],
    ['env:prod', { kind: 'env', environment: 'prod' }],
    [`sha256:${'a'.repeat(64)}`, { kind: 'digest' }],
    [`ghcr.io/acme/app@sha256:${'a'.repeat(64)}`, { kind: 'digest', query: { kind: 'image' } }],
    ['prod-eu', { kind: 'cluster-or-image', cluster: { cluster: 'prod-eu' } }],
    [
      'prod-eu/payments',
      { kind: 'cluster-or-image', cluster: { cluster: 'prod-eu', namespace: 'payments' } },
    ],
    [
      'ghcr.io/acme/app:1.2',
      { kind: 'image', query: { registry: 'ghcr.io', repository: 'acme/app', tag: '1.2' } },
    ],
  ])('%s', (text, expected) => {
    expect(parseVerifyScope(text)).toMatchObject(expected);
    expect(parseCommand(`verify ${text}`)).toMatchObject({ name: 'verify' });
  });

  test('bad input gets the usage', () => {
    expect(errorOf(() => parseCommand('verify')).hint).toContain('/scope verify');
    expect(errorOf(() => parseCommand('verify env:')).message).toContain('not an environment name');
    expect(errorOf(() => parseCommand('verify sha256:zz')).code).toBe('BAD_INPUT');
  });
});
