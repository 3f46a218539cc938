import { describe, expect, it } from 'vitest';
import {
  type Digest,
  familiarImageRef,
  formatImageRef,
  type ImageRef,
  isDigest,
  isManifestDigestKnown,
  MIN_DIGEST_PREFIX_HEX,
  matchesDigestPrefix,
  type PinnedImageRef,
  parseDigest,
  parseDigestQuery,
  parseImageQuery,
  parseImageRef,
  parseRuntimeImageId,
  type RuntimeImage,
  repositoryKey,
  shortDigest,
} from '../../src/domain/inventory/image-ref.ts';
import { UserFacingError } from '../../src/errors.ts';
import { errorOf } from '../support/errors.ts';

const H1 = `8e6b${'0123456789abcdef'.repeat(3)}01234567c0f1`;
const H2 = '1234567890abcdef'.repeat(4);
const D1 = parseDigest(`sha256:${H1}`);
const D2 = parseDigest(`sha256:${H2}`);

function shown(input: string): string {
  const chars = Array.from(input.trim());
  return JSON.stringify(chars.length > 100 ? `${chars.slice(0, 100).join('')}…` : input.trim());
}

function hub(repository: string, extra: Partial<ImageRef> = {}): ImageRef {
  return { registry: 'docker.io', repository, ...extra };
}

describe('digest constants', () => {
  it('uses 64 hex digit fixtures', () => {
    expect(H1).toHaveLength(64);
    expect(H2).toHaveLength(64);
    expect(MIN_DIGEST_PREFIX_HEX).toBe(12);
  });
});

describe('parseDigest', () => {
  it.each([
    ['canonical', `sha256:${H1}`],
    ['uppercase hex', `sha256:${H1.toUpperCase()}`],
    ['uppercase algorithm', `SHA256:${H1}`],
    ['surrounding whitespace', `  sha256:${H1}\n`],
    ['backticks', `\`sha256:${H1}\``],
  ])('accepts %s and normalises to lowercase', (_label, input) => {
    const digest = parseDigest(input);
    expect(digest).toBe(`sha256:${H1}`);
    expect(isDigest(digest)).toBe(true);
  });

  it.each([
    ['empty', '', 'No digest given.'],
    ['no algorithm', H1, 'has no algorithm'],
    ['not a digest at all', 'nginx', 'not of the form `sha256:<64 hex digits>`'],
    [
      '63 hex digits',
      `sha256:${H1.slice(1)}`,
      'it has 63 hex digits after "sha256:"; a sha256 digest has exactly 64',
    ],
    ['65 hex digits', `sha256:${H1}0`, 'it has 65 hex digits'],
    ['no hex', 'sha256:', 'it has 0 hex digits'],
    ['non-hex character', `sha256:g${H1.slice(1)}`, '"g" is not a hex digit'],
    ['sha512', `sha512:${H1}${H1}`, 'algorithm "sha512" is not supported; only sha256 digests are'],
    ['shortened for display', 'sha256:8e6b…c0f1', 'it is shortened'],
    ['an image reference', `nginx@sha256:${H1}`, 'not of the form'],
  ])('rejects %s', (_label, input, fragment) => {
    const err = errorOf(() => parseDigest(input));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(fragment);
    if (input.trim() !== '') expect(err.message).toContain(shown(input));
    expect(err.hint).toMatch(/sha256:[0-9a-f]{64}/);
  });
});

describe('isDigest', () => {
  it.each([
    [`sha256:${H1}`, true],
    [`sha256:${H1.toUpperCase()}`, false],
    [`SHA256:${H1}`, false],
    [H1, false],
    [`sha256:${H1.slice(1)}`, false],
    [`sha512:${H1}${H1}`, false],
    [` sha256:${H1}`, false],
    ['', false],
  ])('isDigest(%j) is %s', (input, expected) => {
    expect(isDigest(input)).toBe(expected);
  });
});

describe('shortDigest', () => {
  it('keeps the first and last four hex digits', () => {
    expect(shortDigest(D1)).toBe('sha256:8e6b…c0f1');
  });
});

