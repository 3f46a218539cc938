import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeNamespace, makePod } from '../../src/testing/kube-fixtures.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';
const DEBUG_DIGEST = fakeDigest('bad debug image, slack');
const ABSENT = fakeDigest('absent everywhere, slack');

describe('answers you can trust, through Slack', () => {
  let h: ScopeHarness | undefined;
  let fake: FakeKube | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    h = undefined;
    fake = undefined;
  });

  async function start(opts: { sync: boolean }) {
    dir = await mkdtemp(join(tmpdir(), 'scope-answers-'));
    fake = await startFakeKube({ name: 'prod-eu' });
    fake.load([
      makeNamespace('payments'),
      makePod({
        namespace: 'payments',
        name: 'ledger-0',
        containers: [{ name: 'ledger', image: 'registry.example.com/payments/ledger:7' }],
        ephemeralContainers: [
          {
            name: 'debugger-x7k2p',
            image: 'registry.local/api:1.4.2',
            imageID: `registry.local/api@${DEBUG_DIGEST}`,
            targetContainerName: 'ledger',
          },
        ],
      }),
    ]);
    const kubeconfig = await fake.writeKubeconfig(dir);
    const hh = await startScope({
      overrides: {
        clusters: [
          { name: 'prod-eu', environment: 'prod', kubeconfig, context: 'prod-eu', timeoutSeconds: 3 },
          // Misconfigured: its kubeconfig does not exist, so every sync of it fails.
          {
            name: 'dev-1',
            environment: 'dev',
            kubeconfig: join(dir, 'missing-kubeconfig'),
            timeoutSeconds: 3,
          },
        ],
      },
    });
    h = hh;
    if (opts.sync) await FleetCollector.fromConfig(hh.config, hh.container.inventory).syncOnce();
    return hh;
  }

  const slash = (hh: ScopeHarness, text: string) =>
    sendSlashCommand(hh.endpoint, SIGNING_SECRET, {
      text,
      user_id: 'U0RESPONDER',
      channel_id: INCIDENT,
      trigger_id: `t-${Math.random()}`,
      response_url: hh.slack.responseUrl(),
    });

  it('posts "unknown", never a check mark, while no cluster has synced', async () => {
    const hh = await start({ sync: false });
    await slash(hh, `digest ${ABSENT}`);
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).not.toContain('white_check_mark');
    expect(blocks).toContain(':grey_question: *Unknown:* no cluster has answered');
    expect(blocks).toContain('*prod-eu* (never synced) and *dev-1* (never synced)');
    expect(msg.text).toMatch(/^Unknown/);
  });

  it('names the ephemeral debug container in Block Kit, strips zero-width characters from the argument', async () => {
    const hh = await start({ sync: true });
    const res = await slash(hh, `digest \u200B${DEBUG_DIGEST}\u2069`);
    expect(JSON.stringify(res.json)).not.toMatch(/[\u200B\u2069]/);
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).toContain(':warning: *Debug container only* — *payments/ledger-0* (pod)');
    expect(blocks).toContain(
      '*ephemeral debug container* `debugger-x7k2p` in pod `ledger-0`, attached to `ledger`',
    );
  });

  it('answers "too long" for text over the limit, and shows usage as code', async () => {
    const hh = await start({ sync: false });
    const long = await slash(hh, `digest ${'a'.repeat(5000)}`);
    const longReply = JSON.stringify(long.json);
    expect(longReply).toContain('too long');
    expect(longReply).not.toContain('missing user or channel');
    const usage = JSON.stringify((await slash(hh, 'digest')).json);
    expect(usage).toContain('`/scope digest` needs one argument.');
    expect(usage).toContain('Usage: `/scope digest &lt;sha256:…|image@sha256:…&gt;`');
    expect(usage).not.toContain('\\u200b');
    expect(usage).not.toMatch(/\u200B/);
    expect(hh.slack.messages(INCIDENT)).toHaveLength(0);
  });

  it('says "not running" only for the clusters that answered, and names the one that did not', async () => {
    const hh = await start({ sync: true });
    await slash(hh, `digest ${ABSENT}`);
    const msg = await hh.slack.waitFor(() => hh.slack.messages(INCIDENT)[0]);
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).not.toContain('white_check_mark');
    expect(blocks).toContain('is not running in the 1 cluster that answered');
    expect(blocks).toMatch(/\*dev-1\* \(never answered: cannot load kubeconfig [^)]*\) unknown/);
    expect(blocks).toContain('completeness: *partial* (1 of 2 clusters answered)');
    expect(msg.text).toMatch(/^Partial: /);
  });
});
