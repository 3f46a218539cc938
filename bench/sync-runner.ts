/**
 * Where the benchmark's full syncs run: `thread` (default, SCOPE_BENCH_COLLECTOR=thread) in a worker thread
 * with the heap limit the worker process gives its collector thread, as production runs it; `inline` in
 * the benchmark's own isolate with no limit (how the figures before the page-by-page collector were taken).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FleetCollector } from '../src/adapters/kubernetes/collector.ts';
import type { Config } from '../src/config.ts';
import type { ClusterSync, InventoryWriter } from '../src/domain/inventory/inventory.ts';
import type { Logger } from '../src/log.ts';
import { type RelistTiming, TimingWriter } from './timing-writer.ts';

export type SyncOutcome = { syncs: ClusterSync[]; relists: RelistTiming[] };
export type SyncRunner = {
  mode: 'thread' | 'inline';
  sync(): Promise<SyncOutcome>;
  close(): Promise<void>;
};

export function inlineRunner(
  config: Config,
  store: InventoryWriter,
  log: Logger,
  timeoutSeconds: number,
): SyncRunner {
  let t0 = 0;
  const writer = new TimingWriter(store, () => t0);
  const collector = new FleetCollector(config.clusters, writer, {
    pageSize: config.inventory.pageSize,
    clusterParallelism: config.inventory.clusterParallelism,
    resyncMs: config.inventory.resyncMinutes * 60_000,
    log,
  });
  return {
    mode: 'inline',
    sync: async () => {
      writer.relists.length = 0;
      t0 = performance.now();
      const syncs = await collector.syncOnce(AbortSignal.timeout(timeoutSeconds * 1000));
      return { syncs, relists: [...writer.relists] };
    },
    close: async () => undefined,
  };
}

export function threadRunner(config: Config, timeoutSeconds: number): SyncRunner {
  const thread = new Worker(new URL('./sync-thread.ts', import.meta.url), {
    workerData: { config: JSON.parse(JSON.stringify(config)), timeoutSeconds },
    resourceLimits: { maxOldGenerationSizeMb: config.inventory.collectorHeapMb },
  });
  let closed = false;
  return {
    mode: 'thread',
    sync: async () => {
      const answer = new Promise<SyncOutcome>((resolve, reject) => {
        const onMessage = (m: { type?: string } & SyncOutcome) => {
          if (m.type !== 'synced') return;
          thread.off('message', onMessage);
          thread.off('error', reject);
          resolve({ syncs: m.syncs, relists: m.relists });
        };
        thread.on('message', onMessage);
        thread.once('error', reject);
      });
      thread.postMessage('sync');
      return answer;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const exited = once(thread, 'exit');
      thread.postMessage('stop');
      const timer = setTimeout(() => void thread.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