describe('matchesDigestPrefix', () => {
  it.each([
    [H1.slice(0, 12), true],
    [`sha256:${H1.slice(0, 12)}`, true],
    [H1.slice(0, 12).toUpperCase(), true],
    [` ${H1.slice(0, 20)} `, true],
    [H1, true],
    [`sha256:${H1}`, true],
    [H2.slice(0, 12), false],
    [`${H1}0`, false],
    ['', false],
    ['sha256:', false],
    ['8e6bxyz', false],
  ])('prefix %j matches: %s', (prefix, expected) => {
    expect(matchesDigestPrefix(D1, prefix)).toBe(expected);
  });
});

describe('parseImageRef: valid references', () => {
  it.each<[string, ImageRef]>([
    ['nginx', hub('library/nginx')],
    ['nginx:1.25', hub('library/nginx', { tag: '1.25' })],
    ['library/nginx', hub('library/nginx')],
    ['docker.io/nginx', hub('library/nginx')],
    ['docker.io/library/nginx:latest', hub('library/nginx', { tag: 'latest' })],
    ['index.docker.io/library/nginx', hub('library/nginx')],
    ['index.docker.io/nginx', hub('library/nginx')],
    ['registry-1.docker.io/nginx:1', hub('library/nginx', { tag: '1' })],
    ['registry.hub.docker.com/bitnami/redis:7.2', hub('bitnami/redis', { tag: '7.2' })],
    ['Docker.IO/nginx', hub('library/nginx')],
    ['bitnami/redis', hub('bitnami/redis')],
    ['library/foo/bar', hub('library/foo/bar')],
    ['ghcr.io/org/team/app:v2.0.1', { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v2.0.1' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['localhost:5000/app:1', { registry: 'localhost:5000', repository: 'app', tag: '1' }],
    ['localhost:5000/team/app:5000', { registry: 'localhost:5000', repository: 'team/app', tag: '5000' }],
    // Without a "/" there is no registry, so the number is a tag, exactly as `docker pull` reads it.
    ['localhost:5000', hub('library/localhost', { tag: '5000' })],
    [
      'reg.example.com:8443/team/app:1.2',
      { registry: 'reg.example.com:8443', repository: 'team/app', tag: '1.2' },
    ],
    ['Reg.Example.COM:8443/team/app', { registry: 'reg.example.com:8443', repository: 'team/app' }],
    ['10.0.0.5:5000/app', { registry: '10.0.0.5:5000', repository: 'app' }],
    ['[::1]:5000/app:dev', { registry: '[::1]:5000', repository: 'app', tag: 'dev' }],
    ['my.registry/app', { registry: 'my.registry', repository: 'app' }],
    ['docker.io/a__b/c.d/e---f/g_h', hub('a__b/c.d/e---f/g_h')],
    ['nginx:Latest_X.1-rc', hub('library/nginx', { tag: 'Latest_X.1-rc' })],
    ['nginx:_underscore', hub('library/nginx', { tag: '_underscore' })],
    [`nginx:${'a'.repeat(128)}`, hub('library/nginx', { tag: 'a'.repeat(128) })],
    [`nginx@sha256:${H1}`, hub('library/nginx', { digest: D1 })],
    [`nginx:1.25@sha256:${H1}`, hub('library/nginx', { tag: '1.25', digest: D1 })],
    [`nginx@SHA256:${H1.toUpperCase()}`, hub('library/nginx', { digest: D1 })],
    [
      `reg.example.com:5000/team/app:1.2@sha256:${H1}`,
      { registry: 'reg.example.com:5000', repository: 'team/app', tag: '1.2', digest: D1 },
    ],
    [`localhost:5000/app@sha256:${H1}`, { registry: 'localhost:5000', repository: 'app', digest: D1 }],
  ])('parses %j', (input, expected) => {
    expect(parseImageRef(input)).toStrictEqual(expected);
  });

  it.each<[string, ImageRef]>([
    ['  nginx:1  ', hub('library/nginx', { tag: '1' })],
    ['`nginx:1`', hub('library/nginx', { tag: '1' })],
    ['```nginx:1```', hub('library/nginx', { tag: '1' })],
    ['` nginx:1 `', hub('library/nginx', { tag: '1' })],
    ['<reg.example.com/app:1>', { registry: 'reg.example.com', repository: 'app', tag: '1' }],
    ['<http://reg.example.com/app|reg.example.com/app>', { registry: 'reg.example.com', repository: 'app' }],
    [
      '<https://reg.example.com:5000/team/app:1.2|reg.example.com:5000/team/app:1.2>',
      { registry: 'reg.example.com:5000', repository: 'team/app', tag: '1.2' },
    ],
    [
      '`<http://ghcr.io/org/app:v2|ghcr.io/org/app:v2>`',
      { registry: 'ghcr.io', repository: 'org/app', tag: 'v2' },
    ],
  ])('strips chat formatting from %j', (input, expected) => {
    expect(parseImageRef(input)).toStrictEqual(expected);
  });
});

describe('parseImageRef: invalid references', () => {
  it.each([
    ['empty', '', 'No image reference given.'],
    ['only whitespace', '   ', 'No image reference given.'],
    ['only backticks', '``', 'No image reference given.'],
    ['uppercase repository', 'Nginx', 'repository names must be lowercase (try "nginx")'],
    ['uppercase repository path', 'ghcr.io/Org/App:1', 'has uppercase letters in repository "Org/App"'],
    ['uppercase first segment', 'MyOrg/app', 'repository names must be lowercase (try "myorg/app")'],
    ['space inside', 'nginx :1', 'contains whitespace'],
    ['tab inside', 'nginx\t:1', 'contains whitespace'],
    ['colon without tag', 'nginx:', 'has ":" but no tag after it'],
    ['colon without tag after a port', 'reg.example.com:5000/app:', 'has ":" but no tag after it'],
    ['colon without tag before a digest', `nginx:@sha256:${H1}`, 'has ":" but no tag after it'],
    ['two @', `nginx@sha256:${H1}@sha256:${H2}`, 'contains more than one "@"'],
    ['@ without digest', 'nginx@', 'ends with "@" but has no digest after it'],
    ['@ without repository', `@sha256:${H1}`, 'has no repository before "@"'],
    ['Slack user mention', '<@U123ABC>', 'has no repository before "@"'],
    ['short digest', 'nginx@sha256:abc', 'has an invalid digest "sha256:abc": it has 3 hex digits'],
    ['non-hex digest', `nginx@sha256:${'z'.repeat(64)}`, '"z" is not a hex digit'],
    ['digest without algorithm', `nginx@${H1}`, 'it has no algorithm'],
    ['sha512 digest', `nginx@sha512:${H1}${H1}`, 'algorithm "sha512" is not supported'],
    ['display-shortened digest', 'nginx@sha256:8e6b…c0f1', 'it is shortened'],
    ['tag too long', `nginx:${'a'.repeat(129)}`, 'has a tag of 129 characters; tags are at most 128'],
    [
      'tag starting with a dot',
      'nginx:.hidden',
      'has tag ".hidden", which must start with a letter, digit or "_"',
    ],
    ['tag starting with a dash', 'nginx:-rc', 'must start with a letter, digit or "_"'],
    ['tag with a colon', 'nginx:1.25:2', 'has tag "1.25:2" containing ":"'],
    ['tag with a plus', 'nginx:1+build', 'containing "+"'],
    ['https scheme', 'https://reg.example.com/app:1', 'contains the URL scheme "https://"'],
    [
      'http scheme from a bare Slack link',
      '<http://reg.example.com/app>',
      'contains the URL scheme "http://"',
    ],
    [
      'runtime scheme',
      `docker-pullable://nginx@sha256:${H1}`,
      'contains the URL scheme "docker-pullable://"',
    ],
    ['scheme in the middle', 'reg.example.com/x://y', 'contains the URL scheme "://"'],
    ['bare digest', `sha256:${H1}`, 'is a bare digest'],
    ['bare 64 hex', H1, 'is a bare digest'],
    [
      'registry without repository',
      'reg.example.com/',
      'has registry "reg.example.com" but no repository after it',
    ],
    ['double slash', 'ghcr.io/org//app', 'has an empty segment in repository path "org//app"'],
    ['trailing slash', 'ghcr.io/org/app/', 'has an empty segment in repository path "org/app/"'],
    ['leading slash', '/app', 'has an empty segment'],
    ['trailing separator', 'nginx-', 'has invalid repository path component "nginx-"'],
    ['leading separator', 'org/_app', 'has invalid repository path component "_app"'],
    ['mixed separators', 'org/a_-b', 'has invalid repository path component "a_-b"'],
    ['triple underscore', 'org/a___b', 'has invalid repository path component "a___b"'],
    ['non-numeric port', 'reg.example.com:abc/app', 'whose port "abc" is not a number from 1 to 65535'],
    ['port out of range', 'reg.example.com:99999/app', 'whose port "99999" is not a number'],
    ['port zero', 'localhost:0/app', 'whose port "0" is not a number'],
    ['empty port', 'reg.example.com:/app', 'with ":" but no port number'],
    [
      'bad host',
      '-bad.example.com/app',
      'has registry host "-bad.example.com", which is not a valid host name',
    ],
    ['host with empty label', 'reg..example.com/app', 'has registry host "reg..example.com"'],
    ['tag without name', ':1', 'has no repository name'],
    ['name too long', `ghcr.io/${'a'.repeat(250)}`, 'the limit is 255'],
    ['control character', 'nginx\u0000', 'has invalid repository path component "nginx[U+0000]"'],
  ])('rejects %s', (_label, input, fragment) => {
    const err = errorOf(() => parseImageRef(input));
    expect(err).toBeInstanceOf(UserFacingError);
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(fragment);
    expect(err.hint).toContain('`nginx:1.25`');
    expect(err.hint).toContain('localhost:5000');
  });

  it.each([
    ['plain', 'Nginx:1', 'Image reference "Nginx:1" '],
    [
      'Slack-wrapped, quoting the visible text',
      '<http://Reg.example.com/App|reg.example.com/App>',
      '"reg.example.com/App"',
    ],
    ['with a quote character, escaped', 'ngi"nx', 'Image reference "ngi\\"nx"'],
  ])('names the offending input (%s)', (_label, input, quoted) => {
    expect(errorOf(() => parseImageRef(input)).message).toContain(quoted);
  });

  it('truncates a very long input in the message', () => {
    const input = `ghcr.io/org/${'Ab'.repeat(200)}`;
    const err = errorOf(() => parseImageRef(input));
    expect(err.message).toContain(`"${input.slice(0, 100)}…"`);
    expect(err.message).not.toContain(input);
    expect(err.message.length).toBeLessThan(350);
  });

  it('refuses absurdly long input without echoing it', () => {
    const err = errorOf(() => parseImageRef('a'.repeat(5000)));
    expect(err.message).toContain('is 5000 characters long');
    expect(err.message.length).toBeLessThan(300);
  });

  it('suggests the scheme-less form for URLs', () => {
    expect(errorOf(() => parseImageRef('https://ghcr.io/org/app:1')).message).toContain(
      '"ghcr.io/org/app:1"',
    );
  });
});

describe('formatImageRef, familiarImageRef, repositoryKey', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx', 'nginx', 'docker.io/library/nginx'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25', 'nginx:1.25', 'docker.io/library/nginx'],
    [
      `nginx:1.25@sha256:${H1}`,
      `docker.io/library/nginx:1.25@sha256:${H1}`,
      `nginx:1.25@sha256:${H1}`,
      'docker.io/library/nginx',
    ],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7', 'bitnami/redis:7', 'docker.io/bitnami/redis'],
    ['library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar'],
    ['docker.io/my.org/app', 'docker.io/my.org/app', 'docker.io/my.org/app', 'docker.io/my.org/app'],
    [
      'docker.io/localhost/app',
      'docker.io/localhost/app',
      'docker.io/localhost/app',
      'docker.io/localhost/app',
    ],
    ['docker.io/library/my.app', 'docker.io/library/my.app', 'my.app', 'docker.io/library/my.app'],
    ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app'],
    [
      `ghcr.io/org/app@sha256:${H1}`,
      `ghcr.io/org/app@sha256:${H1}`,
      `ghcr.io/org/app@sha256:${H1}`,
      'ghcr.io/org/app',
    ],
  ])('%j → %j, familiar %j, key %j', (input, canonical, familiar, key) => {
    const ref = parseImageRef(input);
    expect(formatImageRef(ref)).toBe(canonical);
    expect(familiarImageRef(ref)).toBe(familiar);
    expect(repositoryKey(ref)).toBe(key);
    expect(parseImageRef(canonical)).toStrictEqual(ref);
    expect(parseImageRef(familiar)).toStrictEqual(ref);
  });

  it('shortens or omits the digest in the familiar form on request', () => {
    const ref = parseImageRef(`nginx:1.25@sha256:${H1}`);
    expect(familiarImageRef(ref, { digest: 'short' })).toBe('nginx:1.25@sha256:8e6b…c0f1');
    expect(familiarImageRef(ref, { digest: 'omit' })).toBe('nginx:1.25');
    expect(familiarImageRef(ref, { digest: 'full' })).toBe(`nginx:1.25@sha256:${H1}`);
  });

  it('accepts an ImageQuery wherever only registry and repository matter', () => {
    expect(repositoryKey(parseImageQuery('ghcr.io/org/app:v1'))).toBe('ghcr.io/org/app');
    expect(formatImageRef(parseImageQuery('nginx:1'))).toBe('docker.io/library/nginx:1');
  });
});

