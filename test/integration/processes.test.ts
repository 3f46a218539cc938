import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { InventoryStore } from '../../src/store/inventory/inventory-store.ts';
import { startFakeKube } from '../../src/testing/fake-kube.ts';
import { type FakeSlack, startFakeSlack } from '../../src/testing/fake-slack.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { freePort } from '../../src/testing/redis-server.ts';
import { testRedis } from '../support/redis.ts';
import { SIGNING_SECRET } from '../support/scope-harness.ts';

async function config(slack: FakeSlack, dir: string, opsPort: number, slackPort: number): Promise<string> {
  const r = testRedis();
  const path = join(dir, `scope-${opsPort}.yaml`);
  await writeFile(
    path,
    dump({
      slack: {
        botToken: slack.botToken,
        signingSecret: SIGNING_SECRET,
        apiUrl: slack.apiUrl,
        port: slackPort,
        host: '127.0.0.1',
      },
      redis: { url: r.url, prefix: r.prefix },
      http: { port: opsPort, host: '127.0.0.1' },
      log: { level: 'info' },
    }),
  );
  return path;
}

async function waitForHttp(url: string, timeoutMs = 15_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.each(['bot', 'worker'])('the %s process', (kind) => {
  it('serves health, readiness and metrics, and exits cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scope-proc-'));
    const slack = await startFakeSlack();
    const opsPort = await freePort();
    const path = await config(slack, dir, opsPort, await freePort());
    const child = spawn(process.execPath, ['src/main.ts', kind], {
      env: { ...process.env, SCOPE_CONFIG: path },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    try {
      const health = await waitForHttp(`http://127.0.0.1:${opsPort}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toContain('scope_queue_depth{queue="scope-commands",state="waiting"');
      expect(metrics).toContain('# TYPE scope_jobs_total counter');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code, stderr).toBe(0);
      expect(stderr).toContain('shutting down');
      expect(stderr).not.toContain(slack.botToken);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await slack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(['bot', 'worker'])('the %s process with its health port taken', (kind) => {
  it('exits non-zero and names the port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scope-proc-'));
    const slack = await startFakeSlack();
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const opsPort = (taken.address() as AddressInfo).port;
    const path = await config(slack, dir, opsPort, await freePort());
    const child = spawn(process.execPath, ['src/main.ts', kind], {
      env: { ...process.env, SCOPE_CONFIG: path },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    try {
      const [code] = await once(child, 'exit');
      expect(code, stderr).not.toBe(0);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${opsPort}`);
      expect(stderr).toContain('already in use');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      taken.close();
      await slack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the worker process with clusters', () => {
  it('collects in its collector thread, answers, and stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scope-proc-'));
    const slack = await startFakeSlack();
    const fake = await startFakeKube({ name: 'prod-eu' });
    const digest = fakeDigest('thread-test');
    fake.load([
      makeNamespace('a'),
      ...makeDeploymentChain({
        namespace: 'a',
        deployment: 'api',
        replicas: 2,
        containers: [
          {
            name: 'api',
            image: 'registry.example.com/a/api:1',
            imageID: `registry.example.com/a/api@${digest}`,
          },
        ],
      }).objects,
    ]);
    const r = testRedis();
    const opsPort = await freePort();
    const path = join(dir, 'scope.yaml');
    await writeFile(
      path,
      dump({
        slack: { botToken: slack.botToken, apiUrl: slack.apiUrl },
        redis: { url: r.url, prefix: r.prefix },
        clusters: [
          {
            name: 'prod-eu',
            environment: 'prod',
            kubeconfig: await fake.writeKubeconfig(dir),
            context: 'prod-eu',
          },
        ],
        http: { port: opsPort, host: '127.0.0.1' },
        log: { level: 'info' },
      }),
    );
    const child = spawn(process.execPath, ['src/main.ts', 'worker'], {
      env: { ...process.env, SCOPE_CONFIG: path },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const redis = r.connect();
    try {
      const store = new InventoryStore(redis, r.prefix, parseConfig({}));
      const deadline = Date.now() + 30_000;
      while ((await store.podsRunningDigest(digest)).length < 2 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
      }
      expect((await store.podsRunningDigest(digest)).length, stderr).toBe(2);
      expect(stderr).toContain('"process":"collector"');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code, stderr).toBe(0);
      expect(fake.activeWatches).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await redis.quit();
      await fake.close();
      await slack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
