/**
 * CLI start-up benchmark (`npm run bench:cli`): wall time of a warm `scope cli digest …` answered from a
 * real Redis index (3 clusters, a few hundred pods), end to end as a user runs it: process start, module
 * loading, config, one Redis round of queries, rendering, exit. "Warm" = the OS file cache and Node's
 * on-disk compile cache are filled by the warm-up runs. Uses hyperfine when it is installed (apt-get install
 * hyperfine), else a loop of runs. Builds the CLI bundle first (SCOPE_BENCH_CLI_BUILD=0 skips that) and measures
 * it and the plain sources. Knobs: SCOPE_BENCH_CLI_RUNS [30]. On a machine shared with busy neighbours, run it as
 * `chrt -f 50 npm run bench:cli` (root). Figures: docs/PERFORMANCE.md, "CLI start-up".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { dump } from 'js-yaml';
import { parseConfig } from '../src/config.ts';
import type { PodRecord } from '../src/domain/inventory/inventory.ts';
import { InventoryStore } from '../src/store/inventory/inventory-store.ts';
import { startRedisServer } from '../src/testing/redis-server.ts';
import { fmtSummary, summarize } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.SCOPE_BENCH_CLI_RUNS ?? 30);
const DIGEST = `sha256:${'5c'.repeat(32)}`;

function hasHyperfine(): boolean {
  return spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Wall times (ms) of each run, and the mean CPU time (user + system, ms) when hyperfine measured it. */
type Measured = { wall: number[]; cpuMs?: number };

async function measure(argv: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  if (hasHyperfine()) {
    const out = join(tmpdir(), `scope-bench-cli-${process.pid}.json`);
    const cmd = argv.map((a) => (/^[\w./:=-]+$/.test(a) ? a : `'${a}'`)).join(' ');
    execFileSync(
      'hyperfine',
      ['-N', '-i', '--warmup', '3', '--runs', String(RUNS), '--export-json', out, '--style', 'none', cmd],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const json = JSON.parse(await readFile(out, 'utf8')) as {
      results: Array<{ times: number[]; user: number; system: number }>;
    };
    await rm(out, { force: true });
    const r = json.results[0];
    return { wall: (r?.times ?? []).map((s) => s * 1000), cpuMs: r ? (r.user + r.system) * 1000 : 0 };
  }
  const times: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t = performance.now();
    spawnSync(argv[0] as string, argv.slice(1), { env, stdio: 'ignore' });
    if (i >= 3) times.push(performance.now() - t);
  }
  return { wall: times };
}

async function main(): Promise<void> {
  const redisServer = await startRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-cli-'));
  try {
    const clusters = ['prod-eu', 'stage-1', 'dev-1'].map((name) => ({
      name,
      environment: name.split('-')[0] as string,
      kubeconfig: join(dir, 'unused-kubeconfig'),
    }));
    const raw = { redis: { url: redisServer.url, prefix: '{bench}' }, clusters, log: { level: 'silent' } };
    const configPath = join(dir, 'scope.yaml');
    await writeFile(configPath, dump(raw));
    const config = parseConfig(raw);
    const redis = new Redis(redisServer.url);
    const store = new InventoryStore(redis, '{bench}', config);
    const at = new Date();
    for (const c of clusters) {
      const pods: PodRecord[] = Array.from({ length: 200 }, (_, i) => ({
        cluster: c.name,
        environment: c.environment,
        namespace: `team-${i % 10}`,
        name: `svc-${i}-0`,
        uid: `${c.name}-${i}`,
        workload: { kind: 'Deployment', name: `svc-${i}` },
        containers: [
          {
            name: 'app',
            type: 'container',
            image: `registry.example.com/team/svc-${i}:1.0`,
            repository: `registry.example.com/team/svc-${i}`,
            tag: '1.0',
            digest: i % 20 === 0 ? DIGEST : `sha256:${i.toString(16).padStart(64, '0')}`,
          },
        ],
      }));
      await store.replaceCluster(c.name, c.environment, pods, at);
      const iso = at.toISOString();
      await store.recordSync({
        cluster: c.name,
        environment: c.environment,
        ok: true,
        pods: pods.length,
        startedAt: iso,
        finishedAt: iso,
      });
    }
    await redis.quit();

    const env = { ...process.env, SCOPE_CONFIG: configPath, NO_COLOR: '1' };
    const node = process.execPath;
    const scope = join(ROOT, 'bin/scope.mjs');
    const sources = { ...env, SCOPE_CLI_FROM_SOURCES: '1' };
    const cases: Array<[string, string[], NodeJS.ProcessEnv]> = [
      ['node -e 0 (Node start-up alone)', [node, '-e', '0'], env],
      ['scope cli digest (bundle, after build:cli)', [node, scope, 'cli', 'digest', DIGEST], env],
      ['scope cli digest --json (bundle)', [node, scope, 'cli', 'digest', DIGEST, '--json'], env],
      ['scope cli digest (sources, no build step)', [node, scope, 'cli', 'digest', DIGEST], sources],
      [
        'node src/main.ts cli digest (sources)',
        [node, join(ROOT, 'src/main.ts'), 'cli', 'digest', DIGEST],
        env,
      ],
    ];
    if (process.env.SCOPE_BENCH_CLI_BUILD !== '0') {
      process.stdout.write('building the CLI bundle (npm run build:cli)…\n');
      execFileSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, stdio: 'ignore' });
    }
    const cpu = cpus();
    process.stdout.write(
      `machine: ${cpu[0]?.model ?? '?'} × ${cpu.length}, Node ${process.version}, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ${hasHyperfine() ? 'hyperfine' : 'spawn loop'}, ${RUNS} runs after 3 warm-up\n`,
    );
    for (const [name, argv, caseEnv] of cases) {
      const m = await measure(argv, caseEnv);
      const cpu = m.cpuMs === undefined ? '' : ` · CPU ${m.cpuMs.toFixed(0)} ms/run`;
      process.stdout.write(`${name.padEnd(48)} ${fmtSummary(summarize(m.wall))}${cpu}\n`);
    }
    process.stdout.write(
      `load after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    await redisServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
