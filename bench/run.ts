/**
 * scope benchmark (`npm run bench`). A synthetic fleet (default 20 clusters × 10,000 pods, ≈300,000
 * containers, ≈5,000 distinct digests) is served by fake Kubernetes API servers (HTTPS) in a child process
 * (bench/fake-fleet-server.ts); a real redis-server runs on a free loopback port; this process is the
 * measured scope process. Phases, in order:
 *
 *   0. responsiveness  a hanging cluster's deadline, stop(), a watch abort, the fake server's load and close
 *   1. sync     initial FleetCollector.syncOnce of every cluster into the Redis InventoryStore, with RSS
 *   2. lookup   digestQuery from the index for random digests (10 % needle, 90 % common), and its parts
 *   3. slash    signed `/scope digest <needle>` → Bolt → queue → worker → chat.postMessage on a fake Slack
 *   3b. resync  a second syncOnce with the index full (what every inventory.resyncMinutes costs), with
 *               slash commands sent meanwhile (the worker process runs the collector too)
 *   4. cold     scanFleet over every cluster + filter (no index); then the scanned pods written again,
 *               one cluster after the other, into an empty prefix and then again unchanged (Redis write cost)
 *   5. kubectl  `kubectl get pods -A -o jsonpath=… | grep -F <digest>` per context, sequentially, then
 *               SCOPE_BENCH_KUBECTL_PARALLEL at a time
 *
 * Knobs (environment), defaults in brackets:
 *   SCOPE_BENCH_CLUSTERS [20]  SCOPE_BENCH_PODS per cluster [10000]  SCOPE_BENCH_IMAGES [2500 app images,
 *   as many sidecar images]  SCOPE_BENCH_LOOKUPS [2000]  SCOPE_BENCH_COMMANDS [200]
 *   SCOPE_BENCH_PARALLELISM [2, inventory.clusterParallelism]  SCOPE_BENCH_PAGE_SIZE [250, inventory.pageSize]
 *   SCOPE_BENCH_CLUSTER_TIMEOUT [20, cluster timeoutSeconds]  SCOPE_BENCH_KUBECTL_PARALLEL [8]
 *   SCOPE_BENCH_SETTLE_SECONDS [12, idle time before the steady-state RSS]
 *   SCOPE_BENCH_SKIP [comma list of: responsiveness, lookup, slash, resync, cold, replay, kubectl, kubectl-par]
 *   SCOPE_BENCH_FLEET [standard | heavy: the fleet preset, see bench/fleet.ts]
 *   SCOPE_BENCH_COLLECTOR [thread: phases 1 and 3b in a worker thread with the collector's heap limit, as
 *   the worker process runs it | inline: in this isolate, no limit]
 *   SCOPE_BENCH_OUT [bench/results/latest.json]  SCOPE_BENCH_TIMEOUT_SECONDS [900, whole run]
 *   SCOPE_BENCH_PODS_PER_DEPLOYMENT [5]  SCOPE_BENCH_NAMESPACES [40 per cluster]  SCOPE_BENCH_SIDECARS [1]
 *   SCOPE_BENCH_PULLABLE_PERCENT [0] (preset defaults; heavy: 10, 40, 0, 50, 5000 images)
 *   SCOPE_BENCH_FAKE_KEEPALIVE_SECONDS [90, like kube-apiserver's idle timeout]
 * Diagnostics: SCOPE_BENCH_SMAPS=1 (where the RSS is after the sync), SCOPE_BENCH_ALLOC_PROFILE=1 (what a
 * lookup allocates, by function). Node flags go through NODE_OPTIONS (e.g. --max-semi-space-size=16).
 * Results: one line per figure on stdout, everything in SCOPE_BENCH_OUT as JSON. Figures and method:
 * docs/PERFORMANCE.md.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { scanFleet } from '../src/adapters/kubernetes/collector.ts';
import { type Config, parseConfig } from '../src/config.ts';
import { buildContainer, type Container } from '../src/container.ts';
import { buildDigestReport } from '../src/domain/inventory/fleet-report.ts';
import type { Digest } from '../src/domain/inventory/image-ref.ts';
import type { InventoryWriter, PodRecord } from '../src/domain/inventory/inventory.ts';
import { digestQuery } from '../src/jobs/inventory-queries.ts';
import { createLogger } from '../src/log.ts';
import { InventoryStore } from '../src/store/inventory/inventory-store.ts';
import { type RedisServer, startRedisServer } from '../src/testing/redis-server.ts';
import type { FleetReady } from './fake-fleet-server.ts';
import { commonDigests, intEnv, isFullScale, NEEDLE_DIGEST, shapeFromEnv } from './fleet.ts';
import { responsivenessPhase } from './responsiveness.ts';
import {
  calibrate,
  fmtSummary,
  gcFunction,
  type Machine,
  machine,
  maxRssBytes,
  mb,
  prng,
  RssSampler,
  type Summary,
  summarize,
} from './stats.ts';
import { inlineRunner, threadRunner } from './sync-runner.ts';
import { type RelistTiming, writeCluster } from './timing-writer.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const shape = shapeFromEnv(env);
const SKIPPABLE = ['responsiveness', 'lookup', 'slash', 'resync', 'cold', 'replay', 'kubectl', 'kubectl-par'];
const knobs = {
  ...shape,
  lookups: intEnv(env, 'SCOPE_BENCH_LOOKUPS', 2000, 1, 1_000_000),
  commands: intEnv(env, 'SCOPE_BENCH_COMMANDS', 200, 1, 100_000),
  parallelism: intEnv(env, 'SCOPE_BENCH_PARALLELISM', 2, 1, 64),
  pageSize: intEnv(env, 'SCOPE_BENCH_PAGE_SIZE', 250, 10, 5000),
  clusterTimeoutSeconds: intEnv(env, 'SCOPE_BENCH_CLUSTER_TIMEOUT', 20, 1, 300),
  kubectlParallel: intEnv(env, 'SCOPE_BENCH_KUBECTL_PARALLEL', 8, 1, 64),
  settleSeconds: intEnv(env, 'SCOPE_BENCH_SETTLE_SECONDS', 12, 0, 120),
  timeoutSeconds: intEnv(env, 'SCOPE_BENCH_TIMEOUT_SECONDS', 900, 30, 7200),
  skip: new Set(
    (env.SCOPE_BENCH_SKIP ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
  out: env.SCOPE_BENCH_OUT ?? join(ROOT, 'bench', 'results', 'latest.json'),
  collector: env.SCOPE_BENCH_COLLECTOR === 'inline' ? ('inline' as const) : ('thread' as const),
};
for (const s of knobs.skip)
  if (!SKIPPABLE.includes(s)) throw new Error(`SCOPE_BENCH_SKIP: unknown phase ${s}`);
if (env.SCOPE_BENCH_COLLECTOR && !['thread', 'inline'].includes(env.SCOPE_BENCH_COLLECTOR))
  throw new Error(`SCOPE_BENCH_COLLECTOR=${env.SCOPE_BENCH_COLLECTOR}: expected thread or inline`);
const FULL_SCALE = isFullScale(shape);
const PREFIX = '{bench}';
const SIGNING_SECRET = `bench-signing-secret-${randomBytes(8).toString('hex')}`;
const CHANNEL = 'C0INCIDENT';
const JSONPATH =
  '{range .items[*]}{.metadata.namespace}{"/"}{.metadata.name}{" "}{.status.containerStatuses[*].imageID}{"\\n"}{end}';

type Target = { id: string; what: string; target: string; value: string; met: boolean | null };
const targets: Target[] = [];
const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
const cleanups: Array<() => Promise<unknown>> = [];
const log = createLogger('silent', 'bench');
const gc = gcFunction();
const sampler = new RssSampler();
const runStarted = performance.now();
const r1 = (ms: number) => Math.round(ms) / 1000;

function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function target(t: Target): void {
  targets.push(t);
  const mark = t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET';
  line(`   target ${t.what}: ${t.target} → ${t.value} [${mark}${FULL_SCALE ? '' : ', scaled-down run'}]`);
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user+system, all threads) another process has used so far. */
function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine spent busy (all cores). */
function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (f[3] ?? 0) - (f[4] ?? 0)) / clockTicks;
  } catch {
    return undefined;
  }
}

