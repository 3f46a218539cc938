import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildContainer } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import { startFakeKube } from '../../src/testing/fake-kube.ts';
import { fakeDigest, makeDeploymentChain, makeNamespace } from '../../src/testing/kube-fixtures.ts';
import { startCollector } from '../../src/worker-process.ts';
import { testRedis } from '../support/redis.ts';

describe('collector lease across worker replicas', () => {
  it('lets one replica collect, and another take over when it stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scope-lease-'));
    const fake = await startFakeKube({ name: 'prod-eu' });
    fake.load([
      makeNamespace('a'),
      ...makeDeploymentChain({ namespace: 'a', deployment: 'x', containers: [{ name: 'x', image: 'x:1' }] })
        .objects,
    ]);
    const r = testRedis();
    const config = parseConfig({
      redis: { url: r.url, prefix: r.prefix },
      clusters: [
        {
          name: 'prod-eu',
          environment: 'prod',
          kubeconfig: await fake.writeKubeconfig(dir),
          context: 'prod-eu',
        },
      ],
      log: { level: 'silent' },
    });
    const log = createLogger('silent', 'test');
    const a = buildContainer(config, 'worker', log);
    const b = buildContainer(config, 'worker', log);
    const first = startCollector(a, { leaseTtlMs: 600 });
    await first.ready;
    const watchOpen = Date.now() + 5000;
    while (fake.activeWatches === 0 && Date.now() < watchOpen)
      await new Promise((res) => setTimeout(res, 20));
    const listsByFirst = fake.counters.list;
    // The second replica stands by: wait until it has checked the lease three times (the first check was
    // before `ready`; one interval is a third of the lease's lifetime), then count what it started.
    let standbyChecks = 0;
    let waitStandby: () => void = () => {};
    const standby = new Promise<void>((res) => {
      waitStandby = res;
    });
    const second = startCollector(b, {
      leaseTtlMs: 600,
      onLeaseCheck: (collecting) => {
        if (!collecting && ++standbyChecks === 3) waitStandby();
      },
    });
    await second.ready;
    try {
      await standby;
      expect(fake.activeWatches).toBe(1);
      expect(fake.counters.list).toBe(listsByFirst);
      const listsBefore = fake.counters.list;
      await first.stop();
      const deadline = Date.now() + 5000;
      while (fake.counters.list === listsBefore && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      expect(fake.counters.list).toBeGreaterThan(listsBefore);
      fake.load(
        makeDeploymentChain({ namespace: 'a', deployment: 'y', containers: [{ name: 'y', image: 'y:1' }] })
          .objects,
      );
      const y = fakeDigest('y:1');
      const until = Date.now() + 5000;
      while ((await b.inventory.podsRunningDigest(y)).length === 0 && Date.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
      }
      expect((await b.inventory.podsRunningDigest(y)).length).toBe(1);
    } finally {
      await second.stop();
      await a.close();
      await b.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
