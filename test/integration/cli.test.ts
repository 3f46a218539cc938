import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetCollector } from '../../src/adapters/kubernetes/collector.ts';
import { parseConfig } from '../../src/config.ts';
import { InventoryStore } from '../../src/store/inventory/inventory-store.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { testRedis } from '../support/redis.ts';

const run = promisify(execFile);
const DIGEST = fakeDigest('cli-test-image');

type CliOut = { code: number; stdout: string; stderr: string };

async function cli(configPath: string, ...args: string[]): Promise<CliOut> {
  try {
    const r = await run(process.execPath, ['src/main.ts', 'cli', ...args], {
      env: { ...process.env, SCOPE_CONFIG: configPath, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scope cli', () => {
  let fake: FakeKube;
  let dir: string;
  let configPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scope-cli-'));
    fake = await startFakeKube({ name: 'prod-eu' });
    fake.load([
      makeNamespace('payments'),
      ...makeDeploymentChain({
        namespace: 'payments',
        deployment: 'api',
        replicas: 2,
        startTime: '2026-11-21T14:05:00Z',
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/payments/api:2.4',
            imageID: `registry.example.com/payments/api@${DIGEST}`,
          },
        ],
      }).objects,
    ]);
    const kubeconfig = await fake.writeKubeconfig(dir);
    const r = testRedis();
    const raw = {
      redis: { url: r.url, prefix: r.prefix },
      clusters: [{ name: 'prod-eu', environment: 'prod', kubeconfig, context: 'prod-eu' }],
      log: { level: 'silent' },
    };
    configPath = join(dir, 'scope.yaml');
    await writeFile(configPath, dump(raw));
    const redis = r.connect();
    await FleetCollector.fromConfig(
      parseConfig(raw),
      new InventoryStore(redis, r.prefix, parseConfig(raw)),
    ).syncOnce();
    await redis.quit();
  });

  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers from the index as readable text', async () => {
    const out = await cli(configPath, 'digest', DIGEST);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('is running in 1 cluster');
    expect(out.stdout).toContain('payments/api (deployment) in prod-eu: 2 pods');
    expect(out.stdout).not.toContain('&lt;');
  });

  it('prints a stable JSON envelope with --json', async () => {
    const out = await cli(configPath, 'digest', DIGEST, '--json');
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({
      schema: 'scope.cli/v1',
      ok: true,
      result: { kind: 'digest', report: { digest: DIGEST } },
    });
    expect(json.result.report.totals).toEqual({ clusters: 1, namespaces: 1, workloads: 1, pods: 2 });
  });

  it('asks the clusters directly with --live', async () => {
    const before = fake.requests.length;
    const out = await cli(configPath, 'image', 'registry.example.com/payments/api:2.4', '--live', '--json');
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.result.report.tags[0].digests[0].digest).toBe(DIGEST);
    expect(fake.requests.length).toBeGreaterThan(before);
  });

  it('explains bad input and exits 2', async () => {
    const out = await cli(configPath, 'digest', 'sha256:abc', '--json');
    expect(out.code).toBe(2);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(json.error.message).toContain('12');
  });

  it('stops with the key and the problem when the config is invalid', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      dump({ clusters: [{ name: 'Prod EU', kubeconfig: '/x' }], worker: { concurrency: 0 } }),
    );
    const out = await cli(bad, 'status');
    expect(out.code).toBe(78);
    expect(out.stderr).toContain('clusters.0.name');
    expect(out.stderr).toContain('worker.concurrency');
  });
});