type Pids = { redis: number | undefined; fleet: number | undefined };
type CpuMark = {
  self: number;
  redis: number | undefined;
  fleet: number | undefined;
  machine: number | undefined;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  at: number;
};
type CpuUse = {
  wallS: number;
  scopeCpuS: number | null;
  redisCpuS: number | null;
  fakeServersCpuS: number | null;
  /** Busy CPU of everything else on the machine in the same interval: noise from other workloads. */
  otherProcessesCpuS: number | null;
  scopeEventLoopUtilization: number;
};

function cpuMark(pids: Pids): CpuMark {
  const u = process.cpuUsage();
  return {
    self: (u.user + u.system) / 1e6,
    redis: procCpuSeconds(pids.redis),
    fleet: procCpuSeconds(pids.fleet),
    machine: machineBusySeconds(),
    elu: performance.eventLoopUtilization(),
    at: performance.now(),
  };
}

function cpuSince(m: CpuMark, pids: Pids): CpuUse {
  const now = cpuMark(pids);
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? null : Math.round((a - b) * 100) / 100;
  const ours = [d(now.self, m.self), d(now.redis, m.redis), d(now.fleet, m.fleet)];
  const busy = d(now.machine, m.machine);
  const known = ours.every((x) => x !== null);
  return {
    wallS: r1(now.at - m.at),
    scopeCpuS: ours[0] ?? null,
    redisCpuS: ours[1] ?? null,
    fakeServersCpuS: ours[2] ?? null,
    otherProcessesCpuS:
      busy === null || !known
        ? null
        : Math.max(0, Math.round((busy - ours.reduce((a: number, b) => a + (b ?? 0), 0)) * 100) / 100),
    scopeEventLoopUtilization:
      Math.round(performance.eventLoopUtilization(now.elu, m.elu).utilization * 100) / 100,
  };
}

function fmtCpu(c: CpuUse): string {
  return (
    `scope ${c.scopeCpuS} s (event loop ${Math.round(c.scopeEventLoopUtilization * 100)} % busy), redis-server ${c.redisCpuS} s, ` +
    `fake API servers ${c.fakeServersCpuS} s, other processes ${c.otherProcessesCpuS} s; ${c.wallS} s wall`
  );
}

// ---------------------------------------------------------------- helpers

async function startFleet(): Promise<{ ready: FleetReady; child: ChildProcess; startMs: number }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=8192', join(ROOT, 'bench', 'fake-fleet-server.ts')],
    {
      cwd: ROOT,
      env: { ...env, SCOPE_BENCH_FLEET_MAX_SECONDS: String(knobs.timeoutSeconds + 120) },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin?.end();
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const rl = createInterface({ input: child.stdout! });
  const ready = await new Promise<FleetReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake fleet did not start within 300 s')), 300_000);
    rl.on('line', (l) => {
      if (!l.startsWith('FLEET ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(l.slice('FLEET '.length)) as FleetReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fake fleet exited with ${code} before it was ready`));
    });
  });
  return { ready, child, startMs: performance.now() - t0 };
}

function configFor(fleet: FleetReady, redisUrl: string, extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    redis: { url: redisUrl, prefix: PREFIX },
    clusters: fleet.clusters.map((c) => ({
      name: c.name,
      environment: c.environment,
      kubeconfig: fleet.kubeconfig,
      context: c.context,
      timeoutSeconds: knobs.clusterTimeoutSeconds,
    })),
    inventory: { pageSize: knobs.pageSize, clusterParallelism: knobs.parallelism },
    log: { level: 'silent' },
    ...extra,
  });
}

async function redisInfo(redis: Redis, section: string, field: string): Promise<number | undefined> {
  const info = await redis.info(section);
  const v = new RegExp(`${field}:(\\d+)`).exec(info)?.[1];
  return v === undefined ? undefined : Number(v);
}

/** Diagnostics (SCOPE_BENCH_SMAPS=1): where this process's resident memory is, by mapping size. */
function dumpSmaps(): void {
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const hist = new Map<string, { n: number; rss: number }>();
  let key = '';
  for (const l of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) {
      key = `${Math.round((Number.parseInt(m[2]!, 16) - Number.parseInt(m[1]!, 16)) / 1024)} kB ${m[3]} ${m[4] ?? ''}`;
    } else if (l.startsWith('Rss:')) {
      const h = hist.get(key) ?? { n: 0, rss: 0 };
      h.n += 1;
      h.rss += Number(l.split(/\s+/)[1]);
      hist.set(key, h);
    }
  }
  for (const [k, h] of [...hist].sort((a, b) => b[1].rss - a[1].rss).slice(0, 8))
    line(`     smaps: ${h.n} × ${k}: ${Math.round(h.rss / 1024)} MB resident`);
  for (const sp of getHeapSpaceStatistics())
    if (sp.physical_space_size > 2 ** 20)
      line(
        `     v8 ${sp.space_name}: ${mb(sp.space_used_size)} MB used, ${mb(sp.physical_space_size)} MB physical`,
      );
}

