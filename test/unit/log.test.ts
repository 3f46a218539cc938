import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../../src/log.ts';

const BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';
const APP_TOKEN = 'xapp-1-A0123ABCD-1234567890-abcdef0123456789';
const USER_TOKEN = 'xoxp-1234-5678-abcdef';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SESSION_KEY = 'ASIAIOSFODNN7EXAMPLE';
const ALL_SECRETS = [BOT_TOKEN, APP_TOKEN, USER_TOKEN, AWS_KEY, AWS_SESSION_KEY];

/** A logger writing into an array, plus the parsed lines and the raw text (to search for leaks anywhere). */
function capture(level = 'trace') {
  const chunks: string[] = [];
  const log = createLogger(level, 'test', { write: (s: string) => void chunks.push(s) });
  return {
    log,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function expectNoSecrets(raw: string): void {
  for (const secret of ALL_SECRETS) expect(raw).not.toContain(secret);
  // Not even a recognisable tail of one.
  expect(raw).not.toContain('1234567890-0987654321');
  expect(raw).not.toContain('OSFODNN7EXAMPLE');
}

describe('scrubSecrets', () => {
  it('replaces token-shaped words, keeping only the kind', () => {
    expect(scrubSecrets(`bot ${BOT_TOKEN}, app ${APP_TOKEN}.`)).toBe(
      'bot xoxb…[redacted], app xapp…[redacted].',
    );
    expect(scrubSecrets(`key=${AWS_KEY} session=${AWS_SESSION_KEY}`)).toBe(
      'key=AKIA…[redacted] session=ASIA…[redacted]',
    );
    expect(scrubSecrets(`Authorization: Bearer ${USER_TOKEN}`)).toBe('Authorization: Bearer xoxp…[redacted]');
  });

  it('leaves ordinary text alone', () => {
    const text = 'sha256:8e6b0123 runs in prod-eu; AKIA is a prefix; xoxb without dash';
    expect(scrubSecrets(text)).toBe(text);
  });

  it('does not mistake a longer upper-case word for an AWS key', () => {
    const word = `${AWS_KEY}EXTRA`;
    expect(scrubSecrets(word)).toBe(word);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call with the service, process and message', () => {
    const c = capture();
    c.log.info({ cluster: 'prod-eu' }, 'synced');
    const [line] = c.lines();
    expect(line).toMatchObject({
      level: 30,
      service: 'scope',
      process: 'test',
      name: 'test',
      cluster: 'prod-eu',
      msg: 'synced',
    });
    expect(typeof line?.time).toBe('string');
    expect(Number.isNaN(Date.parse(line?.time as string))).toBe(false);
  });

  it('honours the level', () => {
    const c = capture('warn');
    c.log.info('quiet');
    c.log.warn('loud');
    expect(c.lines().map((l) => l.msg)).toEqual(['loud']);
  });

  it('redacts secrets by key, at the top level and nested', () => {
    const c = capture();
    c.log.info(
      {
        token: 'plain-token-value',
        botToken: 'bot-token-value',
        signingSecret: 'signing-secret-value',
        slack: { botToken: 'nested-bot-token', appToken: 'nested-app-token', mode: 'socket' },
        headers: { authorization: 'Bearer header-value', 'content-type': 'application/json' },
        aws: { credentials: { secretAccessKey: 'deep-secret-value', accessKeyId: 'visible-id' } },
        redis: { password: 'redis-password-value' },
      },
      'configured',
    );
    const [line] = c.lines();
    expect(line).toMatchObject({
      token: '[redacted]',
      botToken: '[redacted]',
      signingSecret: '[redacted]',
      slack: { botToken: '[redacted]', appToken: '[redacted]', mode: 'socket' },
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
      aws: { credentials: { secretAccessKey: '[redacted]', accessKeyId: 'visible-id' } },
      redis: { password: '[redacted]' },
    });
    expect(c.raw()).not.toMatch(/token-value|secret-value|nested-|header-value|redis-password/);
  });

  it('redacts in child loggers too', () => {
    const c = capture();
    c.log.child({ correlationId: 'c-1' }).info({ slack: { botToken: 'child-bot-token' } }, 'child');
    expect(c.lines()[0]).toMatchObject({ correlationId: 'c-1', slack: { botToken: '[redacted]' } });
    expect(c.raw()).not.toContain('child-bot-token');
  });

  it('scrubs token-shaped strings inside the message', () => {
    const c = capture();
    c.log.warn(`Slack refused ${BOT_TOKEN} and ${APP_TOKEN}`);
    c.log.warn({ cluster: 'prod-eu' }, `AWS key ${AWS_KEY} used from %s`, 'eu-west-1');
    const [a, b] = c.lines();
    expect(a?.msg).toBe('Slack refused xoxb…[redacted] and xapp…[redacted]');
    expect(b?.msg).toBe('AWS key AKIA…[redacted] used from eu-west-1');
    expectNoSecrets(c.raw());
  });

  it('scrubs token-shaped strings inside an error message and its stack', () => {
    const c = capture();
    c.log.error({ err: new Error(`auth.test failed for ${BOT_TOKEN}`) }, 'slack call failed');
    const [line] = c.lines();
    const err = line?.err as Record<string, unknown>;
    expect(line?.msg).toBe('slack call failed');
    expect(err.type).toBe('Error');
    expect(err.message).toBe('auth.test failed for xoxb…[redacted]');
    expect(String(err.stack)).toContain('auth.test failed for xoxb…[redacted]');
    expectNoSecrets(c.raw());
  });

  it('scrubs an error logged on its own, whose message becomes the log message', () => {
    const c = capture();
    c.log.error(new Error(`STS rejected ${AWS_SESSION_KEY}`));
    const [line] = c.lines();
    expect(line?.msg).toBe('STS rejected ASIA…[redacted]');
    expect(line?.err).toMatchObject({ message: 'STS rejected ASIA…[redacted]' });
    expectNoSecrets(c.raw());
  });

  it('scrubs the cause of an error', () => {
    const c = capture();
    const cause = new Error(`token ${USER_TOKEN} revoked`);
    c.log.error({ err: new Error('request failed', { cause }) }, 'failed');
    expectNoSecrets(c.raw());
    expect(c.raw()).toContain('xoxp…[redacted]');
  });

  it('scrubs token-shaped strings in other fields', () => {
    const c = capture();
    c.log.info({ url: `https://hooks.example.com/x?t=${BOT_TOKEN}`, note: [`k ${AWS_KEY}`] }, 'called');
    expectNoSecrets(c.raw());
    expect(c.lines()[0]).toMatchObject({
      url: 'https://hooks.example.com/x?t=xoxb…[redacted]',
      note: ['k AKIA…[redacted]'],
    });
  });

  it('logs a thrown non-Error under err as it is', () => {
    const c = capture();
    c.log.warn({ err: 'socket hang up' }, 'request failed');
    c.log.warn({ err: { code: 'ECONNRESET' } }, 'request failed');
    const [a, b] = c.lines();
    expect(a?.err).toBe('socket hang up');
    expect(b?.err).toEqual({ code: 'ECONNRESET' });
  });
});

describe('secrets in output', () => {
  const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it('redacts secret keys at any depth', () => {
    const c = capture();
    c.log.info(
      {
        a: { b: { c: { signingSecret: 'deep-signing-value' } } },
        x: { y: { z: { password: 'deep-password-value', user: 'scope' } } },
        clusters: [{ aws: { credentials: { secretAccessKey: 'deep-aws-value', accessKeyId: 'id-1' } } }],
        audit: { hmacSecret: 'audit-key-value' },
        redis: { sentinel: { sentinelPassword: 'sentinel-value' } },
      },
      'deep',
    );
    expect(c.raw()).not.toMatch(/deep-signing|deep-password|deep-aws|audit-key-value|sentinel-value/);
    expect(c.lines()[0]).toMatchObject({
      a: { b: { c: { signingSecret: '[redacted]' } } },
      x: { y: { z: { password: '[redacted]', user: 'scope' } } },
      clusters: [{ aws: { credentials: { secretAccessKey: '[redacted]', accessKeyId: 'id-1' } } }],
    });
  });

  it('redacts Slack tokens of every kind by shape (xoxe, xoxc, xoxp, xoxa, xoxr, rotated xoxe.xoxp)', () => {
    const tokens = [
      'xoxe-1-My0xLTEyMzQtNTY3OA',
      'xoxc-1234567890-0987654321-abcdef',
      'xoxp-1234567890-0987654321-abcdef',
      'xoxa-2-abcdef0123456789',
      'xoxr-2-abcdef0123456789',
      'xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4',
    ];
    const c = capture();
    c.log.warn({ note: tokens.join(' ') }, `tokens ${tokens.join(', ')}`);
    for (const t of tokens) expect(c.raw()).not.toContain(t.slice(5));
  });

  it('redacts credentials in URLs (redis://user:password@, rediss://:password@, https://u:p@)', () => {
    const c = capture();
    c.log.error(
      {
        url: 'rediss://scope:Sup3rSecretPw@redis.internal:6380/0',
        other: 'redis://:hunter2pw@10.0.0.5:6379',
      },
      'connect to https://admin:adminpw123@registry.local/v2/ failed',
    );
    const raw = c.raw();
    expect(raw).not.toMatch(/Sup3rSecretPw|hunter2pw|adminpw123/);
    expect(c.lines()[0]).toMatchObject({
      url: 'rediss://scope:[redacted]@redis.internal:6380/0',
      other: 'redis://:[redacted]@10.0.0.5:6379',
    });
  });

  it('redacts an AWS secret access key next to its key id, but not a SHA-1 or a digest', () => {
    expect(scrubSecrets(`aws_access_key_id=${AWS_KEY} aws_secret_access_key=${AWS_SECRET}`)).toBe(
      'aws_access_key_id=AKIA…[redacted] aws_secret_access_key=[redacted]',
    );
    expect(scrubSecrets(`credentials ${AWS_KEY}:${AWS_SECRET}`)).not.toContain(AWS_SECRET);
    const sha1 = 'commit 3f786850e387550fdab836ed7e6dc881de23001b for secret rotation';
    expect(scrubSecrets(sha1)).toBe(sha1);
  });

  it('serialises an Error under any key, with its cause, scrubbed', () => {
    const c = capture();
    const cause = new Error('connect ECONNREFUSED redis://default:causepw42@redis:6379');
    c.log.error(
      {
        error: new Error(`auth failed for ${USER_TOKEN}`, { cause }),
        detail: { failure: new TypeError('p.containers.filter is not a function') },
      },
      'failed',
    );
    const [line] = c.lines();
    expect(line?.error).toMatchObject({
      type: 'Error',
      message: 'auth failed for xoxp…[redacted]',
      cause: { type: 'Error', message: 'connect ECONNREFUSED redis://default:[redacted]@redis:6379' },
    });
    expect(String((line?.error as { stack?: string } | undefined)?.stack)).toContain(
      'auth failed for xoxp…[redacted]',
    );
    expect(line?.detail).toMatchObject({
      failure: { type: 'TypeError', message: 'p.containers.filter is not a function' },
    });
    expect(c.raw()).not.toContain('causepw42');
    expectNoSecrets(c.raw());
  });

  it('a secret in a child logger binding is redacted', () => {
    const c = capture();
    c.log.child({ redis: { url: 'redis://u:bindingpw@h:1', password: 'bindpw2' } }).info('x');
    expect(c.raw()).not.toMatch(/bindingpw|bindpw2/);
  });

  it('a YAML syntax error in the config reports only the reason and the position', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadConfig } = await import('../../src/config.ts');
    const file = join(mkdtempSync(join(tmpdir(), 'scope-yaml-')), 'scope.yaml');
    writeFileSync(
      file,
      `slack:\n  botToken: ${BOT_TOKEN}\n  signingSecret: "s3cr3t-signing-value\n  x: [1, 2\n`,
    );
    let message = '';
    try {
      loadConfig({}, file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not valid YAML: .+ at line \d+, column \d+$/);
    expect(message).not.toContain('xoxb');
    expect(message).not.toContain('s3cr3t');
    expect(message).not.toContain('\n');
  });
});
