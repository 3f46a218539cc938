import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';

function slash(h: ScopeHarness, text: string, extra: Record<string, string> = {}) {
  return sendSlashCommand(h.endpoint, SIGNING_SECRET, {
    text,
    user_id: 'U0RESPONDER',
    user_name: 'responder',
    channel_id: INCIDENT,
    trigger_id: `trig-${Math.random().toString(36).slice(2)}`,
    response_url: h.slack.responseUrl(),
    ...extra,
  });
}

function ackText(res: { json?: unknown; body: string }): string {
  const j = res.json as { text?: string; blocks?: unknown[] } | undefined;
  return `${j?.text ?? ''} ${JSON.stringify(j?.blocks ?? [])}`;
}

async function jobCount(h: ScopeHarness): Promise<number> {
  const c = await h.container.commandQueue.getJobCounts(
    'waiting',
    'active',
    'completed',
    'failed',
    'delayed',
    'prioritized',
  );
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('slash command → queue → worker → incident channel', () => {
  let h: ScopeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('acks at once, runs the job on a worker and posts the answer into the channel', async () => {
    h = await startScope();
    const res = await slash(h, 'status');
    expect(res.status).toBe(200);
    expect(ackText(res)).toContain('Working on');
    expect((res.json as { response_type?: string }).response_type).toBe('ephemeral');
    const msg = await h.slack.waitFor(() =>
      h?.slack.messages(INCIDENT).find((m) => m.text.includes('scope status')),
    );
    expect(JSON.stringify(msg.blocks)).toContain('Workers');
    const audit = await h.slack.waitFor(async () => {
      const entries = await h?.container.audit.recent();
      return entries?.length === 2 ? entries : undefined;
    });
    expect(audit.map((e) => e.kind)).toEqual(['request', 'result']);
    expect(await h.container.audit.verify()).toBeUndefined();
    expect(h.slack.callsTo('auth.test')).toHaveLength(1);
  });

  it('rejects a forged signature with 401 and queues nothing', async () => {
    h = await startScope();
    const res = await sendSlashCommand(
      h.endpoint,
      SIGNING_SECRET,
      { text: 'status', user_id: 'U0X', channel_id: INCIDENT },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(res.status).toBe(401);
    expect(await jobCount(h)).toBe(0);
  });

  it('rejects a stale timestamp with 401', async () => {
    h = await startScope();
    const res = await sendSlashCommand(
      h.endpoint,
      SIGNING_SECRET,
      { text: 'status', user_id: 'U0X', channel_id: INCIDENT },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(res.status).toBe(401);
    expect(await jobCount(h)).toBe(0);
  });

  it('answers an unknown subcommand with usage, ephemerally, and queues nothing', async () => {
    h = await startScope();
    const res = await slash(h, 'digets sha256:abc');
    expect(res.status).toBe(200);
    const text = ackText(res);
    expect(text).toContain('is not a scope command');
    expect(text).toContain('Did you mean');
    expect(text).toContain('/scope help');
    expect(await jobCount(h)).toBe(0);
    expect((await h.container.audit.recent()).map((e) => e.kind)).toEqual(['refusal']);
  });

  it('answers a malformed Slack payload with a clear ephemeral error and queues nothing', async () => {
    h = await startScope();
    const res = await slash(h, 'status', { user_id: 'not-a-user' });
    expect(res.status).toBe(200);
    expect(ackText(res)).toContain('could not read');
    expect(await jobCount(h)).toBe(0);
  });

  it('escapes what the user typed in the reply: no pings, no links', async () => {
    h = await startScope();
    const res = await slash(h, 'image ev<!channel>il<https://evil.example|click>');
    expect(ackText(res)).toContain('&lt;');
    const text = ackText(res);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example');
  });

  it('refuses channels outside the allow-list politely', async () => {
    h = await startScope();
    const res = await slash(h, 'status', { channel_id: 'C0RANDOM' });
    expect(ackText(res)).toContain('not enabled in this channel');
    expect(await jobCount(h)).toBe(0);
  });

  it('runs a duplicate delivery (same trigger) once and posts once', async () => {
    h = await startScope({ worker: false });
    const fields = { trigger_id: 'trig-duplicate-1' };
    const first = await slash(h, 'status', fields);
    const second = await slash(h, 'status', fields);
    expect(ackText(first)).toContain('Working on');
    expect(ackText(second)).toContain('Already working on');
    expect(await jobCount(h)).toBe(1);
    h.startWorker();
    await h.slack.waitFor(() => (h?.slack.messages(INCIDENT).length ?? 0) > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
  });

  it('treats a double submission within seconds as one job', async () => {
    h = await startScope({ worker: false });
    await slash(h, 'status');
    const again = await slash(h, 'status');
    expect(ackText(again)).toContain('Already working on');
    expect(await jobCount(h)).toBe(1);
  });

  it('delivers after Slack answers 429 with Retry-After', async () => {
    h = await startScope();
    h.slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });
    await slash(h, 'status');
    await h.slack.waitFor(() => (h?.slack.messages(INCIDENT).length ?? 0) > 0, 10_000);
    expect(h.slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
  });

  it('posts a clear failure with a correlation id when delivery keeps failing', async () => {
    h = await startScope();
    h.slack.failNext('chat.postMessage', { error: 'internal_error' }, 3);
    await slash(h, 'status', { trigger_id: 'trig-fail-1' });
    const msg = await h.slack.waitFor(
      () => h?.slack.messages(INCIDENT).find((m) => m.text.includes('failed')),
      10_000,
    );
    expect(msg.text).toMatch(/failed \([0-9a-f]{16}\)/);
    expect(JSON.stringify(msg.blocks)).toContain('Correlation id');
    await h.slack.waitFor(async () => (await h?.container.audit.recent())?.some((e) => e.kind === 'failure'));
  });

  it('finishes a job whose worker was killed mid-job, after restart, and posts it once', async () => {
    h = await startScope({ worker: false });
    // A loopback proxy in front of the fake Slack that swallows the first chat.postMessage: the killed worker hangs there.
    let held = 0;
    const target = new URL(h.slack.apiUrl);
    const proxy = createServer((req, res) => {
      if (req.url?.includes('chat.postMessage') && held === 0) {
        held++;
        return;
      }
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/`;
    const cfgPath = join(tmpdir(), `scope-kill-${process.pid}-${Date.now()}.yaml`);
    await writeFile(
      cfgPath,
      dump({
        ...JSON.parse(JSON.stringify(h.config)),
        slack: { ...h.config.slack, apiUrl: proxyUrl },
        http: { port: 0, host: '127.0.0.1' },
      }),
    );
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ['src/main.ts', 'worker'], {
        env: { ...process.env, SCOPE_CONFIG: cfgPath },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      await slash(h, 'status', { trigger_id: 'trig-kill-1' });
      await h.slack.waitFor(() => held > 0, 15_000);
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(h.slack.messages(INCIDENT)).toHaveLength(0);
      h.startWorker();
      await h.slack.waitFor(() => (h?.slack.messages(INCIDENT).length ?? 0) > 0, 15_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(h.slack.messages(INCIDENT)).toHaveLength(1);
      const job = await h.container.commandQueue.getJob(
        `cmd-${(await h.container.audit.recent())[0]?.correlationId}`,
      );
      expect(await job?.getState()).toBe('completed');
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