describe('parseDigestQuery', () => {
  it.each([
    ['sha256 digest', `sha256:${H1}`, { kind: 'digest', digest: D1 }],
    ['bare 64 hex', H1, { kind: 'digest', digest: D1 }],
    ['uppercase bare hex', H1.toUpperCase(), { kind: 'digest', digest: D1 }],
    ['uppercase algorithm and hex', `SHA256:${H1.toUpperCase()}`, { kind: 'digest', digest: D1 }],
    ['backticked digest', `\`sha256:${H1}\``, { kind: 'digest', digest: D1 }],
    ['12-digit prefix', H1.slice(0, 12), { kind: 'digest-prefix', prefix: H1.slice(0, 12) }],
    [
      '12-digit prefix with sha256:',
      `sha256:${H1.slice(0, 12)}`,
      { kind: 'digest-prefix', prefix: H1.slice(0, 12) },
    ],
    ['uppercase prefix', H1.slice(0, 16).toUpperCase(), { kind: 'digest-prefix', prefix: H1.slice(0, 16) }],
    ['63-digit prefix', H1.slice(0, 63), { kind: 'digest-prefix', prefix: H1.slice(0, 63) }],
    [
      'image pinned by digest',
      `nginx@sha256:${H1}`,
      { kind: 'image', ref: hub('library/nginx', { digest: D1 }) },
    ],
    [
      'image with tag and digest',
      `reg.example.com:5000/team/app:1.2@sha256:${H1}`,
      {
        kind: 'image',
        ref: { registry: 'reg.example.com:5000', repository: 'team/app', tag: '1.2', digest: D1 },
      },
    ],
    [
      'Slack-wrapped pinned image',
      `<http://ghcr.io/org/app@sha256:${H1}|ghcr.io/org/app@sha256:${H1}>`,
      { kind: 'image', ref: { registry: 'ghcr.io', repository: 'org/app', digest: D1 } },
    ],
  ])('parses %s', (_label, input, expected) => {
    expect(parseDigestQuery(input)).toStrictEqual(expected);
  });

  it.each([
    ['empty', '', 'No digest given.'],
    [
      '11-digit prefix',
      H1.slice(0, 11),
      'a digest prefix needs at least 12 hex digits to be unambiguous, and this has 11',
    ],
    ['short prefix with sha256:', `sha256:${H1.slice(0, 8)}`, 'needs at least 12 hex digits'],
    ['short hex word', 'cafe', 'needs at least 12 hex digits'],
    ['sha256: alone', 'sha256:', 'and this has 0'],
    ['65 hex digits', `${H1}0`, 'it has 65 hex digits; a sha256 digest has exactly 64'],
    ['non-hex after sha256:', `sha256:${'z'.repeat(64)}`, '"z" is not a hex digit'],
    ['mistyped bare digest', `${H1.slice(0, 30)}g${H1.slice(31)}`, '"g" is not a hex digit'],
    ['display-shortened digest', 'sha256:8e6b…c0f1', 'it is shortened'],
    ['display-shortened bare digest', '8e6b…c0f1', 'it is shortened'],
    ['three-dot shortened digest', '8e6b...c0f1', 'it is shortened'],
    ['sha512', `sha512:${H1}${H1}`, 'algorithm "sha512" is not supported'],
    ['pinned image with bad digest', 'nginx@sha256:abc', 'has an invalid digest "sha256:abc"'],
    ['uppercase repository', `Nginx@sha256:${H1}`, 'must be lowercase'],
  ])('rejects %s', (_label, input, fragment) => {
    const err = errorOf(() => parseDigestQuery(input));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(fragment);
    if (input !== '') expect(err.message).toContain(shown(input));
    expect(err.hint).toContain('/scope digest');
    expect(err.hint).toContain('at least 12 hex digits');
  });

  it.each([
    ['nginx:1.25', '`/scope image nginx:1.25`', 'names an image tag but no digest'],
    ['ghcr.io/org/app:v2', '`/scope image ghcr.io/org/app:v2`', 'names an image tag but no digest'],
    ['ghcr.io/org/app', '`/scope image ghcr.io/org/app`', 'names an image but no digest'],
    ['redis:7', '`/scope image redis:7`', 'names an image tag'],
    ['nginx', '`/scope image nginx`', 'names an image but no digest'],
    ['docker.io/library/nginx:latest', '`/scope image nginx:latest`', 'no digest'],
  ])('refuses tag-only %j and points at /scope image', (input, suggestion, fragment) => {
    const err = errorOf(() => parseDigestQuery(input));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(JSON.stringify(input));
    expect(err.message).toContain(fragment);
    expect(err.hint).toContain(suggestion);
  });
});

