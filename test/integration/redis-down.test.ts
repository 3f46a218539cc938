import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/testing/redis-server.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { startTcpProxy, type TcpProxy } from '../../src/testing/tcp-proxy.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';

function ackText(res: { json?: unknown }): string {
  const j = res.json as { text?: string; blocks?: unknown[] } | undefined;
  return `${j?.text ?? ''} ${JSON.stringify(j?.blocks ?? [])}`;
}

function jobIdIn(text: string): string | undefined {
  return /(cmd-[0-9a-f]{16})/.exec(text)?.[1];
}

/** A whole scope whose Redis connections all go through a proxy the test can cut or hang. */
async function scopeBehindProxy(): Promise<{ h: ScopeHarness; proxy: TcpProxy }> {
  const redis = new URL(inject('redisUrl'));
  const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port) });
  const h = await startScope({
    overrides: {
      redis: { url: `redis://127.0.0.1:${proxy.port}`, prefix: `{t${randomUUID().slice(0, 8)}}` },
    },
  });
  return { h, proxy };
}

async function connectionState(h: ScopeHarness, ready: boolean): Promise<void> {
  await h.slack.waitFor(
    () =>
      (h.container.commandConnection.status === 'ready') === ready &&
      (h.container.redis.status === 'ready') === ready,
    10_000,
  );
}

describe('when Redis is unreachable or hangs', () => {
  let h: ScopeHarness | undefined;
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    proxy?.up();
    proxy?.release();
    await h?.close();
    await proxy?.close();
    h = undefined;
    proxy = undefined;
  });

  it('says nothing was started, and nothing runs once Redis is back', async () => {
    ({ h, proxy } = await scopeBehindProxy());
    await connectionState(h, true);
    proxy.down();
    await connectionState(h, false);
    const res = await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'status',
      trigger_id: 'trig-down-1',
      response_url: h.slack.responseUrl(),
    });
    expect(res.status).toBe(200);
    expect(ackText(res)).toContain('Nothing was started, and nothing will start later');
    const refused = jobIdIn(ackText(res));
    proxy.up();
    await connectionState(h, true);
    // A later command goes through: once it is answered, the first one would have run before it, had it been kept.
    const later = await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'where prod-eu',
      trigger_id: 'trig-down-2',
      response_url: h.slack.responseUrl(),
    });
    expect(ackText(later)).toContain('Working on');
    await h.slack.waitFor(() => (h?.slack.messages(INCIDENT).length ?? 0) > 0, 10_000);
    const counts = await h.container.commandQueue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    if (refused) expect(await h.container.commandQueue.getJob(refused)).toBeUndefined();
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
    expect(h.slack.messages(INCIDENT)[0]?.text).toContain('where prod-eu');
  });

  it('says a command sent to a hanging Redis will run when it answers, and it does, once', async () => {
    ({ h, proxy } = await scopeBehindProxy());
    await connectionState(h, true);
    proxy.blackhole();
    const res = await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'status',
      trigger_id: 'trig-hang-1',
      response_url: h.slack.responseUrl(),
    });
    expect(res.status).toBe(200);
    expect(ackText(res)).toContain('will run as soon as it answers');
    expect(h.slack.messages(INCIDENT)).toHaveLength(0);
    proxy.release();
    await h.slack.waitFor(() => (h?.slack.messages(INCIDENT).length ?? 0) > 0, 15_000);
    await h.slack.waitFor(
      async () => (await h?.container.commandQueue.getJobCounts('completed'))?.completed === 1,
    );
    const counts = await h.container.commandQueue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
  });

  it('acknowledges an invalid command at once while Redis is down; its audit entry is written when Redis returns', async () => {
    ({ h, proxy } = await scopeBehindProxy());
    proxy.down();
    await connectionState(h, false);
    const res = await sendSlashCommand(h.endpoint, SIGNING_SECRET, { text: 'digets sha256:abc' });
    expect(res.status).toBe(200);
    expect(ackText(res)).toContain('is not a scope command');
    proxy.up();
    const entries = await h.slack.waitFor(async () => {
      const e = await h?.container.audit.recent();
      return e?.length ? e : undefined;
    }, 10_000);
    expect(entries.map((e) => e.kind)).toEqual(['refusal']);
  });
});

describe('the CLI against an unreachable Redis', () => {
  it('fails with a clear message, the JSON envelope and exit 69', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['src/main.ts', 'cli', 'status', '--json'], {
      env: {
        ...process.env,
        SCOPE_CONFIG: '',
        SCOPE_REDIS_URL: `redis://127.0.0.1:${port}`,
        SCOPE_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(69);
    const out = JSON.parse(stdout) as {
      schema: string;
      ok: boolean;
      error: { code: string; message: string };
    };
    expect(out).toMatchObject({ schema: 'scope.cli/v1', ok: false, error: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(out.error.message).toContain(`cannot reach Redis at 127.0.0.1:${port}`);
  }, 30_000);
});
