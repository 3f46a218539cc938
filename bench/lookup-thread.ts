import { parentPort, workerData } from 'node:worker_threads';
import { parseConfig } from '../src/config.ts';
import { buildContainer } from '../src/container.ts';
import type { Digest } from '../src/domain/inventory/image-ref.ts';
import { digestQuery } from '../src/jobs/inventory-queries.ts';
import { createLogger } from '../src/log.ts';

// The lookups of phase 2, in an isolate of their own: what the worker process's command worker sees, since the
// collector (and its heap) lives in another thread there.
const { config, digests, warmup } = workerData as { config: unknown; digests: string[]; warmup: number };
const c = buildContainer(parseConfig(config), 'worker', createLogger('silent', 'bench'));
const query = (d: string) => digestQuery(c.inventory, { kind: 'digest', digest: d as Digest }, new Date());
for (let i = 0; i < warmup; i++) await query(digests[i % digests.length] as string);
const ms: number[] = [];
for (const d of digests) {
  const start = performance.now();
  await query(d);
  ms.push(performance.now() - start);
}
await c.close();
parentPort?.postMessage({ ms });
