import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.ts';
import { testRedis } from '../support/redis.ts';
import { freePort } from '../support/redis-server.ts';
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