describe('parseImageQuery', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['vendor/agent:5.2', { registry: 'docker.io', repository: 'vendor/agent', tag: '5.2' }],
    ['ghcr.io/org/app:v2', { registry: 'ghcr.io', repository: 'org/app', tag: 'v2' }],
    ['localhost:5000/app:1', { registry: 'localhost:5000', repository: 'app', tag: '1' }],
    ['<http://reg.example.com/app|reg.example.com/app>', { registry: 'reg.example.com', repository: 'app' }],
  ])('parses %j', (input, expected) => {
    expect(parseImageQuery(input)).toStrictEqual(expected);
  });

  it.each([
    ['image pinned by digest', `nginx@sha256:${H1}`, 'pins a digest'],
    ['image with tag and digest', `nginx:1@sha256:${H1}`, 'pins a digest'],
    ['bare digest', `sha256:${H1}`, 'is a digest, not an image name'],
    ['bare 64 hex', H1, 'is a digest, not an image name'],
    ['uppercase sha256 prefix', `SHA256:${H1.slice(0, 12)}`, 'is a digest'],
  ])('refuses %s and points at /scope digest', (_label, input, fragment) => {
    const err = errorOf(() => parseImageQuery(input));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain(JSON.stringify(input));
    expect(err.message).toContain(fragment);
    expect(err.hint).toContain(`\`/scope digest ${input}\``);
    expect(err.hint).toContain('/scope image <repo[:tag]>');
  });

  it.each([
    ['empty', '', 'No image reference given.'],
    ['uppercase', 'Nginx:1', 'must be lowercase'],
    ['empty tag', 'nginx:', 'no tag after it'],
  ])('rejects %s with the /scope image usage as hint', (_label, input, fragment) => {
    const err = errorOf(() => parseImageQuery(input));
    expect(err.message).toContain(fragment);
    expect(err.hint).toContain('/scope image <repo[:tag]>');
  });
});

