import { parentPort, workerData } from 'node:worker_threads';
import { type Config, parseConfig } from './config.ts';
import { buildContainer } from './container.ts';
import { createLogger } from './log.ts';
import { startCollector } from './worker-process.ts';

/**
 * Entry point of the collector's worker thread: a full LIST of a big fleet keeps an event loop busy for
 * seconds, so the collector runs beside the command worker instead of on its loop.
 */
const config: Config = parseConfig((workerData as { config: unknown }).config);
const log = createLogger(config.log.level, 'collector');
const container = buildContainer(config, 'worker', log);
const collector = startCollector(container);
void collector.ready.then(() => parentPort?.postMessage({ type: 'ready' }));
parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  void (async () => {
    await collector.stop();
    await container.close();
    parentPort?.postMessage({ type: 'stopped' });
    parentPort?.close();
  })();
});
