import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postToResponseUrl } from '../../src/adapters/slack/notifier.ts';
import type { CommandJobData } from '../../src/jobs/definitions.ts';
import type { StoredAuditEntry } from '../../src/store/audit/audit-log.ts';
import { sendBlockActions, sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';

/** A loopback HTTP server standing for an internal target (cloud metadata, an admin API): counts what reaches it. */
async function listener(handler?: (res: import('node:http').ServerResponse) => void) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (handler) handler(res);
    else res.writeHead(200).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { hits, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function forgedJob(over: Partial<CommandJobData> & Record<string, unknown>): CommandJobData {
  return {
    command: { name: 'status' },
    commandText: 'status',
    requester: { userId: 'U0ATTACKER' },
    reply: { channelId: 'C0OTHER' },
    correlationId: 'f0f0f0f0f0f0f0f0',
    requestedAt: new Date().toISOString(),
    ...over,
  } as CommandJobData;
}

async function refusals(h: ScopeHarness, n = 1): Promise<StoredAuditEntry[]> {
  return h.slack.waitFor(async () => {
    const r = (await h.container.audit.recent(200)).filter((e) => e.kind === 'refusal');
    return r.length >= n ? r : undefined;
  });
}

describe('response_url and forged jobs', () => {
  let h: ScopeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses a job planted in the queue with a loopback response_url: nothing leaves, the refusal is audited', async () => {
    const target = await listener();
    try {
      h = await startScope({ allowLoopback: false });
      // The bot is not in this channel, so a job that ran would fall back to its response_url.
      h.slack.addChannel({ id: 'C0OTHER', name: 'other', is_member: false });
      await h.container.commandQueue.add(
        'status',
        forgedJob({ reply: { channelId: 'C0OTHER', responseUrl: `${target.url}/latest/meta-data/iam` } }),
        { jobId: 'cmd-f0f0f0f0f0f0f0f0' },
      );
      const [entry] = await refusals(h);
      expect(entry?.outcome).toBe('refused');
      expect(entry?.detail).toContain('response_url refused');
      const job = await h.slack.waitFor(async () => {
        const j = await h?.container.commandQueue.getJob('cmd-f0f0f0f0f0f0f0f0');
        return (await j?.getState()) === 'failed' ? j : undefined;
      });
      expect(job.attemptsStarted).toBe(1);
      expect(target.hits).toEqual([]);
      expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it.each([
    ['a channel outside the allow-list', { reply: { channelId: 'C0SECRET' } }, 'allow-list'],
    ["a command that is not scope's", { command: { name: 'rm' }, commandText: 'rm -rf' }, 'command'],
    ['a command object that disagrees with its text', { command: { name: 'digest' } }, 'does not match'],
    ['a malformed shape', { requester: { userId: 42 } }, 'malformed job data (requester.userId)'],
    ['an extra field', { evil: true }, 'malformed job data'],
  ])('refuses a planted job with %s and posts nothing', async (_name, over, detail) => {
    h = await startScope();
    await h.container.commandQueue.add('status', forgedJob(over as Partial<CommandJobData>), {
      jobId: 'cmd-f0f0f0f0f0f0f0f0',
    });
    const [entry] = await refusals(h);
    expect(entry?.detail).toContain(detail);
    await h.slack.waitFor(async () => {
      const j = await h?.container.commandQueue.getJob('cmd-f0f0f0f0f0f0f0f0');
      return (await j?.getState()) === 'failed';
    });
    expect(h.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('never follows a redirect from a response_url', async () => {
    const inner = await listener();
    const outer = await listener((res) => res.writeHead(302, { location: `${inner.url}/inner` }).end());
    try {
      await expect(
        postToResponseUrl(`${outer.url}/hook`, { text: 'x' }, { responseUrlHosts: [], allowLoopback: true }),
      ).rejects.toThrow(/redirect/);
      expect(outer.hits).toHaveLength(1);
      expect(inner.hits).toEqual([]);
      await expect(
        postToResponseUrl(
          `${outer.url}/hook`,
          { text: 'x' },
          { responseUrlHosts: ['hooks.slack.com'], allowLoopback: false },
        ),
      ).rejects.toThrow(/refused/);
      expect(outer.hits).toHaveLength(1);
    } finally {
      await inner.close();
      await outer.close();
    }
  });

  it("the bot refuses a command whose response_url is not one of Slack's hosts, and audits it", async () => {
    h = await startScope({ allowLoopback: false });
    for (const url of [
      'https://evil.example/hook',
      'http://hooks.slack.com/commands/1',
      'http://127.0.0.1:9/x',
    ]) {
      const res = await sendSlashCommand(h.endpoint, SIGNING_SECRET, { text: 'status', response_url: url });
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.json)).toContain('response address is not one of Slack');
    }
    const ok = await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'status',
      response_url: 'https://hooks.slack.com/commands/T0/1/abc',
    });
    expect(JSON.stringify(ok.json)).toContain('Working on');
    const entries = await refusals(h, 3);
    expect(entries.map((e) => e.detail?.split(':')[0])).toEqual([
      'RESPONSE_URL_REFUSED',
      'RESPONSE_URL_REFUSED',
      'RESPONSE_URL_REFUSED',
    ]);
  });
});

describe('refused requests are audited', () => {
  let h: ScopeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses timestamps more than 5 minutes in the future as well as in the past', async () => {
    h = await startScope();
    const now = Math.floor(Date.now() / 1000);
    const future = await sendSlashCommand(
      h.endpoint,
      SIGNING_SECRET,
      { text: 'status' },
      { timestamp: now + 3600 },
    );
    const past = await sendSlashCommand(
      h.endpoint,
      SIGNING_SECRET,
      { text: 'status' },
      { timestamp: now - 3600 },
    );
    const forged = await sendSlashCommand(
      h.endpoint,
      SIGNING_SECRET,
      { text: 'status' },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect([future.status, past.status, forged.status]).toEqual([401, 401, 401]);
    const entries = await refusals(h, 3);
    expect(entries.map((e) => e.detail).sort()).toEqual([
      'BAD_SIGNATURE: /slack/commands',
      'FUTURE_TIMESTAMP: /slack/commands',
      'STALE_TIMESTAMP: /slack/commands',
    ]);
    const text = JSON.stringify(entries);
    expect(text).not.toContain(SIGNING_SECRET);
    expect(text).not.toContain('status');
    const counts = await h.container.commandQueue.getJobCounts('waiting', 'active', 'completed', 'failed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('records a malformed payload and an action no listener handles', async () => {
    h = await startScope();
    const bad = await sendSlashCommand(h.endpoint, SIGNING_SECRET, { text: 'status', user_id: 'not-a-user' });
    expect(bad.status).toBe(200);
    const action = await sendBlockActions(
      h.endpoint.replace('/slack/commands', '/slack/actions'),
      SIGNING_SECRET,
      { user: 'U0RESPONDER', channel: INCIDENT, actions: [{ action_id: 'evil_action', type: 'button' }] },
    );
    expect(action.status).toBe(404);
    const entries = await refusals(h, 2);
    expect(entries.map((e) => e.detail).sort()).toEqual([
      'MALFORMED_PAYLOAD: slash command',
      'UNHANDLED_REQUEST: block_actions action evil_action',
    ]);
  });

  it('rate-limits refusal entries and records how many were left out', async () => {
    h = await startScope();
    const sends = Array.from({ length: 35 }, () =>
      sendSlashCommand(h?.endpoint ?? '', SIGNING_SECRET, { text: 'x' }, { signature: 'v0=00' }),
    );
    expect((await Promise.all(sends)).map((r) => r.status)).toEqual(Array(35).fill(401));
    await refusals(h, 30);
    await h.bot.stop(); // closes the minute: the summary entry is written
    const entries = await refusals(h, 31);
    expect(entries).toHaveLength(31);
    expect(entries.at(-1)?.detail).toBe('SUPPRESSED: 5 more refused requests in the minute before');
  });
});
