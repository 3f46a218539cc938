import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildContainer } from '../../src/container.ts';
import { buildStatus } from '../../src/jobs/status.ts';
import { createLogger } from '../../src/log.ts';
import { redisConnectionOptions } from '../../src/store/redis-settings.ts';
import { freePort, type RedisServer, startRedisServer } from '../../src/testing/redis-server.ts';

const PASSWORD = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RULES = readFileSync(
  join(import.meta.dirname, '../../deploy/redis/scope-user.acl-rules'),
  'utf8',
).trim();

let dir: string;
let server: RedisServer;
let port: number;

/** A private CA and a server certificate for redis.scope.test, made with openssl for this run. */
function makeCerts(d: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=scope-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=redis.scope.test',
  );
  writeFileSync(join(d, 'ext'), 'subjectAltName=DNS:redis.scope.test\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext',
  );
  // A second CA that did not sign the server certificate.
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.crt',
    '-days',
    '2',
    '-subj',
    '/CN=other-ca',
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scope-redis-tls-'));
  makeCerts(dir);
  port = await freePort();
  server = await startRedisServer(undefined, {
    extraArgs: [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      join(dir, 'server.crt'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.crt'),
      '--tls-auth-clients',
      'no',
      '--user',
      'default',
      'off',
      '--user',
      'scope',
      'on',
      `>${PASSWORD}`,
      ...RULES.split(/\s+/),
    ],
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(redis: Record<string, unknown>) {
  return parseConfig({
    redis: { prefix: '{tls}', ...redis },
    log: { level: 'silent' },
    audit: { hmacSecret: 'k'.repeat(32) },
  });
}

/** Connects once without retrying and reports the first error or "ready". */
async function tryConnect(redis: Record<string, unknown>): Promise<string> {
  const { url, options } = redisConnectionOptions(config(redis).redis, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  const r = url ? new Redis(url, options) : new Redis(options);
  const errors: string[] = [];
  r.on('error', (e: Error) => errors.push(e.message));
  try {
    await r.connect();
    await r.ping();
    return 'ready';
  } catch (err) {
    return errors[0] ?? (err as Error).message;
  } finally {
    r.disconnect();
  }
}

describe('Redis with TLS (private CA) and an ACL user', () => {
  const url = () => `rediss://127.0.0.1:${port}`;
  const tls = () => ({ caFile: join(dir, 'ca.crt'), servername: 'redis.scope.test' });

  it('connects with the private CA, ACL user and password; queue, status and audit work under the ACL rules', async () => {
    const c = buildContainer(
      config({ url: url(), username: 'scope', password: PASSWORD, tls: tls() }),
      'worker',
      createLogger('silent', 'test'),
    );
    try {
      expect(await c.redis.ping()).toBe('PONG');
      expect(await c.redis.acl('WHOAMI')).toBe('scope');
      const job = await c.commandQueue.add('status', { command: { name: 'status' } } as never, {
        jobId: 'acl-1',
      });
      expect(job.id).toBe('acl-1');
      const status = await buildStatus([c.commandQueue], c.syncStates);
      expect(status.queues[0]?.waiting).toBe(1);
      await c.audit.append({ kind: 'request', actor: 'U1', command: 'status', correlationId: 'acl' });
      expect(await c.audit.flush()).toBe(true);
      expect((await c.audit.check()).ok).toBe(true);
      // The ACL keeps administrative commands away from scope's user.
      await expect(c.redis.flushall()).rejects.toThrow(/NOPERM/);
    } finally {
      await c.close();
    }
  });

  it('refuses a server certificate from another CA', async () => {
    const msg = await tryConnect({
      url: url(),
      username: 'scope',
      password: PASSWORD,
      tls: { caFile: join(dir, 'other.crt'), servername: 'redis.scope.test' },
    });
    expect(msg).toMatch(/certificate|self.signed|unable to (get|verify)/i);
  });

  it('refuses a certificate for another name', async () => {
    const msg = await tryConnect({
      url: url(),
      username: 'scope',
      password: PASSWORD,
      tls: { caFile: join(dir, 'ca.crt'), servername: 'evil.example.com' },
    });
    expect(msg).toMatch(/altnames|does not match|Hostname/i);
  });

  it('refuses a wrong password and the disabled default user', async () => {
    expect(await tryConnect({ url: url(), username: 'scope', password: 'wrong', tls: tls() })).toMatch(
      /WRONGPASS/,
    );
    expect(await tryConnect({ url: url(), tls: tls() })).toMatch(/NOAUTH|WRONGPASS|NOPERM/);
  });

  it('takes the password and user from the environment (SCOPE_REDIS_PASSWORD, SCOPE_REDIS_USERNAME)', async () => {
    const { loadConfig } = await import('../../src/config.ts');
    const cfg = loadConfig({
      SCOPE_REDIS_URL: url(),
      SCOPE_REDIS_USERNAME: 'scope',
      SCOPE_REDIS_PASSWORD: PASSWORD,
    });
    expect(cfg.redis).toMatchObject({ username: 'scope', password: PASSWORD });
  });
});

describe('redisConnectionOptions', () => {
  const read = (p: string) => Buffer.from(`pem:${p}`);

  it('builds Sentinel options with Sentinel auth and TLS for both the Sentinels and the data nodes', () => {
    const cfg = config({
      password: 'data-pw',
      username: 'scope',
      tls: { caFile: '/ca/data.pem' },
      sentinel: {
        name: 'mymaster',
        sentinels: [{ host: 's1', port: 26379 }],
        username: 'sentinel-user',
        password: 'sentinel-pw',
        tls: { caFile: '/ca/sentinel.pem', certFile: '/c.pem', keyFile: '/k.pem' },
      },
    });
    const { url, options } = redisConnectionOptions(cfg.redis, {}, read);
    expect(url).toBeUndefined();
    expect(options).toMatchObject({
      name: 'mymaster',
      username: 'scope',
      password: 'data-pw',
      sentinelUsername: 'sentinel-user',
      sentinelPassword: 'sentinel-pw',
      enableTLSForSentinelMode: true,
      tls: { rejectUnauthorized: true },
      sentinelTLS: { rejectUnauthorized: true },
    });
    expect(String(options.tls?.ca)).toBe('pem:/ca/data.pem');
    expect(String(options.sentinelTLS?.ca)).toBe('pem:/ca/sentinel.pem');
    expect(String(options.sentinelTLS?.cert)).toBe('pem:/c.pem');
  });

  it('TLS to the Sentinels only does not switch the data nodes to TLS, and the reverse', () => {
    const sentinelOnly = config({ sentinel: { name: 'm', sentinels: [{ host: 's', port: 1 }], tls: {} } });
    const a = redisConnectionOptions(sentinelOnly.redis, {}, read).options;
    expect(a.sentinelTLS).toBeDefined();
    expect(a.tls).toBeUndefined();
    expect(a.enableTLSForSentinelMode).toBeUndefined();
    const dataOnly = config({ tls: {}, sentinel: { name: 'm', sentinels: [{ host: 's', port: 1 }] } });
    const b = redisConnectionOptions(dataOnly.redis, {}, read).options;
    expect(b).toMatchObject({ enableTLSForSentinelMode: true, tls: { rejectUnauthorized: true } });
    expect(b.sentinelTLS).toBeUndefined();
  });

  it('keeps the old meaning of sentinel.password (also the data nodes) when redis.password is not set', () => {
    const cfg = config({ sentinel: { name: 'm', sentinels: [{ host: 's', port: 1 }], password: 'both' } });
    expect(redisConnectionOptions(cfg.redis, {}, read).options).toMatchObject({
      password: 'both',
      sentinelPassword: 'both',
    });
  });

  it('says which file it cannot read', () => {
    const cfg = config({ tls: { caFile: '/nonexistent/ca.pem' } });
    expect(() => redisConnectionOptions(cfg.redis, {})).toThrow(
      /cannot read redis.tls CA file \/nonexistent\/ca.pem/,
    );
  });

  it('refuses a client certificate without its key', () => {
    expect(() => config({ tls: { certFile: '/c.pem' } })).toThrow(/certFile and keyFile together/);
  });
});
