import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildContainer } from '../../src/container.ts';
import { handleScopeCommand } from '../../src/handlers/scope-command.ts';
import { createLogger } from '../../src/log.ts';
import { AuditLog } from '../../src/store/audit/audit-log.ts';
import { freePort, type RedisServer, startRedisServer } from '../../src/testing/redis-server.ts';

const KEY = 'outage-key-0123456789abcdef0123456789abcdef';
const run = promisify(execFile);

let dir: string;
let port: number;
let server: RedisServer | undefined;

const start = async () => {
  server = await startRedisServer(undefined, { port, dir, appendonly: true });
};
const stop = async () => {
  await server?.stop();
  server = undefined;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scope-audit-outage-'));
  port = await freePort();
  await start();
});
afterAll(async () => {
  await stop();
  await rm(dir, { recursive: true, force: true });
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', 'test', {
    write: (s: string) => {
      for (const l of s.split('\n').filter(Boolean)) lines.push(JSON.parse(l));
    },
  });
  return { log, lines };
}

/** The same connection settings the container gives the audit writer. */
function auditConnection(): Redis {
  const r = new Redis(`redis://127.0.0.1:${port}`, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 3000,
    retryStrategy: () => 50,
  });
  r.on('error', () => {});
  return r;
}

async function connected(r: Redis): Promise<void> {
  if (r.status !== 'ready') await new Promise((resolve) => r.once('ready', resolve));
}

describe('audit append while Redis is down', () => {
  it('buffers without blocking, then writes in order with a valid chain when Redis returns', async () => {
    const redis = auditConnection();
    await connected(redis);
    const c = capture();
    const audit = new AuditLog(redis, '{outage1}', { key: KEY, log: c.log, maxRetryMs: 100 });
    await audit.append({ kind: 'request', actor: 'U1', command: 'status', correlationId: 'c1' });
    expect(await audit.flush()).toBe(true);

    await stop();
    for (let i = 2; i <= 5; i++)
      await audit.append({ kind: 'request', actor: 'U1', command: 'status', correlationId: `c${i}` });
    // Every append returned with Redis down; the entries wait in the buffer.
    expect(audit.pending).toBe(4);

    await start();
    expect(await audit.flush(15_000)).toBe(true);
    const report = await audit.check();
    expect(report).toMatchObject({ ok: true, entries: 5 });
    expect((await audit.recent()).map((e) => e.correlationId)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect(c.lines.some((l) => String(l.msg).startsWith('cannot write the audit trail'))).toBe(true);
    await audit.close(100);
    redis.disconnect();
  });

  it('logs overflowing entries as lost, loudly, and records the gap in the chain', async () => {
    const redis = auditConnection();
    await connected(redis);
    const c = capture();
    const audit = new AuditLog(redis, '{outage2}', { key: KEY, log: c.log, bufferMax: 2, maxRetryMs: 100 });
    await stop();
    for (let i = 1; i <= 4; i++)
      await audit.append({ kind: 'refusal', actor: 'U1', command: 'x', correlationId: `o${i}` });
    expect(audit.pending).toBe(2);
    expect(audit.lost).toBe(2);
    const lost = c.lines.filter((l) => l.level === 60);
    expect(lost.map((l) => (l.lost as { correlationId: string }).correlationId)).toEqual(['o3', 'o4']);
    expect(String(lost[0]?.msg)).toMatch(/AUDIT ENTRY LOST/);

    await start();
    expect(await audit.flush(15_000)).toBe(true);
    const entries = await audit.recent();
    expect(entries.map((e) => e.correlationId)).toEqual(['o1', 'o2', 'audit']);
    expect(entries[2]).toMatchObject({ kind: 'system', outcome: 'lost' });
    expect(entries[2]?.detail).toMatch(/^2 audit entries were lost/);
    expect((await audit.check()).ok).toBe(true);
    await audit.close(100);
    redis.disconnect();
  });

  it('a process that exits with unwritten entries reports each as lost on stderr', async () => {
    const deadPort = await freePort();
    const child = await run(
      process.execPath,
      [join(import.meta.dirname, '../support/audit-child.ts'), `redis://127.0.0.1:${deadPort}`, '{dead}'],
      { timeout: 60_000 },
    );
    expect(child.stdout).toContain('appended 3');
    const line = child.stderr.split('\n').find((l) => l.includes('AUDIT ENTRIES LOST'));
    expect(line).toBeDefined();
    const parsed = JSON.parse(line as string) as { level: number; lost: Array<{ correlationId: string }> };
    expect(parsed.level).toBe(60);
    expect(parsed.lost.map((l) => l.correlationId)).toEqual(['lost-1', 'lost-2', 'lost-3']);
  }, 90_000);

  it('a production worker without SCOPE_AUDIT_KEY stops at start with a clear message (exit 78)', async () => {
    const main = join(import.meta.dirname, '../../src/main.ts');
    // Generous: module loading alone takes seconds on a loaded CI machine; a hang is what must not pass.
    const err = await run(process.execPath, [main, 'worker'], {
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        SCOPE_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        SCOPE_SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      },
    }).then(
      () => undefined,
      (e: { code?: number; stderr?: string; killed?: boolean }) => e,
    );
    expect(err?.killed).toBe(false);
    expect(err?.code).toBe(78);
    expect(err?.stderr).toMatch(/^scope: the audit trail needs an HMAC key: set SCOPE_AUDIT_KEY/);
  }, 90_000);

  it('an invalid /scope command is answered while Redis is down (the audit write does not block it)', async () => {
    await stop();
    const c = buildContainer(
      parseConfig({
        redis: { url: `redis://127.0.0.1:${port}`, prefix: '{outage3}' },
        log: { level: 'silent' },
      }),
      'bot',
    );
    const reply = await handleScopeCommand(
      {
        config: c.config,
        queue: c.commandQueue,
        queueConnection: c.commandConnection,
        audit: c.audit,
        metrics: c.metrics,
        log: c.log,
      },
      { text: 'bogus-command', userId: 'U0REQ', channelId: 'C0INC', triggerId: 't-outage' },
    );
    expect(reply.summary).toMatch(/is not a scope command/);
    expect(c.audit.pending).toBe(1);
    await start();
    expect(await c.audit.flush(15_000)).toBe(true);
    expect((await c.audit.recent()).map((e) => [e.kind, e.outcome])).toEqual([['refusal', 'invalid']]);
    await c.close();
  });
});
