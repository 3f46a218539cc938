/**
 * Serves the benchmark fleet from fake Kubernetes API servers (HTTPS, self-signed CA, bearer tokens) in a
 * process of its own, so the benchmark's RSS and CPU figures are scope's. Started by bench/run.ts:
 *
 *   node --max-old-space-size=8192 bench/fake-fleet-server.ts
 *
 * Reads the fleet shape from SCOPE_BENCH_* (see bench/fleet.ts), starts one FakeKube per cluster, loads it,
 * renders every object's JSON once (as an API server's watch cache would hold it) so that every client
 * measured later is served at the same speed, writes a kubeconfig with one context per cluster into a
 * temporary directory, prints one line `FLEET <json>` on stdout, and serves until stdin closes or it gets
 * SIGTERM/SIGINT (or SCOPE_BENCH_FLEET_MAX_SECONDS pass), then closes everything and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeKube, startFakeKube, writeMultiKubeconfig } from '../src/testing/fake-kube.ts';
import {
  benchClusters,
  clusterObjects,
  countObjects,
  type FleetCounts,
  intEnv,
  shapeFromEnv,
} from './fleet.ts';

export type FleetReady = {
  kubeconfig: string;
  clusters: Array<{ name: string; environment: string; context: string; url: string; needlePods: number }>;
  pods: number;
  containers: number;
  distinctDigests: number;
  objects: number;
  buildMs: number;
  warmMs: number;
  rssMb: number;
  keepAliveSeconds: number;
};

const started = performance.now();
const shape = shapeFromEnv();
const maxSeconds = intEnv(process.env, 'SCOPE_BENCH_FLEET_MAX_SECONDS', 1800, 10, 86_400);
// kube-apiserver closes idle keep-alive connections after 90 s (http.Server IdleTimeout); Node's default
// is 5 s, which turns a client that is busy for 5 s between two pages into a reset connection.
const keepAliveSeconds = intEnv(process.env, 'SCOPE_BENCH_FAKE_KEEPALIVE_SECONDS', 90, 1, 3600);
const dir = await mkdtemp(join(tmpdir(), 'scope-bench-fleet-'));
const fakes: FakeKube[] = [];
let closing = false;

async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  await Promise.allSettled(fakes.map((f) => f.close()));
  await rm(dir, { recursive: true, force: true });
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();
setTimeout(() => {
  process.stderr.write(`fake-fleet: ${maxSeconds} s lifetime reached, closing\n`);
  void shutdown(0);
}, maxSeconds * 1000).unref();

try {
  const clusters = benchClusters(shape);
  const counts: FleetCounts = { pods: 0, containers: 0, digests: new Set() };
  let objects = 0;
  for (const c of clusters) {
    const fake = await startFakeKube({ name: c.name, historyLimit: 1000 });
    fakes.push(fake);
    // biome-ignore lint/complexity/useLiteralKeys: FakeKube's server is private; bracket access is the TS escape hatch.
    const server = fake['server'];
    server.keepAliveTimeout = keepAliveSeconds * 1000;
    server.headersTimeout = (keepAliveSeconds + 5) * 1000;
    const objs = clusterObjects(shape, c);
    countObjects(objs, counts);
    objects += objs.length;
    fake.load(objs);
  }
  const buildMs = performance.now() - started;
  // Render and keep every object's JSON now (list() does), so no client pays for the first serialization.
  const warm = performance.now();
  for (const f of fakes) {
    f.list('v1', 'Pod');
    f.list('apps/v1', 'ReplicaSet');
    f.list('batch/v1', 'Job');
  }
  const warmMs = performance.now() - warm;
  const kubeconfig = await writeMultiKubeconfig(join(dir, 'fleet.kubeconfig'), fakes);
  const ready: FleetReady = {
    kubeconfig,
    clusters: clusters.map((c, i) => ({
      name: c.name,
      environment: c.environment,
      context: c.name,
      url: fakes[i]!.url,
      needlePods: c.needlePods,
    })),
    pods: counts.pods,
    containers: counts.containers,
    distinctDigests: counts.digests.size,
    objects,
    buildMs: Math.round(buildMs),
    warmMs: Math.round(warmMs),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    keepAliveSeconds,
  };
  process.stdout.write(`FLEET ${JSON.stringify(ready)}\n`);
} catch (err) {
  process.stderr.write(`fake-fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await shutdown(1);
}