type SlashDriver = {
  /** Sends one `/scope digest <needle>` and resolves when its chat.postMessage reached the fake Slack. */
  send: () => Promise<{ toPostMs: number; ackMs: number; text: string }>;
  workerConcurrency: number;
  close: () => Promise<void>;
};

async function startSlash(fleet: FleetReady, redisUrl: string): Promise<SlashDriver> {
  const { slackSettingsFor, startFakeSlack } = await import('../src/testing/fake-slack.ts');
  const { sendSlashCommand } = await import('../src/testing/slack-requests.ts');
  const { startBot } = await import('../src/bot.ts');
  const { startCommandWorker } = await import('../src/worker.ts');
  const { commandPorts, slackClient } = await import('../src/worker-process.ts');
  const { SlackNotifier } = await import('../src/adapters/slack/notifier.ts');

  const slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  slack.addChannel({ id: CHANNEL, name: 'inc-bench' });
  const config = configFor(fleet, redisUrl, {
    slack: slackSettingsFor(slack, SIGNING_SECRET),
    access: { allowedChannels: [CHANNEL] },
  });
  const c = buildContainer(config, 'bot', log);
  cleanups.push(() => c.close());
  const bot = await startBot(c, { port: 0, host: '127.0.0.1' });
  const notifier = new SlackNotifier(slackClient(c), c.redis, config.redis.prefix, c.log, config.slack);
  const worker = startCommandWorker(c, { notifier, ports: commandPorts(c) });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await worker.close();
    await bot.stop();
  };
  cleanups.push(close);
  const endpoint = `http://127.0.0.1:${bot.port}/slack/commands`;
  let sent = 0;
  let seen = 0;
  return {
    workerConcurrency: config.worker.concurrency,
    close,
    send: async () => {
      const i = sent++;
      // A different user each time: the same user+channel+text within 5 s is one job (double-submit guard).
      const user = `U0BENCH${i.toString(36).toUpperCase().padStart(5, '0')}`;
      const sentAt = Date.now();
      const res = await sendSlashCommand(endpoint, SIGNING_SECRET, {
        text: `digest ${NEEDLE_DIGEST}`,
        user_id: user,
        user_name: `responder${i}`,
        channel_id: CHANNEL,
        trigger_id: `bench.${i}.${randomBytes(8).toString('hex')}`,
        response_url: slack.responseUrl(),
      });
      const ack = JSON.stringify(res.json ?? res.body);
      if (res.status !== 200 || !ack.includes('Working on')) {
        throw new Error(`slash command ${i} was not queued: HTTP ${res.status} ${ack.slice(0, 300)}`);
      }
      const call = await slack.waitFor(() => {
        const posts = slack.callsTo('chat.postMessage');
        return posts.length > seen ? posts[seen] : undefined;
      }, 60_000);
      seen += 1;
      if (call.status !== 200 || call.error)
        throw new Error(`chat.postMessage failed: ${call.status} ${call.error}`);
      // The fake stamps each call with Date.now() when it receives it, in this same process.
      return { toPostMs: call.at - sentAt, ackMs: res.elapsedMs, text: String(call.body.text ?? '') };
    },
  };
}

type KubectlRun = { context: string; ms: number; matches: number; lines: number };

