/**
 * Phase 0 of the benchmark: how quickly the collector and the fake API server give up, stop and load —
 * figures that the integration tests used to assert as wall-clock bounds (collector.test.ts: a fleet with a
 * hanging cluster < 3 s, stop() < 500 ms, a watch abort < 500 ms; fake-kube.test.ts: loading 10,000 pods
 * < 1 s, close() with a hanging request and a watch < 2 s). The tests now assert how each of these ended
 * (aborted, timed out, torn down); how long it took is measured here, on small fakes in this process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeCluster } from '../src/adapters/kubernetes/client.ts';
import { FleetCollector } from '../src/adapters/kubernetes/collector.ts';
import type { ClusterConfig } from '../src/config.ts';
import type { InventoryWriter } from '../src/domain/inventory/inventory.ts';
import { type FakeKube, startFakeKube } from '../src/testing/fake-kube.ts';
import { makeDeploymentChain, makeFleet } from '../src/testing/kube-fixtures.ts';
import { fmtSummary, type Summary, summarize } from './stats.ts';

const NULL_WRITER: InventoryWriter = {
  beginRelist: () => ({
    writePage: async () => undefined,
    finish: async () => ({ pods: 0, written: 0, unchanged: 0, removed: 0 }),
  }),
  upsertPod: async () => true,
  removePod: async () => undefined,
  recordSync: async () => undefined,
};

export type Responsiveness = {
  fakeLoad10kPodsMs: Summary;
  syncWithHangingClusterMs: Summary;
  hangingClusterDeadlineMs: number;
  stopWhileHangingMs: Summary;
  watchAbortMs: Summary;
  fakeCloseWithHangingRequestMs: Summary;
};

export async function responsivenessPhase(line: (s: string) => void, rounds = 5): Promise<Responsiveness> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-resp-'));
  const fakes: FakeKube[] = [];
  const fake = async (name: string) => {
    const f = await startFakeKube({ name });
    fakes.push(f);
    return f;
  };
  const config = async (f: FakeKube, timeoutSeconds: number): Promise<ClusterConfig> => ({
    name: f.name,
    environment: 'production',
    kubeconfig: await f.writeKubeconfig(dir),
    inCluster: false,
    timeoutSeconds,
  });
  try {
    const load: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const f = await fake(`bulk-${i}`);
      const objects = makeFleet({ pods: 10_000, seed: 'bench' });
      const t = performance.now();
      f.load(objects);
      load.push(performance.now() - t);
      await f.close();
    }

    const good = await fake('good');
    good.load(
      makeDeploymentChain({
        namespace: 'shop',
        deployment: 'web',
        replicas: 2,
        containers: [{ name: 'a', image: 'nginx' }],
      }).objects,
    );
    const hanging = await fake('hanging');
    hanging.setFault({ hang: true });
    const deadlineS = 1;
    const clusters = [await config(good, 5), await config(hanging, deadlineS)];
    const syncs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const fleet = new FleetCollector(clusters, NULL_WRITER, { pageSize: 100, clusterParallelism: 4 });
      const t = performance.now();
      await fleet.syncOnce();
      syncs.push(performance.now() - t);
    }

    const stops: number[] = [];
    const stuck = [await config(good, 5), await config(hanging, 30)];
    for (let i = 0; i < rounds; i++) {
      const fleet = new FleetCollector(stuck, NULL_WRITER, {
        pageSize: 100,
        clusterParallelism: 4,
        backoff: { initialMs: 50, maxMs: 200 },
      });
      fleet.start();
      while (good.activeWatches === 0) await new Promise((r) => setTimeout(r, 10));
      const t = performance.now();
      await fleet.stop();
      stops.push(performance.now() - t);
    }

    const aborts: number[] = [];
    const cluster = new KubeCluster(await config(hanging, 30));
    for (let i = 0; i < rounds; i++) {
      const abort = new AbortController();
      const watching = cluster.watchPods('1', () => undefined, abort.signal).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      abort.abort();
      await watching;
      aborts.push(performance.now() - t);
    }
    await cluster.close();

    const closes: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const f = await startFakeKube({ name: `closing-${i}` });
      f.setFault({ hang: true, pathIncludes: '/api/v1/pods' });
      const c = new KubeCluster(await config(f, 30));
      const pending = (async () => {
        for await (const _ of c.listPods({ pageSize: 10, signal: AbortSignal.timeout(30_000) })) break;
      })().catch(() => undefined);
      while (f.requests.filter((r) => r.path === '/api/v1/pods').length === 0)
        await new Promise((r) => setTimeout(r, 10));
      const t = performance.now();
      await f.close();
      await pending;
      closes.push(performance.now() - t);
      await c.close();
    }

    const out: Responsiveness = {
      fakeLoad10kPodsMs: summarize(load),
      syncWithHangingClusterMs: summarize(syncs),
      hangingClusterDeadlineMs: deadlineS * 1000,
      stopWhileHangingMs: summarize(stops),
      watchAbortMs: summarize(aborts),
      fakeCloseWithHangingRequestMs: summarize(closes),
    };
    line(`   fake API server, load 10,000 pods: ${fmtSummary(out.fakeLoad10kPodsMs)}`);
    line(
      `   syncOnce, one good cluster + one hanging (deadline ${deadlineS} s): ${fmtSummary(out.syncWithHangingClusterMs)}`,
    );
    line(
      `   stop() of a running fleet while one cluster's LIST hangs: ${fmtSummary(out.stopWhileHangingMs)}`,
    );
    line(`   watch aborted → watchPods settled: ${fmtSummary(out.watchAbortMs)}`);
    line(
      `   fake close() with a hanging LIST → the LIST settled: ${fmtSummary(out.fakeCloseWithHangingRequestMs)}`,
    );
    return out;
  } finally {
    await Promise.allSettled(fakes.map((f) => f.close()));
    await rm(dir, { recursive: true, force: true });
  }
}
