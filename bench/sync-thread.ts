/**
 * The benchmark's full syncs (phases 1 and 3b) run here, in a worker thread with the resource limits the
 * worker process gives its collector thread (`inventory.collectorHeapMb`), so the process RSS the main
 * thread samples is that of a worker: an idle main isolate plus the collector's. Messages: 'sync' → one
 * FleetCollector.syncOnce, answered with its syncs and re-list timings; 'stop' → closes and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FleetCollector } from '../src/adapters/kubernetes/collector.ts';
import { parseConfig } from '../src/config.ts';
import { buildContainer } from '../src/container.ts';
import { createLogger } from '../src/log.ts';
import { TimingWriter } from './timing-writer.ts';

const { config: raw, timeoutSeconds } = workerData as { config: unknown; timeoutSeconds: number };
const config = parseConfig(raw);
const container = buildContainer(config, 'worker', createLogger('silent', 'bench'));
let t0 = 0;
const writer = new TimingWriter(container.inventory, () => t0);
const collector = new FleetCollector(config.clusters, writer, {
  pageSize: config.inventory.pageSize,
  clusterParallelism: config.inventory.clusterParallelism,
  resyncMs: config.inventory.resyncMinutes * 60_000,
});

parentPort?.on('message', (m: unknown) => {
  void (async () => {
    if (m === 'sync') {
      writer.relists.length = 0;
      t0 = performance.now();
      const syncs = await collector.syncOnce(AbortSignal.timeout(timeoutSeconds * 1000));
      const ms = performance.now() - t0;
      const heap = process.memoryUsage();
      parentPort?.postMessage({
        type: 'synced',
        syncs,
        relists: writer.relists,
        ms,
        heapUsed: heap.heapUsed,
        heapTotal: heap.heapTotal,
      });
    } else if (m === 'stop') {
      await container.close();
      parentPort?.close();
    }
  })();
});