/** `kubectl … get pods -A -o jsonpath=… | grep -F <digest>`: two processes joined by a pipe, as typed. */
function runKubectl(
  kubeconfig: string,
  context: string,
  cacheDir: string,
  digest: string,
): Promise<KubectlRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const args = ['--kubeconfig', kubeconfig, '--context', context, '--cache-dir', cacheDir];
    const k = spawn('kubectl', [...args, 'get', 'pods', '-A', '-o', `jsonpath=${JSONPATH}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const g = spawn('grep', ['-F', digest], { stdio: ['pipe', 'pipe', 'ignore'] });
    let lines = 0;
    let err = '';
    let out = '';
    k.stdout.on('data', (b: Buffer) => {
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines += 1;
    });
    k.stdout.pipe(g.stdin);
    k.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    g.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const timer = setTimeout(() => {
      k.kill('SIGKILL');
      g.kill('SIGKILL');
    }, 300_000);
    // Both ends must be done: grep may close before kubectl's exit status is in.
    const kDone = new Promise<number | null>((res) => k.once('close', (code) => res(code)));
    const gDone = new Promise<void>((res) => g.once('close', () => res()));
    void Promise.all([kDone, gDone]).then(([code]) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`kubectl --context ${context} exited ${code}: ${err.slice(0, 500)}`));
        return;
      }
      resolve({
        context,
        ms: performance.now() - started,
        matches: out.split('\n').filter(Boolean).length,
        lines,
      });
    });
    k.once('error', reject);
    g.once('error', reject);
  });
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: SCOPE_BENCH_TIMEOUT_SECONDS=${knobs.timeoutSeconds} exceeded; aborting\n`);
    void cleanup().finally(() => process.exit(2));
  }, knobs.timeoutSeconds * 1000);
  deadline.unref();

  const m: Machine = machine(env.REDIS_SERVER_BIN ?? 'redis-server');
  results.machine = { ...m, loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
  results.knobs = { ...knobs, skip: [...knobs.skip] };
  line('scope benchmark');
  line(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}; load average ${loadavg()[0]?.toFixed(2)}`,
  );
  line(`         Node ${m.node}, redis-server ${m.redis}, kubectl ${m.kubectl}`);
  line(
    `fleet:   ${shape.name}: ${shape.clusters} clusters × ${shape.podsPerCluster} pods in Deployments of ${shape.podsPerDeployment}, ` +
      `${shape.images} app${shape.sidecars ? ` + ${shape.images} sidecar` : ''} images, ${shape.pullablePercent} % docker-pullable:// imageIDs; ` +
      `page size ${knobs.pageSize}, cluster parallelism ${knobs.parallelism}` +
      (FULL_SCALE ? '' : '  (scaled down: the targets are for 20 × 10,000)'),
  );

  sampler.start();
  const baselineRss = process.memoryUsage.rss();
  calibrate();
  const calibrationStart = calibrate();
  line(`         calibration (fixed JSON work, lower is faster): ${calibrationStart} ms`);

  if (!knobs.skip.has('responsiveness')) {
    line();
    line(
      '0. responsiveness: deadlines, stop, abort, fake load and close (figures the tests no longer assert)',
    );
    results.responsiveness = await responsivenessPhase(line);
  }

  // ---- environment: redis-server, the fake fleet
  const redisServer: RedisServer = await startRedisServer();
  cleanups.push(() => redisServer.stop());
  const fleetStart = await startFleet();
  const fleet = fleetStart.ready;
  const needlePods = fleet.clusters.reduce((a, c) => a + c.needlePods, 0);
  const needleClusters = fleet.clusters.filter((c) => c.needlePods > 0).map((c) => c.name);
  results.fleet = {
    clusters: fleet.clusters.length,
    pods: fleet.pods,
    containers: fleet.containers,
    distinctDigests: fleet.distinctDigests,
    needleDigest: NEEDLE_DIGEST,
    needlePods,
    needleClusters,
    kubeObjects: fleet.objects,
    fakeServersReadyS: r1(fleetStart.startMs),
    fakeServersRssMb: fleet.rssMb,
    fakeServersKeepAliveSeconds: fleet.keepAliveSeconds,
  };
  line(
    `         ${fleet.pods} pods, ${fleet.containers} containers, ${fleet.distinctDigests} distinct digests; ` +
      `needle ${NEEDLE_DIGEST.slice(0, 19)}… in ${needlePods} pods of ${needleClusters.join(', ')}`,
  );
  line(
    `         fake API servers (HTTPS) in child pid ${fleetStart.child.pid}: ready in ${secs(fleetStart.startMs)}, ` +
      `RSS ${fleet.rssMb} MB, keep-alive ${fleet.keepAliveSeconds} s; redis-server on ${redisServer.url}`,
  );

  const config = configFor(fleet, redisServer.url);
  const container: Container = buildContainer(config, 'worker', log);
  cleanups.push(() => container.close());
  const pids: Pids = {
    redis: await redisInfo(container.redis, 'server', 'process_id'),
    fleet: fleetStart.child.pid,
  };
  const store: InventoryWriter = container.inventory;

  // ---- 1. initial sync
  line();
  line(
    `1. full initial sync: FleetCollector.syncOnce → InventoryStore (Redis), ${
      knobs.collector === 'inline'
        ? 'collector in this isolate, no heap limit'
        : `collector in a worker thread with the worker's heap limit (inventory.collectorHeapMb ${config.inventory.collectorHeapMb} MB)`
    }`,
  );
  gc();
  const rssBeforeSync = process.memoryUsage.rss();
  sampler.resetPeak();
  let t0 = 0;
  const runner =
    knobs.collector === 'inline'
      ? inlineRunner(config, store, log, knobs.timeoutSeconds)
      : threadRunner(config, knobs.timeoutSeconds);
  cleanups.push(() => runner.close());
  const cpu0 = cpuMark(pids);
  t0 = performance.now();
  const first = await runner.sync();
  const syncs = first.syncs;
  const syncMs = performance.now() - t0;
  const syncCpu = cpuSince(cpu0, pids);
  const syncPeakSampled = sampler.peak;
  const syncMaxRss = maxRssBytes();
  const failed = syncs.filter((s) => !s.ok);
  const syncedPods = syncs.reduce((a, s) => a + s.pods, 0);
  const relists = relistFigures(first.relists);
  const afterSyncRss = process.memoryUsage.rss();
  // V8 keeps the pages it freed pooled until its memory reducer runs, about 8 s after the last GC; the
  // steady state is what the worker holds after that, idle.
  gc();
  const afterGcRss = process.memoryUsage.rss();
  const settle: Array<{ s: number; rssMb: number }> = [];
  for (let i = 1; i <= knobs.settleSeconds * 2; i++) {
    await sleep(500);
    settle.push({ s: i / 2, rssMb: mb(sampler.sample()) });
  }
  const steady = process.memoryUsage();
  if (env.SCOPE_BENCH_SMAPS) dumpSmaps();
  const redisMemMb = mb((await redisInfo(container.redis, 'memory', 'used_memory')) ?? 0);
  const dbsize = await container.redis.dbsize();
  const peakRss = Math.max(syncPeakSampled, syncMaxRss);
  results.sync = {
    wallS: r1(syncMs),
    clustersOk: syncs.length - failed.length,
    clustersFailed: failed.map((s) => ({ cluster: s.cluster, error: s.error })),
    pods: syncedPods,
    relists,
    cpu: syncCpu,
    rssMb: {
      processBaseline: mb(baselineRss),
      beforeSync: mb(rssBeforeSync),
      peak: mb(peakRss),
      peakSampled: mb(syncPeakSampled),
      peakKernelMaxRss: mb(syncMaxRss),
      rightAfterSync: mb(afterSyncRss),
      afterFullGc: mb(afterGcRss),
      steady: mb(steady.rss),
      steadyJsHeapUsed: mb(steady.heapUsed),
      steadyJsHeapTotal: mb(steady.heapTotal),
      steadyExternal: mb(steady.external),
      settleSeconds: knobs.settleSeconds,
      settleSamples: settle,
    },
    redis: { usedMemoryMb: redisMemMb, keys: dbsize },
  };
  line(
    `   wall ${secs(syncMs)} for ${syncedPods} pods, ${syncs.length - failed.length}/${syncs.length} clusters ok` +
      (failed.length ? ` — FAILED: ${failed.map((s) => `${s.cluster}: ${s.error}`).join('; ')}` : ''),
  );
  line(`   ${fmtRelists(relists)}`);
  line(`   CPU: ${fmtCpu(syncCpu)}`);
  line(
    `   scope RSS: ${mb(baselineRss)} MB at start, ${mb(rssBeforeSync)} MB before sync, peak ${mb(peakRss)} MB ` +
      `(sampled ${mb(syncPeakSampled)}, kernel maxRSS ${mb(syncMaxRss)}); ${mb(afterSyncRss)} MB right after, ` +
      `${mb(afterGcRss)} MB after a full GC, steady ${mb(steady.rss)} MB after ${knobs.settleSeconds} s idle ` +
      `(JS heap ${mb(steady.heapUsed)} of ${mb(steady.heapTotal)} MB, external ${mb(steady.external)} MB)`,
  );
  line(`   redis-server: ${redisMemMb} MB used, ${dbsize} keys`);
  target({
    id: 'sync-wall',
    what: 'full initial sync, wall time',
    target: '≤ 20 s',
    value: secs(syncMs),
    met: failed.length === 0 && syncMs <= 20_000,
  });
  target({
    id: 'collector-rss',
    what: `collector RSS (peak during sync; steady after), ${shape.name} fleet`,
    target: '≤ 400 MB',
    value: `${mb(peakRss)} MB; ${mb(steady.rss)} MB`,
    met: peakRss <= 400 * 2 ** 20 && steady.rss <= 400 * 2 ** 20,
  });

  // ---- 2. digest lookups
  const inv = container.inventory;
  if (!knobs.skip.has('lookup')) {
    line();
    line(
      '2. digest lookup from the index: digestQuery (podsRunningDigest + digestHistory + syncStates → DigestReport)',
    );
    const digests = await lookupPhase(inv, container.redis, needlePods);
    line('2b. the same lookups in an isolate of their own (the worker process: collector in another thread)');
    const thread = new Worker(new URL('./lookup-thread.ts', import.meta.url), {
      workerData: { config: JSON.parse(JSON.stringify(config)), digests, warmup: 50 },
    });
    const [{ ms }] = (await once(thread, 'message')) as [{ ms: number[] }];
    await once(thread, 'exit');
    const s = summarize(ms);
    results.lookupOwnIsolate = s;
    line(`   all ${fmtSummary(s)}`);
    target({
      id: 'lookup-p99-isolate',
      what: "digest lookup from the index, p99, in the command worker's own isolate",
      target: '≤ 5 ms',
      value: `${s.p99} ms`,
      met: s.p99 <= 5,
    });
  }

  // ---- 3. slash commands, then the resync with commands arriving meanwhile
  let slash: SlashDriver | undefined;
  if (!knobs.skip.has('slash')) {
    line();
    line(
      '3. slash command → posted answer: signed /scope digest <needle> → Bolt → queue → worker → chat.postMessage',
    );
    slash = await startSlash(fleet, redisServer.url);
    const warmup = 10;
    for (let i = 0; i < warmup; i++) await slash.send();
    const toPost: number[] = [];
    const acks: number[] = [];
    let text = '';
    for (let i = 0; i < knobs.commands; i++) {
      const r = await slash.send();
      toPost.push(r.toPostMs);
      acks.push(r.ackMs);
      text = r.text;
    }
    const s = summarize(toPost);
    const a = summarize(acks);
    results.slash = {
      method:
        'sequential signed slash commands over loopback HTTP to the Bolt receiver, each with its own user_id and trigger_id; ' +
        'from just before the POST to the fake Slack recording the chat.postMessage (Date.now() on both sides, one process)',
      n: knobs.commands,
      warmup,
      workerConcurrency: slash.workerConcurrency,
      toPostedAnswerMs: s,
      ackMs: a,
      postedText: text,
    };
    line(`   answer posted: "${text}"`);
    line(`   request → chat.postMessage: ${fmtSummary(s)}`);
    line(`   request → ephemeral ack:    ${fmtSummary(a)}`);
    target({
      id: 'slash-p95',
      what: 'slash command → posted answer, p95 (warm index)',
      target: '≤ 300 ms',
      value: `${s.p95} ms`,
      met: s.p95 <= 300,
    });
  }

  if (!knobs.skip.has('resync')) {
    line();
    line(
      `3b. re-sync with the index full (every inventory.resyncMinutes)${slash ? ', slash commands sent meanwhile' : ''}`,
    );
    sampler.resetPeak();
    const c1 = cpuMark(pids);
    t0 = performance.now();
    let done = false;
    const resync = runner.sync().finally(() => {
      done = true;
    });
    const during: number[] = [];
    if (slash) {
      for (let i = 0; i < 10_000 && !done; i++) during.push((await slash.send()).toPostMs);
    }
    const { syncs: again, relists: againRelists } = await resync;
    const ms = performance.now() - t0;
    const cpu = cpuSince(c1, pids);
    const rl = relistFigures(againRelists);
    const sd = during.length ? summarize(during) : undefined;
    results.resync = {
      wallS: r1(ms),
      clustersOk: again.filter((s) => s.ok).length,
      relists: rl,
      cpu,
      rssPeakSampledMb: mb(sampler.peak),
      kernelMaxRssSoFarMb: mb(maxRssBytes()),
      slashDuringResyncMs: sd,
    };
    line(`   wall ${secs(ms)}, ${again.filter((s) => s.ok).length}/${again.length} clusters ok`);
    line(`   ${fmtRelists(rl)}`);
    line(`   CPU: ${fmtCpu(cpu)}; scope RSS peak ${mb(sampler.peak)} MB (sampled)`);
    if (sd) line(`   slash command → posted answer while it ran: ${fmtSummary(sd)}`);
  }
  if (!knobs.skip.has('resync') && slash) {
    line();
    line(
      '3c. the same re-sync in the collector thread, as the worker process runs it, slash commands sent meanwhile',
    );
    const started = new Date().toISOString();
    t0 = performance.now();
    const thread = new Worker(new URL('../src/collector-thread.ts', import.meta.url), {
      workerData: { config: JSON.parse(JSON.stringify(config)) },
      resourceLimits: { maxOldGenerationSizeMb: config.inventory.collectorHeapMb },
    });
    const allSynced = async () =>
      (await container.inventory.syncStates()).every((st) => (st.lastSuccessAt ?? '') > started);
    const during: number[] = [];
    const deadline = Date.now() + knobs.timeoutSeconds * 1000;
    while (!(await allSynced()) && Date.now() < deadline && during.length < 10_000) {
      during.push((await slash.send()).toPostMs);
    }
    const ms = performance.now() - t0;
    thread.postMessage('stop');
    await once(thread, 'exit');
    const sd = during.length ? summarize(during) : undefined;
    results.resyncInThread = { wallS: r1(ms), slashDuringResyncMs: sd };
    line(`   all clusters re-listed after ${secs(ms)}`);
    if (sd) line(`   slash command → posted answer while it ran: ${fmtSummary(sd)}`);
  }
  await slash?.close();

  // ---- 4. cold scan, and the write path alone
  let coldMs: number | undefined;
  if (!knobs.skip.has('cold')) {
    line();
    line('4. scope cold: scanFleet over every cluster + filter for the needle (no index)');
    coldMs = await coldPhase(config, container, pids);
  }

  // ---- 5. kubectl
  if (!knobs.skip.has('kubectl')) {
    line();
    line('5. the manual method: kubectl get pods -A -o jsonpath=… | grep -F <needle>, per context');
    await kubectlPhase(fleet, coldMs);
  }

  const calibrationEnd = calibrate();
  results.calibrationMs = { start: calibrationStart, end: calibrationEnd };
  results.targets = targets;
  results.finishedAt = new Date().toISOString();
  results.durationS = r1(performance.now() - runStarted);
  results.fullScale = FULL_SCALE;
  await mkdir(dirname(knobs.out), { recursive: true });
  await writeFile(knobs.out, `${JSON.stringify(results, null, 2)}\n`);
  line();
  line(
    `targets: ${targets.filter((t) => t.met).length} of ${targets.filter((t) => t.met !== null).length} met${FULL_SCALE ? '' : ' (scaled-down run)'}`,
  );
  for (const t of targets)
    line(`  ${t.met ? 'MET    ' : 'NOT MET'}  ${t.what}: ${t.value} (target ${t.target})`);
  line(
    `calibration: ${calibrationStart} ms at the start, ${calibrationEnd} ms at the end (fixed JSON work; lower is faster)`,
  );
  line(`results: ${knobs.out}; run took ${secs(performance.now() - runStarted)}`);
}

async function lookupPhase(inv: InventoryStore, redis: Redis, needlePods: number): Promise<string[]> {
  const allCommon = commonDigests(shape);
  const present =
    (await redis.pipeline(allCommon.map((d) => ['zscore', `${PREFIX}:inv:digests`, d])).exec()) ?? [];
  const common = allCommon.filter((_, i) => present[i]?.[1] !== null);
  const rand = prng(20261125);
  const pick = (): string =>
    rand() < 0.1 || common.length === 0
      ? NEEDLE_DIGEST
      : (common[Math.floor(rand() * common.length)] as string);
  const query = (d: string) => digestQuery(inv, { kind: 'digest', digest: d as Digest }, new Date());

  const check = await query(NEEDLE_DIGEST);
  if (check.totals.pods !== needlePods)
    throw new Error(`the needle lookup found ${check.totals.pods} pods, expected ${needlePods}`);
  const warmup = 50;
  for (let i = 0; i < warmup; i++) await query(pick());
  const digests = Array.from({ length: knobs.lookups }, pick);
  // Garbage collections during the loop, to tell a slow lookup from a lookup that met a GC pause.
  const gcs: Array<{ start: number; end: number; kind: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.push({
        start: e.startTime,
        end: e.startTime + e.duration,
        kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0,
      });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const spans: Array<{ start: number; end: number; needle: boolean; pods: number }> = [];
  for (const d of digests) {
    const start = performance.now();
    const r = await query(d);
    spans.push({ start, end: performance.now(), needle: d === NEEDLE_DIGEST, pods: r.totals.pods });
  }
  await sleep(50);
  observer.disconnect();
  const ms = (x: { start: number; end: number }) => x.end - x.start;
  const sAll = summarize(spans.map(ms));
  const hitGc = (x: { start: number; end: number }) => gcs.some((g) => g.start < x.end && g.end > x.start);
  const slowest = [...spans]
    .sort((a, b) => ms(b) - ms(a))
    .slice(0, Math.max(1, Math.ceil(spans.length / 100)));
  const withoutGc = summarize(spans.filter((x) => !hitGc(x)).map(ms));
  const kinds: Record<string, { n: number; totalMs: number; longestMs: number }> = {};
  const kindName = (k: number) =>
    ({ 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weak-callbacks', 16: 'minor-mark-sweep' })[
      k
    ] ?? String(k);
  for (const g of gcs) {
    const name = kindName(g.kind);
    const e = kinds[name] ?? { n: 0, totalMs: 0, longestMs: 0 };
    kinds[name] = e;
    e.n += 1;
    e.totalMs = Math.round((e.totalMs + g.end - g.start) * 100) / 100;
    e.longestMs = Math.max(e.longestMs, Math.round((g.end - g.start) * 100) / 100);
  }
  const gcInfo = {
    byKind: kinds,
    collections: gcs.length,
    totalMs: Math.round(gcs.reduce((a, g) => a + g.end - g.start, 0)),
    longestMs: Math.round(Math.max(0, ...gcs.map((g) => g.end - g.start)) * 100) / 100,
    lookupsOverlappingGc: spans.filter(hitGc).length,
    slowest1PercentOverlappingGc: `${slowest.filter(hitGc).length}/${slowest.length}`,
    lookupsWithoutGc: withoutGc,
  };

  if (env.SCOPE_BENCH_ALLOC_PROFILE) await allocationProfile(digests.slice(0, 500), query);

  // The parts of one lookup, on the first digests of the same sequence.
  const partsN = Math.min(200, knobs.lookups);
  const tPods: number[] = [];
  const tHist: number[] = [];
  const tStates: number[] = [];
  const tBuild: number[] = [];
  const now = new Date();
  for (const d of digests.slice(0, partsN)) {
    let s = performance.now();
    const pods = await inv.podsRunningDigest(d);
    tPods.push(performance.now() - s);
    s = performance.now();
    const history = await inv.digestHistory(d, now);
    tHist.push(performance.now() - s);
    s = performance.now();
    const states = await inv.syncStates();
    tStates.push(performance.now() - s);
    s = performance.now();
    buildDigestReport(d, pods, history, states, now);
    tBuild.push(performance.now() - s);
  }
  const parts = {
    n: partsN,
    podsRunningDigest: summarize(tPods),
    digestHistory: summarize(tHist),
    syncStates: summarize(tStates),
    buildDigestReport: summarize(tBuild),
  };
  results.lookup = {
    method:
      'digestQuery(InventoryStore, {kind:"digest"}, now), in this process, against redis-server on loopback: ' +
      'podsRunningDigest + digestHistory + syncStates in parallel, then buildDigestReport; one lookup after the other',
    n: knobs.lookups,
    warmup,
    needleShare: 0.1,
    all: sAll,
    needle: summarize(spans.filter((x) => x.needle).map(ms)),
    common: summarize(spans.filter((x) => !x.needle).map(ms)),
    commonPodsPerDigest: summarize(spans.filter((x) => !x.needle).map((x) => x.pods)),
    gc: gcInfo,
    parts,
  };
  const lk = results.lookup as { needle: Summary; common: Summary; commonPodsPerDigest: Summary };
  line(`   all ${fmtSummary(sAll)}`);
  line(
    `   needle (${check.totals.pods} pods in ${check.totals.clusters} clusters): ${fmtSummary(lk.needle)}`,
  );
  line(`   common (median ${lk.commonPodsPerDigest.p50} pods each): ${fmtSummary(lk.common)}`);
  line(
    `   GC during the ${spans.length} lookups: ${gcInfo.collections} collections, ${gcInfo.totalMs} ms in all, longest ${gcInfo.longestMs} ms; ` +
      `${gcInfo.lookupsOverlappingGc} lookups overlapped one, and ${gcInfo.slowest1PercentOverlappingGc} of the slowest 1 %`,
  );
  line(
    `     by kind: ${Object.entries(kinds)
      .map(([k, v]) => `${k} ${v.n}× (${v.totalMs} ms, longest ${v.longestMs} ms)`)
      .join(', ')}`,
  );
  line(`   lookups that met no GC: ${fmtSummary(withoutGc)}`);
  line(
    `   parts (first ${partsN}, one after the other): podsRunningDigest ${fmtSummary(parts.podsRunningDigest)}`,
  );
  line(`     digestHistory ${fmtSummary(parts.digestHistory)}`);
  line(`     syncStates ${fmtSummary(parts.syncStates)}`);
  line(`     buildDigestReport ${fmtSummary(parts.buildDigestReport)}`);
  target({
    id: 'lookup-p99',
    what: "digest lookup from the index, p99, in the benchmark process (beside the collector's heap)",
    target: '≤ 5 ms',
    value: `${sAll.p99} ms`,
    met: sAll.p99 <= 5,
  });
  return digests;
}

/**
 * Diagnostics (SCOPE_BENCH_ALLOC_PROFILE=1): what the lookups allocate, by function, from V8's sampling heap
 * profiler with collected objects kept in the profile (so short-lived garbage counts too).
 */
async function allocationProfile(digests: string[], query: (d: string) => Promise<unknown>): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (const d of digests) await query(d);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
    profile: { head: AllocNode };
  };
  session.disconnect();
  type AllocNode = {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: AllocNode[];
  };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: AllocNode) => {
    const f = n.callFrame;
    const url = f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
    bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  line(
    `   allocation profile: ${Math.round(total / digests.length / 1024)} kB allocated per lookup (sampled, ${digests.length} lookups)`,
  );
  for (const [k, v] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15))
    line(`     ${String(Math.round(v / digests.length / 1024)).padStart(6)} kB/lookup  ${k}`);
}

async function coldPhase(config: Config, container: Container, pids: Pids): Promise<number> {
  sampler.resetPeak();
  const c4 = cpuMark(pids);
  const s = performance.now();
  const scan = await scanFleet(config.clusters, AbortSignal.timeout(knobs.timeoutSeconds * 1000), {
    pageSize: knobs.pageSize,
    parallelism: knobs.parallelism,
    clusterDeadlineMs: knobs.clusterTimeoutSeconds * 1000,
  });
  const hits = scan.pods.filter((p) => p.containers.some((c) => c.digest === NEEDLE_DIGEST));
  const coldMs = performance.now() - s;
  const cpu = cpuSince(c4, pids);
  const ok = scan.syncs.filter((x) => x.ok).length;
  results.cold = {
    method:
      'scanFleet(all clusters, same page size and parallelism) then filter the PodRecords for the digest',
    wallS: r1(coldMs),
    pods: scan.pods.length,
    clustersOk: ok,
    needlePodsFound: hits.length,
    cpu,
    rssPeakSampledMb: mb(sampler.peak),
  };
  line(
    `   wall ${secs(coldMs)}: ${scan.pods.length} pods from ${ok}/${scan.syncs.length} clusters, ${hits.length} needle pods`,
  );
  line(`   CPU: ${fmtCpu(cpu)}; scope RSS peak ${mb(sampler.peak)} MB (sampled, holds every pod)`);
  if (knobs.skip.has('replay')) return coldMs;

  // The Redis write path alone: the same pods written again, one cluster after the other, into empty prefixes.
  const byCluster = new Map<string, PodRecord[]>();
  for (const p of scan.pods) {
    const l = byCluster.get(p.cluster) ?? [];
    l.push(p);
    byCluster.set(p.cluster, l);
  }
  const at = new Date();
  const redis = container.redis;
  const replay = async (w: InventoryWriter, clusters: Map<string, PodRecord[]>, at: Date) => {
    const per: number[] = [];
    const c = cpuMark(pids);
    const t = performance.now();
    for (const [cluster, pods] of clusters) {
      const s1 = performance.now();
      await writeCluster(w, cluster, pods[0]?.environment ?? 'unknown', pods, at, knobs.pageSize);
      per.push(performance.now() - s1);
    }
    return { wallS: r1(performance.now() - t), perClusterMs: summarize(per), cpu: cpuSince(c, pids) };
  };
  // Into an empty prefix (what the initial sync writes), then the same pods again (an unchanged re-sync).
  const replayStore = new InventoryStore(redis, '{bench-replay}', config);
  const commands = async () => (await redisInfo(redis, 'stats', 'total_commands_processed')) ?? 0;
  const c0 = await commands();
  const initial = await replay(replayStore, byCluster, at);
  const c1 = await commands();
  const unchanged = await replay(replayStore, byCluster, new Date(at.getTime() + 60_000));
  const c2 = await commands();
  results.replay = {
    what:
      'The scanned pods written through InventoryStore re-lists (beginRelist, writePage per page of pageSize, finish), ' +
      'one cluster after the other, no LIST: the Redis write cost alone. ' +
      'redisCommands counts what redis-server processed, commands run inside Lua scripts included',
    initial: { ...initial, redisCommands: c1 - c0 },
    unchangedResync: { ...unchanged, redisCommands: c2 - c1 },
  };
  line(
    `   write path alone, re-list cluster after cluster (no LIST): into an empty index ${initial.wallS} s ` +
      `(${c1 - c0} Redis commands; CPU ${fmtCpu(initial.cpu)})`,
  );
  line(
    `     the same pods again (unchanged re-sync): ${unchanged.wallS} s (${c2 - c1} Redis commands; CPU ${fmtCpu(unchanged.cpu)})`,
  );
  return coldMs;
}

type RelistFigures = {
  clusters: number;
  pods: number;
  written: number;
  unchanged: number;
  removed: number;
  pageWriteSumS: number;
  perClusterMs: Summary;
  sweepMs: Summary;
  lastListDoneAtS: number;
};

/** The re-lists of a sync, summed: pods written vs. unchanged (fingerprints), time in page writes and sweeps. */
function relistFigures(relists: readonly RelistTiming[]): RelistFigures {
  const sum = (f: (r: RelistTiming) => number) => relists.reduce((a, r) => a + f(r), 0);
  return {
    clusters: relists.length,
    pods: sum((r) => r.pods),
    written: sum((r) => r.written),
    unchanged: sum((r) => r.unchanged),
    removed: sum((r) => r.removed),
    pageWriteSumS: r1(sum((r) => r.pageWriteMs)),
    perClusterMs: summarize(relists.map((r) => r.endMs - r.startMs)),
    sweepMs: summarize(relists.map((r) => r.sweepMs)),
    lastListDoneAtS: r1(Math.max(0, ...relists.map((r) => r.listedMs))),
  };
}

function fmtRelists(f: RelistFigures): string {
  return (
    `re-lists: ${f.clusters} clusters, ${f.pods} pods: ${f.written} written, ${f.unchanged} unchanged (fingerprint), ` +
    `${f.removed} removed; page writes ${f.pageWriteSumS} s summed over clusters; per cluster (list + writes + sweep) ` +
    `${fmtSummary(f.perClusterMs)}; sweep ${fmtSummary(f.sweepMs)}; last LIST done at ${f.lastListDoneAtS} s`
  );
}

async function kubectlPhase(fleet: FleetReady, coldMs: number | undefined): Promise<void> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'scope-bench-kubecache-'));
  cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
  // kubectl's discovery cache is warmed for every context first, as on a responder's laptop (favours kubectl).
  for (const c of fleet.clusters) {
    execFileSync(
      'kubectl',
      [
        '--kubeconfig',
        fleet.kubeconfig,
        '--context',
        c.context,
        '--cache-dir',
        cacheDir,
        'api-resources',
        '-o',
        'name',
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
  }
  const seq: KubectlRun[] = [];
  const s = performance.now();
  for (const c of fleet.clusters)
    seq.push(await runKubectl(fleet.kubeconfig, c.context, cacheDir, NEEDLE_DIGEST));
  const seqMs = performance.now() - s;
  const perCtx = summarize(seq.map((r) => r.ms));
  const matches = seq.reduce((a, r) => a + r.matches, 0);
  const lines = seq.reduce((a, r) => a + r.lines, 0);
  const kub: Record<string, unknown> = {
    command: `kubectl --kubeconfig K --context C --cache-dir D get pods -A -o 'jsonpath=${JSONPATH}' | grep -F <digest>`,
    discoveryCacheWarm: true,
    sequential: { wallS: r1(seqMs), perContextMs: perCtx, podLines: lines, needlePodsFound: matches },
  };
  line(
    `   sequential, ${seq.length} contexts: ${secs(seqMs)} (per context ${fmtSummary(perCtx)}); ${lines} pod lines, ${matches} needle pods`,
  );
  let parMs: number | undefined;
  if (!knobs.skip.has('kubectl-par')) {
    const limit = pLimit(knobs.kubectlParallel);
    const p = performance.now();
    const par = await Promise.all(
      fleet.clusters.map((c) =>
        limit(() => runKubectl(fleet.kubeconfig, c.context, cacheDir, NEEDLE_DIGEST)),
      ),
    );
    parMs = performance.now() - p;
    const found = par.reduce((a, r) => a + r.matches, 0);
    kub.parallel = { parallelism: knobs.kubectlParallel, wallS: r1(parMs), needlePodsFound: found };
    line(`   parallel, ${knobs.kubectlParallel} at a time: ${secs(parMs)}; ${found} needle pods`);
  }
  results.kubectl = kub;

  const lookup = results.lookup as { all: Summary; needle: Summary } | undefined;
  const slash = results.slash as { toPostedAnswerMs: Summary } | undefined;
  const ratios: Record<string, number> = {};
  const x = (v: number) => Math.round(v * 10) / 10;
  if (lookup) {
    ratios.kubectlSequentialOverNeedleLookupP50 = x(seqMs / lookup.needle.p50);
    ratios.kubectlSequentialOverLookupP99 = x(seqMs / lookup.all.p99);
    line(
      `   scope warm, index lookup (needle p50 ${lookup.needle.p50} ms; all p99 ${lookup.all.p99} ms) vs kubectl sequential: ` +
        `${ratios.kubectlSequentialOverNeedleLookupP50}× (${ratios.kubectlSequentialOverLookupP99}× at p99)`,
    );
    target({
      id: 'warm-vs-kubectl',
      what: 'scope warm (index lookup, needle p50) vs kubectl sequential',
      target: '≥ 100× faster',
      value: `${ratios.kubectlSequentialOverNeedleLookupP50}×`,
      met: ratios.kubectlSequentialOverNeedleLookupP50 >= 100,
    });
  }
  if (slash) {
    ratios.kubectlSequentialOverSlashP50 = x(seqMs / slash.toPostedAnswerMs.p50);
    line(
      `   scope warm, end to end (slash → posted answer p50 ${slash.toPostedAnswerMs.p50} ms) vs kubectl sequential: ${ratios.kubectlSequentialOverSlashP50}×`,
    );
  }
  if (coldMs !== undefined) {
    ratios.kubectlSequentialOverCold = x(seqMs / coldMs);
    line(
      `   scope cold (scanFleet ${secs(coldMs)}) vs kubectl sequential: ${ratios.kubectlSequentialOverCold}× ${seqMs >= coldMs ? 'faster' : 'SLOWER'}`,
    );
    if (parMs !== undefined) {
      ratios.kubectlParallelOverCold = x(parMs / coldMs);
      line(
        `   scope cold vs kubectl parallel: ${ratios.kubectlParallelOverCold}× ${parMs >= coldMs ? 'faster' : 'SLOWER'}`,
      );
    }
    target({
      id: 'cold-vs-kubectl',
      what: 'scope cold (scanFleet + filter) vs kubectl sequential',
      target: 'no slower (ratio ≥ 1)',
      value: `${ratios.kubectlSequentialOverCold}×`,
      met: coldMs <= seqMs,
    });
  }
  results.ratios = ratios;
}

async function cleanup(): Promise<void> {
  sampler.stop();
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
}

try {
  // `npm run bench -- --advisories` / `-- --audit`: the advisory matching / CloudTrail audit benchmarks instead.
  if (process.argv.includes('--advisories')) await import('./advisories.ts');
  else if (process.argv.includes('--audit')) await (await import('./audit.ts')).runAuditBench();
  else await main();
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
// Everything this run started is closed by now; do not wait on a stray handle of a library.
process.exit(process.exitCode ?? 0);