describe('parseRuntimeImageId', () => {
  const nginxPinned: PinnedImageRef = { registry: 'docker.io', repository: 'library/nginx', digest: D1 };

  it.each<[string, string, string | undefined, RuntimeImage]>([
    [
      'docker-pullable repo digest',
      `docker-pullable://nginx@sha256:${H1}`,
      'nginx:1.25',
      {
        raw: `docker-pullable://nginx@sha256:${H1}`,
        repoDigest: { ref: nginxPinned, digest: D1 },
        digest: D1,
      },
    ],
    [
      'docker-pullable with registry port',
      `docker-pullable://reg.example.com:5000/team/app@sha256:${H1}`,
      undefined,
      {
        raw: `docker-pullable://reg.example.com:5000/team/app@sha256:${H1}`,
        repoDigest: {
          ref: { registry: 'reg.example.com:5000', repository: 'team/app', digest: D1 },
          digest: D1,
        },
        digest: D1,
      },
    ],
    [
      'docker config id is not a manifest digest',
      `docker://sha256:${H2}`,
      'nginx:1.25',
      { raw: `docker://sha256:${H2}`, configId: D2 },
    ],
    [
      'docker config id with a digest-pinned spec image',
      `docker://sha256:${H2}`,
      `nginx@sha256:${H1}`,
      { raw: `docker://sha256:${H2}`, configId: D2, digest: D1 },
    ],
    [
      'docker config id with an unparseable spec image',
      `docker://sha256:${H2}`,
      'Not A Valid Image',
      { raw: `docker://sha256:${H2}`, configId: D2 },
    ],
    [
      'containerd repo digest',
      `docker.io/library/nginx@sha256:${H1}`,
      'nginx:1.25',
      {
        raw: `docker.io/library/nginx@sha256:${H1}`,
        repoDigest: { ref: nginxPinned, digest: D1 },
        digest: D1,
      },
    ],
    [
      'containerd repo digest wins over a different pinned digest',
      `ghcr.io/org/app@sha256:${H1}`,
      `ghcr.io/org/app@sha256:${H2}`,
      {
        raw: `ghcr.io/org/app@sha256:${H1}`,
        repoDigest: { ref: { registry: 'ghcr.io', repository: 'org/app', digest: D1 }, digest: D1 },
        digest: D1,
      },
    ],
    [
      'containerd uppercase digest is normalised',
      `ghcr.io/org/app@sha256:${H1.toUpperCase()}`,
      undefined,
      {
        raw: `ghcr.io/org/app@sha256:${H1.toUpperCase()}`,
        repoDigest: { ref: { registry: 'ghcr.io', repository: 'org/app', digest: D1 }, digest: D1 },
        digest: D1,
      },
    ],
    [
      'containerd bare sha256 (no repo digest)',
      `sha256:${H2}`,
      'myapp:dev',
      { raw: `sha256:${H2}`, configId: D2 },
    ],
    [
      'containerd bare sha256 with a pinned spec image',
      `sha256:${H2}`,
      `myapp@sha256:${H1}`,
      { raw: `sha256:${H2}`, configId: D2, digest: D1 },
    ],
    ['bare 64 hex image id', H2, undefined, { raw: H2, configId: D2 }],
    [
      'uppercase bare sha256',
      `sha256:${H2.toUpperCase()}`,
      undefined,
      { raw: `sha256:${H2.toUpperCase()}`, configId: D2 },
    ],
    ['padded with whitespace', ` sha256:${H2} `, undefined, { raw: ` sha256:${H2} `, configId: D2 }],
    ['pending container (empty)', '', 'nginx:1.25', { raw: '' }],
    ['pending container with a pinned spec image', '', `nginx@sha256:${H1}`, { raw: '' }],
    ['whitespace only', '   ', undefined, { raw: '   ' }],
    ['garbage', 'not an image id', undefined, { raw: 'not an image id' }],
    [
      'docker-pullable without digest',
      'docker-pullable://nginx:1.25',
      undefined,
      { raw: 'docker-pullable://nginx:1.25' },
    ],
    ['unknown scheme', `containerd://sha256:${H1}`, undefined, { raw: `containerd://sha256:${H1}` }],
    ['short sha256', 'sha256:abc', undefined, { raw: 'sha256:abc' }],
    ['sha512 image id', `sha512:${H1}${H1}`, undefined, { raw: `sha512:${H1}${H1}` }],
    [
      'bad repo digest',
      'docker.io/library/nginx@sha256:abc',
      undefined,
      { raw: 'docker.io/library/nginx@sha256:abc' },
    ],
    ['unparseable id with a pinned spec image', 'weird', `nginx@sha256:${H1}`, { raw: 'weird' }],
  ])('%s', (_label, imageID, imageAsWritten, expected) => {
    expect(parseRuntimeImageId(imageID, imageAsWritten)).toStrictEqual(expected);
  });

  it('never throws, even on hostile input', () => {
    for (const id of [
      '@',
      '@@',
      '<>',
      '``',
      'docker://',
      'docker-pullable://',
      'x'.repeat(10_000),
      '\u0000',
    ]) {
      expect(() => parseRuntimeImageId(id, id)).not.toThrow();
    }
  });

  it.each([
    [`docker-pullable://nginx@sha256:${H1}`, undefined, true],
    [`docker.io/library/nginx@sha256:${H1}`, undefined, true],
    [`docker://sha256:${H2}`, undefined, false],
    [`docker://sha256:${H2}`, `nginx@sha256:${H1}`, true],
    [`sha256:${H2}`, undefined, false],
    ['', undefined, false],
    ['garbage', undefined, false],
  ])('isManifestDigestKnown(%j, %j) is %s', (imageID, imageAsWritten, expected) => {
    const rt = parseRuntimeImageId(imageID, imageAsWritten);
    expect(isManifestDigestKnown(rt)).toBe(expected);
    if (isManifestDigestKnown(rt)) {
      const digest: Digest = rt.digest;
      expect(isDigest(digest)).toBe(true);
    }
  });
});
