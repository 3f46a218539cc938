import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../../src/adapters/kubernetes/collector.ts';
import type { AdvisoryJobData } from '../../../src/jobs/advisories/queue.ts';
import { type FakeKube, startFakeKube, writeMultiKubeconfig } from '../../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../../src/testing/kube-fixtures.ts';
import { sendSlashCommand } from '../../../src/testing/slack-requests.ts';
import { advisoryPorts, commandPorts, slackClient, startAdvisories } from '../../../src/worker-process.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';
const BAD = fakeDigest('compromised-base-image');

/** A loopback feed server with ETag / Last-Modified: answers 304 when the client already has the content. */
function feedServer() {
  let body = JSON.stringify({ indicators: [] });
  let version = 1;
  const requests: Array<{ status: number; ifNoneMatch?: string }> = [];
  const server: Server = createServer((req, res) => {
    const etag = `"v${version}"`;
    const inm = req.headers['if-none-match'];
    if (inm === etag) {
      requests.push({ status: 304, ifNoneMatch: inm });
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    requests.push({ status: 200, ...(inm ? { ifNoneMatch: inm } : {}) });
    res.writeHead(200, {
      'content-type': 'application/json',
      etag,
      'last-modified': new Date().toUTCString(),
    });
    res.end(body);
  });
  return {
    server,
    requests,
    publish(doc: unknown) {
      body = JSON.stringify(doc);
      version++;
    },
  };
}

describe('advisory notifications end to end', { timeout: 90_000 }, () => {
  let h: ScopeHarness;
  let euFake: FakeKube;
  let stageFake: FakeKube;
  let dir: string;
  const feed = feedServer();
  let events: QueueEvents;
  const workers: Array<{ stop: () => Promise<void> }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scope-adv-'));
    await new Promise<void>((r) => feed.server.listen(0, '127.0.0.1', r));
    const port = (feed.server.address() as AddressInfo).port;
    euFake = await startFakeKube({ name: 'prod-eu' });
    stageFake = await startFakeKube({ name: 'stage-1' });
    euFake.load([
      makeNamespace('payments'),
      ...makeDeploymentChain({
        namespace: 'payments',
        deployment: 'api',
        startTime: '2026-11-20T10:00:00Z',
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/base/runtime:3.1',
            imageID: `registry.example.com/base/runtime@${BAD}`,
          },
        ],
      }).objects,
    ]);
    stageFake.load([makeNamespace('payments')]);
    const kubeconfig = await writeMultiKubeconfig(join(dir, 'kubeconfig'), [euFake, stageFake]);
    h = await startScope({
      overrides: {
        clusters: [
          { name: 'prod-eu', environment: 'prod', kubeconfig, context: 'prod-eu', timeoutSeconds: 3 },
          { name: 'stage-1', environment: 'staging', kubeconfig, context: 'stage-1', timeoutSeconds: 3 },
        ],
        advisories: {
          feeds: [
            {
              name: 'vendor-iocs',
              kind: 'ioc',
              url: `http://127.0.0.1:${port}/iocs.json`,
              intervalSeconds: 3600,
            },
          ],
          allowedHosts: [`127.0.0.1:${port}`],
          allowLoopbackHttp: true,
          rematchSeconds: 3600,
        },
      },
    });
    await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
    events = new QueueEvents(h.container.advisoryQueue.name, {
      connection: h.container.connect(),
      prefix: h.config.redis.prefix,
    });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await events?.close();
    await h?.close();
    await euFake?.close();
    await stageFake?.close();
    await new Promise((r) => feed.server.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const startReplica = async () => {
    const w = await startAdvisories(h.container, slackClient(h.container));
    workers.push(w);
    return w;
  };
  const run = async (data: AdvisoryJobData) => {
    const job: Job = await h.container.advisoryQueue.add(data.kind, data);
    return job.waitUntilFinished(events, 30_000);
  };
  const advisoryPosts = () =>
    h.slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.body.text ?? '').includes('IOC-2026-0042') && !c.body.thread_ts);

  it('a feed that gains a record matching a running digest → exactly one notification with locations', async () => {
    await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'watch all',
      user_id: 'U0RESPONDER',
      channel_id: INCIDENT,
      trigger_id: 't-watch',
      response_url: h.slack.responseUrl(),
    });
    await h.slack.waitFor(() => h.slack.messages(INCIDENT).find((m) => m.text.includes('Watching')));
    // Two replicas from the start: claims, not luck, keep them from posting twice.
    await startReplica();
    await startReplica();
    const schedulers = await h.container.advisoryQueue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(['advisory-rematch', 'feed-vendor-iocs']);

    await run({ kind: 'poll', feed: 'vendor-iocs' });
    expect(advisoryPosts()).toHaveLength(0);
    feed.publish({
      indicators: [
        {
          id: 'IOC-2026-0042',
          type: 'image-digest',
          value: BAD,
          title: 'Compromised base image',
          severity: 'critical',
          reference: 'https://example.com/advisory/42',
        },
      ],
    });
    await Promise.all([
      run({ kind: 'poll', feed: 'vendor-iocs' }),
      run({ kind: 'rematch' }),
      run({ kind: 'rematch' }),
    ]);
    const msg = await h.slack.waitFor(() =>
      h.slack.messages(INCIDENT).find((m) => m.text.includes('IOC-2026-0042')),
    );
    await Promise.all([run({ kind: 'rematch' }), run({ kind: 'rematch' })]);
    expect(advisoryPosts()).toHaveLength(1);
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).toContain('Environment prod');
    expect(blocks).toContain('payments/Deployment/api');
    expect(blocks).toContain('prod-eu');
    expect(blocks).toContain('running now');
    expect(msg.text).toContain('1 workloads running it');
    // The alert carries the actions, as offers stored server-side (the buttons hold ids only).
    const labels = (msg.blocks as Array<{ elements?: Array<{ action_id: string; text: { text: string } }> }>)
      .flatMap((b) => b.elements ?? [])
      .filter((e) => e.action_id === 'scope_action_offer')
      .map((e) => e.text.text);
    expect(labels).toEqual(['Freeze deploys in prod (1)', `Quarantine ${BAD.slice(7, 19)}`]);
  });

  it('re-polls (304, ETag sent) and a restarted worker post nothing new', async () => {
    const before = feed.requests.length;
    await run({ kind: 'poll', feed: 'vendor-iocs' });
    expect(feed.requests.slice(before)).toEqual([{ status: 304, ifNoneMatch: '"v2"' }]);
    for (const w of workers.splice(0)) await w.stop();
    await startReplica();
    await run({ kind: 'rematch' });
    expect(advisoryPosts()).toHaveLength(1);
    expect(h.slack.callsTo('chat.update')).toHaveLength(0);
    const state = await h.container.advisories.feedState('vendor-iocs');
    expect(state.records).toBe(1);
  });

  it('a new cluster running the bad digest → the message is updated in place and a threaded note says what changed', async () => {
    stageFake.load(
      makeDeploymentChain({
        namespace: 'payments',
        deployment: 'api',
        startTime: '2026-11-25T10:00:00Z',
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/base/runtime:3.1',
            imageID: `registry.example.com/base/runtime@${BAD}`,
          },
        ],
      }).objects,
    );
    await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
    await run({ kind: 'rematch' });
    const updates = await h.slack.waitFor(() => {
      const u = h.slack.callsTo('chat.update');
      return u.length ? u : undefined;
    });
    expect(updates).toHaveLength(1);
    expect(advisoryPosts()).toHaveLength(1);
    const msg = h.slack.messages(INCIDENT).find((m) => m.text.includes('IOC-2026-0042'));
    expect(JSON.stringify(msg?.blocks)).toContain('stage-1');
    expect(msg?.text).toContain('2 workloads running it');
    const notes = h.slack.messages(INCIDENT).filter((m) => m.thread_ts === msg?.ts);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.text).toContain('1 new matches, 0 gone');
    expect(JSON.stringify(notes[0]?.blocks)).toContain('stage-1');
    // And again: nothing changed, nothing posted or updated.
    await run({ kind: 'rematch' });
    expect(h.slack.callsTo('chat.update')).toHaveLength(1);
    expect(h.slack.messages(INCIDENT).filter((m) => m.thread_ts === msg?.ts)).toHaveLength(1);
  });

  it('/scope advisories and /scope advisory list the match with counts', async () => {
    const ports = advisoryPorts(h.container);
    const list = await ports.store.matches();
    expect(list.map((m) => [m.id, m.current])).toEqual([['IOC-2026-0042', 2]]);
    await sendSlashCommand(h.endpoint, SIGNING_SECRET, {
      text: 'advisory IOC-2026-0042',
      user_id: 'U0RESPONDER',
      channel_id: INCIDENT,
      trigger_id: 't-adv',
      response_url: h.slack.responseUrl(),
    });
    const status = await commandPorts(h.container).status();
    expect(status.schedulers?.map((x) => x.id).sort()).toEqual(['advisory-rematch', 'feed-vendor-iocs']);
    expect(status.feeds).toEqual([expect.objectContaining({ feed: 'vendor-iocs', records: 1, failures: 0 })]);
    expect(status.queues.map((q) => q.name)).toContain('scope-advisories');
    const shown = await h.slack.waitFor(() =>
      h.slack.messages(INCIDENT).find((m) => m.text.startsWith('Advisory IOC-2026-0042:')),
    );
    expect(JSON.stringify(shown.blocks)).toContain('stage-1');
  });
});
