import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { deployment } from '../../src/testing/freeze-fixtures.ts';
import {
  APPROVERS,
  click,
  fakeClusters,
  patches,
  requestFreeze,
  startFreezeScope,
  waitCard,
} from '../support/freeze-flow.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Freeze: a worker SIGKILLed between two patches', () => {
  it('resumes after restart, never re-applies a step that landed, and completes once', async () => {
    const k = await fakeClusters([{ name: 'stage-1', environment: 'staging' }]);
    cleanups.push(k.close);
    const stage = k.fakes.get('stage-1') as FakeKube;
    stage.load([
      deployment('payments', 'api'),
      deployment('payments', 'web'),
      deployment('payments', 'zeta'),
    ]);
    const h = await startFreezeScope(k.clusters, { parallelism: 1 }, { worker: false });
    cleanups.push(h.close);
    const config = join(k.dir, 'worker.yaml');
    await writeFile(
      config,
      dump({
        slack: { botToken: h.slack.botToken, apiUrl: h.slack.apiUrl },
        redis: { url: h.config.redis.url, prefix: h.config.redis.prefix },
        worker: { concurrency: 2, lockDurationMs: 2000, stalledIntervalMs: 1000 },
        clusters: k.clusters,
        actions: { ...APPROVERS, parallelism: 1, recheckSeconds: 3600 },
        inventory: { collect: false },
        http: { port: 0, host: '127.0.0.1' },
        log: { level: 'info' },
      }),
    );
    const children: ChildProcess[] = [];
    let stderr = '';
    cleanups.push(async () => {
      if (process.env.SCOPE_TEST_DEBUG) console.error(stderr.slice(-5000));
    });
    const startWorker = () => {
      const child = spawn(process.execPath, ['src/main.ts', 'worker'], {
        env: { ...process.env, SCOPE_CONFIG: config },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      children.push(child);
      return child;
    };
    cleanups.push(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });

    // The second patch lands on the API server, but the worker never hears back.
    stage.setFault({ method: 'PATCH', pathIncludes: '/deployments/web', hangAfterApply: true, times: 1 });
    const first = startWorker();
    const ready = async (n: number) => {
      const deadline = Date.now() + 60_000;
      while ((stderr.match(/action worker started/g) ?? []).length < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await ready(1);
    const card = await requestFreeze(h, 'stage-1/payments');
    await waitCard(h, card.requestId, /waiting for approval/);
    await click(h, 'U0APPROVER1', 'approve', card.requestId);
    await h.slack.waitFor(() => patches(stage).some((p) => p.path.endsWith('/web')), 15_000);
    const landed = stage.get('apps/v1', 'Deployment', 'payments', 'web') as unknown as {
      spec: { paused?: boolean };
    };
    expect(landed.spec.paused).toBe(true);
    first.kill('SIGKILL');
    await once(first, 'exit');
    stage.clearFaults();
    const recorded = await h.container.actions.steps(card.requestId);
    expect(recorded.get('stage-1/Deployment/payments/api')?.state).toBe('applied');
    expect(recorded.has('stage-1/Deployment/payments/web')).toBe(false);

    startWorker();
    await ready(2);
    await waitCard(h, card.requestId, /— done/, 30_000);
    const paths = patches(stage).map((p) => p.path);
    expect(paths.filter((p) => p.endsWith('/api')).length).toBe(1);
    expect(paths.filter((p) => p.endsWith('/web')).length).toBe(1);
    expect(paths.filter((p) => p.endsWith('/zeta')).length).toBe(1);
    const after = await h.container.actions.steps(card.requestId);
    expect(after.get('stage-1/Deployment/payments/web')).toMatchObject({ state: 'applied', prior: null });
    const req = await h.container.actions.getRequest(card.requestId);
    expect(req?.state).toBe('done');
    expect(req?.executions).toBe(1);
    const results = (await h.container.audit.recent(500)).filter(
      (e) => e.kind === 'result' && e.correlationId === card.requestId,
    );
    expect(results.length).toBe(1);
  }, 90_000);
});
