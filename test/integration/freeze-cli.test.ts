import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKube } from '../../src/testing/fake-kube.ts';
import { deployment } from '../../src/testing/freeze-fixtures.ts';
import { fakeClusters, patches } from '../support/freeze-flow.ts';
import { testRedis } from '../support/redis.ts';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('scope cli freeze / frozen', () => {
  it('previews a freeze plan (changing nothing) and lists active freezes, in the scope.cli/v1 envelope', async () => {
    const k = await fakeClusters([{ name: 'stage-1', environment: 'staging' }]);
    cleanups.push(k.close);
    const stage = k.fakes.get('stage-1') as FakeKube;
    stage.load([deployment('payments', 'api'), deployment('payments', 'web', { paused: true })]);
    const r = testRedis();
    const path = join(k.dir, 'scope.yaml');
    await writeFile(
      path,
      dump({ redis: { url: r.url, prefix: r.prefix }, clusters: k.clusters, log: { level: 'silent' } }),
    );
    const cli = (...args: string[]) =>
      run(process.execPath, ['src/main.ts', 'cli', ...args], {
        env: { ...process.env, SCOPE_CONFIG: path },
        timeout: 30_000,
      });
    const preview = JSON.parse((await cli('freeze', 'stage-1/payments', '--json')).stdout);
    expect(preview.schema).toBe('scope.cli/v1');
    expect(preview.result.kind).toBe('freeze-plan');
    expect(preview.result.plan.steps.map((s: { key: string; state: string }) => [s.key, s.state])).toEqual([
      ['stage-1/Deployment/payments/api', 'todo'],
      ['stage-1/Deployment/payments/web', 'already-done'],
    ]);
    expect(patches(stage)).toEqual([]);
    const frozen = JSON.parse((await cli('frozen', '--json')).stdout);
    expect(frozen.result).toEqual({ kind: 'frozen', freezes: [] });
  }, 90_000);
});
