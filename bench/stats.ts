import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type Summary = {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
};

/** Nearest-rank percentiles of a sample, in the sample's unit, rounded to 0.01. */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
  const r = (v: number) => Math.round(v * 100) / 100;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    min: r(s[0] ?? Number.NaN),
    p50: r(at(0.5)),
    p95: r(at(0.95)),
    p99: r(at(0.99)),
    max: r(s[s.length - 1] ?? Number.NaN),
    mean: r(mean),
  };
}

export function fmtSummary(s: Summary, unit = 'ms'): string {
  return `p50 ${s.p50} ${unit}, p95 ${s.p95} ${unit}, p99 ${s.p99} ${unit} (min ${s.min}, max ${s.max}, mean ${s.mean}, n=${s.n})`;
}

export const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** Samples this process's RSS on a timer (a blocked event loop skips samples; getrusage's maxRSS does not). */
export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #peak = 0;
  samples: Array<{ t: number; rssMb: number }> = [];
  readonly #t0 = performance.now();

  start(intervalMs = 25): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
    this.samples.push({ t: Math.round(performance.now() - this.#t0), rssMb: mb(rss) });
    return rss;
  }

  /** Highest RSS sampled so far (bytes). */
  get peak(): number {
    return this.#peak;
  }

  resetPeak(): void {
    this.#peak = 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Kernel high-water mark of this process's RSS (bytes), since it started. */
export function maxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A full garbage collection without `--expose-gc` on the command line (npm run bench passes no flags). */
export function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export type Machine = {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  redis: string;
  kubectl: string;
  os: string;
};

export function machine(redisBin: string): Machine {
  const cpuinfo = safe(() => readFileSync('/proc/cpuinfo', 'utf8'), '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const redis = safe(() => execFileSync(redisBin, ['--version'], { encoding: 'utf8' }).trim(), 'not found');
  const kubectl = safe(() => {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    });
    return (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? out;
  }, 'not found');
  const osRelease = safe(() => readFileSync('/etc/os-release', 'utf8'), '');
  return {
    cpu: model,
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: /v=(\S+)/.exec(redis)?.[1] ?? redis,
    kubectl,
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? process.platform,
  };
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** Small seeded PRNG (mulberry32) so every run looks up the same digests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fixed amount of single-threaded work shaped like the collector's (JSON parse and stringify of pod-like
 * objects, hashing): its duration says how fast this machine was at that moment, so runs on a shared or
 * virtualised machine can be compared. Best of 3, in milliseconds; lower is faster.
 */
export function calibrate(): number {
  const pod = {
    metadata: {
      name: 'svc-1-abcde-fghij',
      namespace: 'team-1',
      labels: { app: 'svc-1', 'pod-template-hash': 'abcde' },
    },
    spec: { containers: [{ name: 'app', image: 'registry.example.com/team-1/app-1:1.0', resources: {} }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'app', imageID: `registry.example.com/team-1/app-1@sha256:${'ab'.repeat(32)}` },
      ],
    },
  };
  const text = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ ...pod, i })) });
  let best = Number.POSITIVE_INFINITY;
  let n = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let round = 0; round < 40; round++) {
      const list = JSON.parse(text) as { items: unknown[] };
      n += JSON.stringify(list.items.slice(0, 500)).length;
    }
    best = Math.min(best, performance.now() - t0);
  }
  if (n === 0) throw new Error('unreachable');
  return Math.round(best);
}
