import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { doubleSubmitId } from '../../src/handlers/enqueue.ts';
import { correlationIdFor } from '../../src/handlers/scope-command.ts';
import { commandJobId } from '../../src/jobs/definitions.ts';
import { md } from '../../src/render/message.ts';
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

function jobIdFor(triggerId: string): string {
  return commandJobId(correlationIdFor({ text: '', userId: 'U0RESPONDER', channelId: INCIDENT, triggerId }));
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
    const entries = await h.slack.waitFor(async () => {
      const e = await h?.container.audit.recent();
      return e?.length ? e : undefined;
    });
    expect(entries.map((e) => e.kind)).toEqual(['refusal']);
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

  it('maps a redelivery with the same trigger_id to the same job, even after the double-submit window', async () => {
    h = await startScope();
    const fields = { trigger_id: 'trig-duplicate-1' };
    const first = await slash(h, 'status', fields);
    expect(ackText(first)).toContain('Working on');
    const jobId = /Job `(cmd-[0-9a-f]+)`/.exec(ackText(first))?.[1] ?? '';
    await h.slack.waitFor(async () => {
      const j = await h?.container.commandQueue.getJob(jobId);
      return (await j?.getState()) === 'completed';
    });
    // The double-submit window (5 s) is over: only the trigger_id-based job id can match the redelivery now.
    await h.container.commandQueue.removeDeduplicationKey(doubleSubmitId('U0RESPONDER', INCIDENT, 'status'));
    const second = await slash(h, 'status', fields);
    expect(ackText(second)).toContain('Already working on');
    expect(await jobCount(h)).toBe(1);
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
  });

  it('treats a double submission within seconds as one job (different trigger_ids)', async () => {
    h = await startScope({ worker: false });
    const first = await slash(h, 'status', { trigger_id: 'trig-double-1' });
    const jobId = /Job `(cmd-[0-9a-f]+)`/.exec(ackText(first))?.[1] ?? '';
    const again = await slash(h, 'status', { trigger_id: 'trig-double-2' });
    expect(ackText(again)).toContain('Already working on');
    expect(ackText(again)).toContain(jobId);
    expect(await jobCount(h)).toBe(1);
    h.startWorker();
    await h.slack.waitFor(async () => {
      const j = await h?.container.commandQueue.getJob(jobId);
      return (await j?.getState()) === 'completed';
    });
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
  });

  it("delivers after Slack answers 429 with Retry-After, through the Web API client's own retry", async () => {
    h = await startScope();
    h.slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });
    await slash(h, 'status', { trigger_id: 'trig-429' });
    const job = await h.slack.waitFor(async () => {
      const j = await h?.container.commandQueue.getJob(jobIdFor('trig-429'));
      return (await j?.getState()) === 'completed' ? j : undefined;
    }, 10_000);
    expect(h.slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(h.slack.messages(INCIDENT)).toHaveLength(1);
    // The client waited out Retry-After inside the first job attempt; the job itself was not retried.
    expect(job.attemptsStarted).toBe(1);
    expect(h.logs.some((l) => l.includes('"component":"slack-web-api"') && /rate limit/i.test(l))).toBe(true);
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

  it('posts exactly once when the worker dies after Slack accepted the post but before it learnt the ts', async () => {
    h = await startScope({ worker: false });
    // Slack (the fake) stores the message but withholds its reply: the worker is killed inside that window.
    const held = h.slack.holdReply('chat.postMessage');
    const cfgPath = join(tmpdir(), `scope-kill-${process.pid}-${Date.now()}.yaml`);
    await writeFile(
      cfgPath,
      dump({ ...JSON.parse(JSON.stringify(h.config)), http: { port: 0, host: '127.0.0.1' } }),
    );
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ['src/main.ts', 'worker'], {
        env: { ...process.env, SCOPE_CONFIG: cfgPath },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      await slash(h, 'status', { trigger_id: 'trig-kill-1' });
      await held.arrived;
      expect(h.slack.messages(INCIDENT)).toHaveLength(1);
      child.kill('SIGKILL');
      await once(child, 'exit');
      h.startWorker();
      const job = await h.slack.waitFor(async () => {
        const j = await h?.container.commandQueue.getJob(jobIdFor('trig-kill-1'));
        return (await j?.getState()) === 'completed' ? j : undefined;
      }, 20_000);
      expect(job.attemptsStarted).toBeGreaterThanOrEqual(2);
      const messages = h.slack.messages(INCIDENT);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.edited).toBeDefined();
      expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
      expect(h.slack.callsTo('conversations.history').length).toBeGreaterThanOrEqual(1);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      held.release();
    }
  });

  it('updates the message it posted when a job is retried after delivery (delivery record)', async () => {
    h = await startScope({ worker: false });
    const { SlackNotifier } = await import('../../src/adapters/slack/notifier.ts');
    const { slackClient } = await import('../../src/worker-process.ts');
    const notifier = new SlackNotifier(
      slackClient(h.container),
      h.container.redis,
      h.config.redis.prefix,
      h.container.log,
      h.config.slack,
    );
    const msg = (text: string) => ({
      summary: text,
      blocks: [{ kind: 'section' as const, text: md`${text}` }],
    });
    const first = await notifier.deliver({ channelId: INCIDENT }, msg('first'), 'cmd-0123456789abcdef');
    const second = await notifier.deliver({ channelId: INCIDENT }, msg('second'), 'cmd-0123456789abcdef');
    expect(second.ts).toBe(first.ts);
    expect(h.slack.messages(INCIDENT).map((m) => m.text)).toEqual(['second']);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
    // A record read back from Redis is validated: a forged one pointing elsewhere is not trusted.
    await h.container.redis.set(
      `${h.config.redis.prefix}:delivered:cmd-0123456789abcdef`,
      JSON.stringify({ state: 'posted', channel: 'C0OTHER', ts: '1.000001' }),
    );
    await notifier.deliver({ channelId: INCIDENT }, msg('third'), 'cmd-0123456789abcdef');
    expect(h.slack.callsTo('chat.update').map((c) => c.body.channel)).toEqual([INCIDENT, INCIDENT]);
    expect(h.slack.messages(INCIDENT).map((m) => m.text)).toEqual(['third']);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
