import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FleetCollector } from '../../../src/adapters/kubernetes/collector.ts';
import { type FakeKube, startFakeKube } from '../../../src/testing/fake-kube.ts';
import { makeDeploymentChain, makeNamespace } from '../../../src/testing/kube-fixtures.ts';
import type { Pushed } from '../../../src/testing/oci-push.ts';
import { signAndPush } from '../../../src/testing/provenance-fixtures.ts';
import { sendBlockActions, sendSlashCommand } from '../../../src/testing/slack-requests.ts';
import { ID, ISS, startWorld, type World } from '../../support/provenance.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../../support/scope-harness.ts';

const INCIDENT = 'C0INCIDENT';
let w: World;
let fake: FakeKube;
let h: ScopeHarness;
let dir: string;
let ok: Pushed;
let unsigned: Pushed;

beforeAll(async () => {
  w = await startWorld();
  ok = await w.direct.image('keyless/api', 'v1');
  unsigned = await w.direct.image('keyless/worker', 'v1');
  await signAndPush(w.direct, w.sigstore, 'keyless/api', ok, 'cosign-sig', {
    signer: { keyless: { identity: ID, issuer: ISS } },
  });
  dir = await mkdtemp(join(tmpdir(), 'scope-verify-slack-'));
  fake = await startFakeKube({ name: 'prod-eu' });
  fake.load([makeNamespace('apps')]);
  for (const [name, repo, img] of [
    ['api', 'keyless/api', ok],
    ['worker', 'keyless/worker', unsigned],
  ] as const) {
    fake.load(
      makeDeploymentChain({
        namespace: 'apps',
        deployment: name,
        startTime: '2026-11-20T10:00:00Z',
        containers: [
          {
            name: 'app',
            image: `${w.registry.host}/${repo}:v1`,
            imageID: `${w.registry.host}/${repo}@${img.digest}`,
          },
        ],
      }).objects,
    );
  }
  const kubeconfig = await fake.writeKubeconfig(dir);
  h = await startScope({
    overrides: {
      clusters: [{ name: 'prod-eu', environment: 'prod', kubeconfig, context: 'prod-eu', timeoutSeconds: 3 }],
      provenance: {
        registries: [{ host: w.registry.host, endpoint: w.registry.url, retries: 0 }],
        trustedRoot: w.trustedRootPath,
        dockerConfig: join(dir, 'none.json'),
        rules: w.rules(w.registry.host),
      },
    },
  });
  await FleetCollector.fromConfig(h.config, h.container.inventory).syncOnce();
}, 60_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
  await w?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const slash = (text: string) =>
  sendSlashCommand(h.endpoint, SIGNING_SECRET, {
    text,
    user_id: 'U0RESPONDER',
    channel_id: INCIDENT,
    trigger_id: `t-${Math.random()}`,
    response_url: h.slack.responseUrl(),
  });

test('/scope verify posts counts, then the failing digest with where it runs and where scope looked', async () => {
  await slash('verify prod-eu');
  const msg = await h.slack.waitFor(() => h.slack.messages(INCIDENT).find((m) => m.text.includes('prod-eu')));
  expect(msg.text).toBe('prod-eu: 1 unsigned, 1 verified');
  const blocks = JSON.stringify(msg.blocks);
  expect(blocks).toContain(unsigned.digest);
  expect(blocks).toContain('prod-eu/apps/deployment/worker');
  expect(blocks).toContain('cosign .sig tag (none)');
});

test('the Verify signatures button on a /scope digest result runs /scope verify for that digest', async () => {
  await slash(`digest ${ok.digest}`);
  const digestMsg = await h.slack.waitFor(() =>
    h.slack.messages(INCIDENT).find((m) => m.text.includes('runs in 1 clusters')),
  );
  const button = JSON.stringify(digestMsg.blocks).includes('"action_id":"scope_verify_digest"');
  expect(button).toBe(true);
  const before = h.slack.messages(INCIDENT).length;
  const res = await sendBlockActions(h.endpoint.replace('/commands', '/actions'), SIGNING_SECRET, {
    user: 'U0RESPONDER',
    channel: INCIDENT,
    message: { ts: digestMsg.ts },
    actions: [{ action_id: 'scope_verify_digest', type: 'button', value: ok.digest }],
    response_url: h.slack.responseUrl(),
  });
  expect(res.status).toBe(200);
  const verified = await h.slack.waitFor(() =>
    h.slack
      .messages(INCIDENT)
      .slice(before)
      .find((m) => m.text.includes('verified')),
  );
  expect(verified.text).toContain('1 verified');
  expect(JSON.stringify(verified.blocks)).toContain(`by ${ID}`);
});

test('a button value that is not a digest starts nothing', async () => {
  const before = h.slack.callsTo('chat.postMessage').length;
  const res = await sendBlockActions(h.endpoint.replace('/commands', '/actions'), SIGNING_SECRET, {
    user: 'U0RESPONDER',
    channel: INCIDENT,
    actions: [{ action_id: 'scope_verify_digest', type: 'button', value: 'all' }],
    response_url: h.slack.responseUrl(),
  });
  expect(res.status).toBe(200);
  await h.slack.waitFor(() =>
    h.slack.callsTo('response_url').find((c) => JSON.stringify(c.body).includes('could not read')),
  );
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(before);
});

test('the CLI twin: scope cli verify <scope> --json prints the same report in the scope.cli/v1 envelope', async () => {
  const configPath = join(dir, 'scope.yaml');
  await writeFile(configPath, dump(JSON.parse(JSON.stringify(h.config))));
  const out = await promisify(execFile)(
    process.execPath,
    ['src/main.ts', 'cli', 'verify', 'prod-eu', '--json'],
    {
      env: { ...process.env, SCOPE_CONFIG: configPath },
      timeout: 90_000,
    },
  );
  const json = JSON.parse(out.stdout);
  expect(json).toMatchObject({
    schema: 'scope.cli/v1',
    ok: true,
    result: { kind: 'verify', report: { scope: 'prod-eu' } },
  });
  expect(json.result.report.counts).toMatchObject({ verified: 1, unsigned: 1 });
}, 120_000);

test('scope cli verify --live: the clusters scanned now, the same verifier and policy, no Redis', async () => {
  const configPath = join(dir, 'scope-live.yaml');
  // Redis pointed at a closed port: --live must not need it.
  const config = { ...JSON.parse(JSON.stringify(h.config)), redis: { url: 'redis://127.0.0.1:1' } };
  await writeFile(configPath, dump(config));
  const out = await promisify(execFile)(
    process.execPath,
    ['src/main.ts', 'cli', 'verify', 'prod-eu', '--live', '--json'],
    { env: { ...process.env, SCOPE_CONFIG: configPath }, timeout: 90_000 },
  );
  const json = JSON.parse(out.stdout);
  expect(json).toMatchObject({ schema: 'scope.cli/v1', ok: true, result: { kind: 'verify' } });
  expect(json.result.report.counts).toMatchObject({ verified: 1, unsigned: 1 });
}, 120_000);

test('a cluster that does not answer is named, and the answer is partial, never "all signed" (--live, exit 3)', async () => {
  const configPath = join(dir, 'scope-down.yaml');
  const base = JSON.parse(JSON.stringify(h.config));
  const down = { ...base.clusters[0], name: 'prod-us', context: 'prod-us', timeoutSeconds: 2 };
  // prod-us's kubeconfig points at a port nothing listens on.
  const kubeconfig = join(dir, 'down.kubeconfig');
  await writeFile(
    kubeconfig,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'prod-us', cluster: { server: 'http://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'prod-us', context: { cluster: 'prod-us', user: 'u' } }],
      'current-context': 'prod-us',
    }),
  );
  const config = {
    ...base,
    redis: { url: 'redis://127.0.0.1:1' },
    clusters: [...base.clusters, { ...down, kubeconfig }],
  };
  await writeFile(configPath, dump(config));
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['src/main.ts', 'cli', 'verify', 'env:prod', '--live', ...args], {
      env: { ...process.env, SCOPE_CONFIG: configPath },
      timeout: 90_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
  const json = await run(['--json']);
  expect(json.code).toBe(3);
  const out = JSON.parse(json.stdout);
  expect(out.completeness).toBe('partial');
  expect(out.result.report.unanswered.map((c: { cluster: string }) => c.cluster)).toEqual(['prod-us']);
  const text = await run([]);
  expect(text.stdout).not.toContain('are signed by trusted signers.');
  expect(text.stdout).toContain('prod-us');
  expect(text.stdout).toContain('Incomplete');
}, 120_000);
