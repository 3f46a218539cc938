import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulkRecords, compromisedCiScenario } from '../../src/testing/cloudtrail-fixtures.ts';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';
import { sendBlockActions, sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
let fake: FakeAws;
let h: ScopeHarness | undefined;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  fake = await startFakeAws({ lookupRatePerSecond: 10 });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(progressEveryMs = 5000): Promise<ScopeHarness> {
  h = await startScope({
    overrides: {
      aws: { regions: REGIONS, endpoint: fake.endpoint, audit: { requestsPerSecond: 10, progressEveryMs } },
    },
  });
  return h;
}

const slash = (hh: ScopeHarness, text: string) =>
  sendSlashCommand(hh.endpoint, SIGNING_SECRET, {
    text,
    user_id: 'U0RESPONDER',
    channel_id: INCIDENT,
    trigger_id: `t-${Math.random()}`,
    response_url: hh.slack.responseUrl(),
  });

describe('/scope audit through Slack', () => {
  it('posts findings highest severity first, credentials, and the event list as JSON lines and CSV', async () => {
    const sc = compromisedCiScenario(new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000));
    fake.cloudtrail.addRecords(sc.records);
    const hh = await start();
    await slash(hh, 'audit role:ci-deploy');
    const msg = await hh.slack.waitFor(() =>
      hh.slack.messages(INCIDENT).find((m) => m.text.startsWith('CloudTrail audit of role:ci-deploy')),
    );
    const blocks = JSON.stringify(msg.blocks);
    expect(msg.text).toMatch(/\d+ finding\(s\)/);
    expect(blocks.indexOf('CRITICAL')).toBeLessThan(blocks.indexOf('HIGH'));
    expect(blocks).toContain('StopLogging');
    expect(blocks).toContain(sc.stopLoggingEventId);
    expect(blocks).toContain(sc.createdKey.accessKeyId);
    expect(blocks).toContain('backup-admin');
    const uploads = await hh.slack.waitFor(() =>
      hh.slack.uploads.length >= 2 ? hh.slack.uploads : undefined,
    );
    const jsonl = uploads.find((u) => u.filename.endsWith('.jsonl'));
    const csv = uploads.find((u) => u.filename.endsWith('.csv'));
    expect(jsonl?.thread_ts).toBe(msg.ts);
    const lines = (jsonl?.text ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string });
    expect(lines.map((l) => l.id)).toContain(sc.stopLoggingEventId);
    const rows = (csv?.text ?? '').trim().split('\n');
    expect(rows[0]).toMatch(/^time,event_id,account,region,event_source,event_name/);
    expect(rows).toHaveLength(lines.length + 1);
  });

  it('posts progress with a Cancel button; Cancel stops the audit and says who cancelled', async () => {
    const now = Date.now();
    fake.cloudtrail.addRecords(
      bulkRecords({
        count: 3000,
        regions: REGIONS,
        user: 'long-audit',
        from: now - 20 * 3_600_000,
        to: now - 60_000,
      }),
    );
    const hh = await start(200);
    await slash(hh, 'audit user:long-audit');
    const progress = await hh.slack.waitFor(() =>
      hh.slack.messages(INCIDENT).find((m) => m.text.startsWith('Auditing user:long-audit')),
    );
    const elements = (progress.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap(
      (b) => b.elements ?? [],
    );
    const jobId = elements.find((e) => e.action_id === 'audit_cancel')?.value ?? '';
    expect(jobId).toMatch(/^cmd-[0-9a-f]{16}$/);
    // A forged job id is refused and changes nothing.
    await sendBlockActions(hh.endpoint.replace('/commands', '/actions'), SIGNING_SECRET, {
      user: 'U0MALLORY',
      channel: INCIDENT,
      message: { ts: progress.ts },
      actions: [{ action_id: 'audit_cancel', type: 'button', value: 'cmd-../../etc' }],
      response_url: hh.slack.responseUrl(),
    });
    await hh.slack.waitFor(() =>
      hh.slack.responses.find((r) => JSON.stringify(r).includes('could not read this Cancel')),
    );
    await sendBlockActions(hh.endpoint.replace('/commands', '/actions'), SIGNING_SECRET, {
      user: 'U0RESPONDER',
      channel: INCIDENT,
      message: { ts: progress.ts },
      actions: [{ action_id: 'audit_cancel', type: 'button', value: jobId }],
      response_url: hh.slack.responseUrl(),
    });
    const done = await hh.slack.waitFor(
      () => hh.slack.messages(INCIDENT).find((m) => m.ts !== progress.ts && m.text.includes('cancelled')),
      15_000,
    );
    expect(JSON.stringify(done.blocks)).toContain('<@U0RESPONDER>');
    // The progress message no longer offers Cancel.
    await hh.slack.waitFor(() => {
      const m = hh.slack.messages(INCIDENT).find((x) => x.ts === progress.ts);
      return m && !JSON.stringify(m.blocks).includes('audit_cancel');
    });
    expect(hh.slack.uploads).toHaveLength(0);
  });
});
