import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';
const DIGEST = fakeDigest('shared-base-image');

describe('/scope digest, image and where through Slack', () => {
  let h: ScopeHarness | undefined;
  let fake: FakeKube | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    h = undefined;
  });

  async function start(workloads: number) {
    dir = await mkdtemp(join(tmpdir(), 'scope-slack-inv-'));
    fake = await startFakeKube({ name: 'prod-eu' });
    fake.load([makeNamespace('apps')]);
    for (let i = 0; i < workloads; i++) {
      fake.load(
        makeDeploymentChain({
          namespace: 'apps',
          deployment: `svc-${String(i).padStart(2, '0')}`,
          startTime: '2026-11-20T10:00:00Z',
          containers: [
            {
              name: 'app',
              image: `registry.example.com/base/runtime:3.1`,
              imageID: `registry.example.com/base/runtime@${DIGEST}`,
            },
          ],
        }).objects,
      );
    }
    const kubeconfig = await fake.writeKubeconfig(dir);
    h = await startScope({
      overrides: {
        clusters: [
          { name: 'prod-eu', environment: 'prod', kubeconfig, context: 'prod-eu', timeoutSeconds: 3 },
        ],
      },
    });
    await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
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

  it('posts the answer in the channel and attaches the full list as CSV when it is long', async () => {
    const hh = await start(20);
    await slash(hh, `digest ${DIGEST}`);
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    expect(msg.text).toContain('20 workloads');
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).toContain(DIGEST);
    expect(blocks).toContain('and 5 more in this environment');
    const upload = await hh.slack.waitFor(() => hh.slack.uploads[0]);
    expect(upload.thread_ts).toBe(msg.ts);
    const rows = upload.text.trim().split('\n');
    expect(rows[0]).toMatch(/^environment,cluster,namespace,kind,workload,digest/);
    expect(rows).toHaveLength(21);
  });

  it('completes the job and says records were unreadable when malformed ones are planted in Redis', async () => {
    const hh = await start(3);
    const redis = hh.container.redis;
    const inv = `${hh.config.redis.prefix}:inv`;
    const [victim] = await redis.hkeys(`${inv}:pods:prod-eu`);
    const stored = JSON.parse((await redis.hget(`${inv}:pods:prod-eu`, victim!)) as string);
    // A record whose containers are not an array (today: "p.containers.filter is not a function"), and a
    // history entry of the wrong shape claiming an earlier deployment.
    await redis.hset(`${inv}:pods:prod-eu`, victim!, JSON.stringify({ ...stored, containers: 'x' }));
    await redis.hset(`${inv}:dfirst:${DIGEST}`, 'forged', `2020-01-01T00:00:00Z    \tevil:1\tprod`);
    await slash(hh, `digest ${DIGEST}`);
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    expect(msg.text).toContain('2 workloads');
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).toContain('2 stored records were unreadable');
    expect(blocks).not.toContain('2020-01-01');
    expect(blocks).not.toContain('evil');
  });

  it('replies ephemerally with the expected form when the argument is malformed', async () => {
    const hh = await start(1);
    const res = await slash(hh, 'digest nginx:1.25');
    const reply = JSON.stringify(res.json);
    expect(reply).toContain('/scope image');
    expect(hh.slack.messages(INCIDENT)).toHaveLength(0);
  });

  it('tells the channel when a where target does not exist, naming the known clusters', async () => {
    const hh = await start(1);
    await slash(hh, 'where prod-mars');
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    const text = JSON.stringify(msg.blocks);
    expect(text).toContain('There is no cluster named prod-mars');
    expect(text).toContain('Known clusters: prod-eu');
    expect(hh.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
