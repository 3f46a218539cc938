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
import { fakeDigest, makeDeploymentChain, makeNamespace, makePod } from '../../src/testing/kube-fixtures.ts';
import { testRedis } from '../support/redis.ts';

const run = promisify(execFile);
const DIGEST = fakeDigest('cli-answers-image');
const ABSENT = fakeDigest('never deployed anywhere');
const CONFIG_ID = fakeDigest('config of a locally built image');
const DEBUG_DIGEST = fakeDigest('bad debug image');

type CliOut = { code: number; stdout: string; stderr: string };

async function cli(
  configPath: string,
  args: string[],
  entry = process.env.SCOPE_TEST_CLI_ENTRY ?? 'src/main.ts',
): Promise<CliOut> {
  try {
    const r = await run(process.execPath, [entry, 'cli', ...args], {
      env: { ...process.env, SCOPE_CONFIG: configPath, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scope cli: completeness, exit codes and hygiene', () => {
  let fake: FakeKube;
  let gone: FakeKube;
  let dir: string;
  /** prod-eu synced, prod-ap unreachable (recorded as failed). */
  let partialConfig: string;
  /** Same clusters, a fresh index: nothing synced yet. */
  let unsyncedConfig: string;
  /** Only prod-eu, synced. */
  let completeConfig: string;
  /** --live against clusters that cannot be reached or are misconfigured. */
  let deadConfig: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scope-cli-answers-'));
    fake = await startFakeKube({ name: 'prod-eu' });
    fake.load([
      makeNamespace('payments'),
      ...makeDeploymentChain({
        namespace: 'payments',
        deployment: 'api',
        replicas: 1,
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/payments/api:2.4',
            imageID: `registry.example.com/payments/api@${DIGEST}`,
          },
        ],
      }).objects,
      makePod({
        namespace: 'payments',
        name: 'local-build',
        containers: [{ name: 'tool', image: 'tool:dev', imageID: `docker://${CONFIG_ID}` }],
      }),
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
    gone = await startFakeKube({ name: 'prod-ap' });
    const eu = await fake.writeKubeconfig(dir);
    const ap = await gone.writeKubeconfig(dir);
    await gone.close();
    const clusters = [
      { name: 'prod-eu', environment: 'prod', kubeconfig: eu, context: 'prod-eu', timeoutSeconds: 3 },
      { name: 'prod-ap', environment: 'prod', kubeconfig: ap, context: 'prod-ap', timeoutSeconds: 3 },
    ];
    const write = async (name: string, raw: Record<string, unknown>) => {
      const p = join(dir, name);
      await writeFile(p, dump(raw));
      return p;
    };
    const r1 = testRedis();
    const partialRaw = { redis: { url: r1.url, prefix: r1.prefix }, clusters, log: { level: 'silent' } };
    partialConfig = await write('partial.yaml', partialRaw);
    const r2 = testRedis();
    unsyncedConfig = await write('unsynced.yaml', {
      redis: { url: r2.url, prefix: r2.prefix },
      clusters,
      log: { level: 'silent' },
    });
    const r3 = testRedis();
    const completeRaw = {
      redis: { url: r3.url, prefix: r3.prefix },
      clusters: [clusters[0]],
      log: { level: 'silent' },
    };
    completeConfig = await write('complete.yaml', completeRaw);
    deadConfig = await write('dead.yaml', {
      redis: { url: 'redis://127.0.0.1:1', prefix: '{dead}' },
      clusters: [
        clusters[1],
        { name: 'dev-1', environment: 'dev', kubeconfig: join(dir, 'missing-kubeconfig') },
      ],
      log: { level: 'silent' },
    });
    for (const [raw, r] of [
      [partialRaw, r1],
      [completeRaw, r3],
    ] as const) {
      const redis = r.connect();
      const config = parseConfig(raw);
      await FleetCollector.fromConfig(config, new InventoryStore(redis, r.prefix, config)).syncOnce();
      await redis.quit();
    }
  });

  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers UNKNOWN with exit 4 when no cluster has synced yet, never a check mark', async () => {
    const out = await cli(unsyncedConfig, ['digest', ABSENT]);
    expect(out.code).toBe(4);
    expect(out.stdout).toContain('Unknown: no cluster has answered');
    expect(out.stdout).toContain('prod-eu (never synced) and prod-ap (never synced)');
    expect(out.stdout).not.toContain('✅');
    const json = JSON.parse((await cli(unsyncedConfig, ['image', 'vendor/agent:5.2', '--json'])).stdout);
    expect(json).toMatchObject({
      ok: true,
      completeness: 'unknown',
      result: { report: { completeness: 'unknown' } },
    });
  });

  it('answers "not running" only for the clusters that answered, exit 3, naming the one that did not', async () => {
    const out = await cli(partialConfig, ['digest', ABSENT]);
    expect(out.code).toBe(3);
    expect(out.stdout).toContain('is not running in the 1 cluster that answered');
    expect(out.stdout).toMatch(/prod-ap \(never answered: .+\) unknown/);
    expect(out.stdout).not.toContain('✅');
    const where = await cli(partialConfig, ['where', 'prod-ap', '--json']);
    expect(where.code).toBe(4);
    expect(JSON.parse(where.stdout).completeness).toBe('unknown');
    const status = await cli(partialConfig, ['status', '--json']);
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout).result.report).toMatchObject({
      completeness: 'partial',
      clustersAnswered: 1,
      clustersTotal: 2,
    });
  });

  it('exits 0 with completeness "complete" when every cluster answered', async () => {
    const out = await cli(completeConfig, ['digest', DIGEST, '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      completeness: 'complete',
      result: { report: { totals: { pods: 1 } } },
    });
    const absent = await cli(completeConfig, ['digest', ABSENT]);
    expect(absent.code).toBe(0);
    expect(absent.stdout).toContain('✅');
  });

  it('with --live, answers UNKNOWN (exit 4) when every cluster is unreachable or misconfigured', async () => {
    const out = await cli(deadConfig, ['digest', ABSENT, '--live']);
    expect(out.code).toBe(4);
    expect(out.stdout).toContain('Unknown: no cluster has answered');
    expect(out.stdout).toContain('prod-ap');
    expect(out.stdout).toContain('dev-1');
    expect(out.stdout).not.toContain('✅');
  });

  it('finds pods by image config id and says the id is a config id', async () => {
    const out = await cli(completeConfig, ['digest', `docker://${CONFIG_ID}`, '--json']);
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout).result.report;
    expect(report).toMatchObject({ idKind: 'config', digest: CONFIG_ID, totals: { pods: 1 } });
    const bare = await cli(completeConfig, ['digest', CONFIG_ID.toUpperCase().replace('SHA256', 'sha256')]);
    expect(bare.stdout).toContain('is an image config id');
    expect(bare.stdout).toContain('payments/local-build (pod)');
  });

  it('accepts what people paste from kubectl', async () => {
    const out = await cli(completeConfig, [
      'digest',
      `docker-pullable://registry.example.com/payments/api@${DIGEST}`,
      '--json',
    ]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).result.report.totals.pods).toBe(1);
  });

  it('names the role: an ephemeral debug container is not the workload', async () => {
    const out = await cli(completeConfig, ['digest', DEBUG_DIGEST]);
    expect(out.stdout).toContain('Debug container only — payments/ledger-0 (pod)');
    expect(out.stdout).toContain(
      'ephemeral debug container debugger-x7k2p in pod ledger-0, attached to ledger',
    );
    const json = JSON.parse((await cli(completeConfig, ['digest', DEBUG_DIGEST, '--json'])).stdout);
    expect(json.result.report.environments[0].uses[0].roles).toEqual({ 'debugger-x7k2p': 'ephemeral' });
  });

  it('treats an unknown option as a usage error: exit 2, no stack, the JSON envelope with --json', async () => {
    for (const bad of ['--jsn', '-repo']) {
      const out = await cli(completeConfig, ['digest', DIGEST, bad]);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`unknown option "${bad}"`);
      expect(out.stderr).not.toMatch(/"level":|at .*\.ts:\d+/);
    }
    const json = await cli(completeConfig, ['digest', DIGEST, '--json', '--jsn']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schema: 'scope.cli/v1',
      ok: false,
      error: { code: 'BAD_INPUT' },
    });
  });

  it('accepts the form `run` documents (npm separator) and hints in CLI syntax', async () => {
    const out = await cli(completeConfig, ['--', 'digest', DIGEST, '--json'], 'bin/scope.mjs');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).result.report.digest).toBe(DIGEST);
    const hint = await cli(completeConfig, ['digest', 'nginx:1.25']);
    expect(hint.code).toBe(2);
    expect(hint.stderr).toContain('`scope cli image nginx:1.25`');
    expect(hint.stderr).not.toContain('/scope');
  });

  it('loads no Bolt, BullMQ, client-node or pino to answer an inventory question', async () => {
    let stderr = '';
    try {
      const r = await run(
        process.execPath,
        ['--import', './test/support/module-trace.mjs', 'bin/scope.mjs', 'cli', 'digest', DIGEST, '--json'],
        {
          env: { ...process.env, SCOPE_CONFIG: completeConfig, SCOPE_CLI_FROM_SOURCES: '1' },
          timeout: 30_000,
        },
      );
      stderr = r.stderr;
    } catch (err) {
      stderr = (err as { stderr: string }).stderr;
    }
    const loaded = stderr.split('\n').filter((l) => l.startsWith('module-trace: '));
    expect(loaded.some((l) => l.includes('/node_modules/ioredis/'))).toBe(true);
    for (const heavy of ['@slack/bolt', 'bullmq', '@kubernetes/client-node', 'pino', 'prom-client']) {
      expect(loaded.filter((l) => l.includes(`/node_modules/${heavy}/`))).toEqual([]);
    }
  });
});
