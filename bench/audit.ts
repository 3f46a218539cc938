/**
 * Audit benchmark (`npm run bench -- --audit`). In this process: the AWS stand-in (CloudTrail enforcing
 * 2 LookupEvents requests/s per account+region, a token bucket of 2), and the real CloudTrail SDK client driven by
 * scope's CloudTrailAuditSource at its default pacing (2 requests/s per account+region).
 *
 *   1. fetch    one IAM user with SCOPE_BENCH_AUDIT_EVENTS [20000] events over 15 days in 3 regions: the
 *               sustained LookupEvents rate per region (requests − 1 over the time from first to last request)
 *               against the limit, throttles the server answered and throttling errors that reached the report
 *   2. analyse  analyse() of SCOPE_BENCH_ANALYSE_EVENTS [100000] parsed events (bulk + the last 500 events of
 *               the compromised-CI scenario, so findings are built): CPU time (user + system),
 *               best and median of 5 runs
 * Results: lines on stdout and bench/results/audit-latest.json. Method and figures: docs/PERFORMANCE.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsClients } from '../src/adapters/aws/clients.ts';
import { CloudTrailAuditSource } from '../src/adapters/aws/cloudtrail.ts';
import { awsConfigSchema } from '../src/adapters/aws/config.ts';
import { analyse } from '../src/domain/audit/analyse.ts';
import { parseLookupEntry } from '../src/domain/audit/event.ts';
import { parsePrincipal } from '../src/domain/audit/principal.ts';
import { auditWindow, DAY_MS } from '../src/domain/audit/window.ts';
import { bulkRecords, compromisedCiScenario } from '../src/testing/cloudtrail-fixtures.ts';
import { storedFromRecord } from '../src/testing/fake-aws/cloudtrail.ts';
import { startFakeAws } from '../src/testing/fake-aws/server.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
const LIMIT = 2;

function intEnv(name: string, def: number): number {
  const v = Number(process.env[name] ?? def);
  return Number.isInteger(v) && v > 0 ? v : def;
}

export async function runAuditBench(): Promise<void> {
  const fetchEvents = intEnv('SCOPE_BENCH_AUDIT_EVENTS', 20_000);
  const analyseEvents = intEnv('SCOPE_BENCH_ANALYSE_EVENTS', 100_000);
  const results: Record<string, unknown> = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    at: new Date().toISOString(),
  };
  const line = (s: string) => process.stdout.write(`${s}\n`);
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIABENCHEXAMPLE0001';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench-secret';

  // ---- 1. fetch at the documented limit
  const fake = await startFakeAws({ lookupRatePerSecond: LIMIT });
  try {
    const now = Date.now();
    fake.cloudtrail.addRecords(
      bulkRecords({
        count: fetchEvents,
        regions: REGIONS,
        user: 'bench-user',
        from: now - 15 * DAY_MS + 60_000,
        to: now - 60_000,
      }),
    );
    const cfg = awsConfigSchema.parse({ regions: REGIONS, endpoint: fake.endpoint });
    const source = new CloudTrailAuditSource(new AwsClients(cfg), cfg.audit);
    line(
      `audit fetch: ${fetchEvents} events in ${REGIONS.length} regions at ${cfg.audit.requestsPerSecond} req/s per region (≈${Math.ceil(fetchEvents / 50 / REGIONS.length / LIMIT)} s)…`,
    );
    const started = performance.now();
    const res = await source.fetch(parsePrincipal('user:bench-user'), auditWindow({}, now), {
      signal: AbortSignal.timeout(30 * 60_000),
    });
    const wallMs = performance.now() - started;
    const perRegion = REGIONS.map((region) => {
      const reqs = fake.requests.filter((r) => r.service === 'cloudtrail' && r.region === region);
      const span = ((reqs.at(-1)?.at ?? 0) - (reqs[0]?.at ?? 0)) / 1000;
      const rate = span > 0 ? (reqs.length - 1) / span : 0;
      return {
        region,
        requests: reqs.length,
        seconds: Number(span.toFixed(2)),
        rate: Number(rate.toFixed(3)),
        ofLimit: Number((rate / LIMIT).toFixed(3)),
      };
    });
    for (const r of perRegion)
      line(
        `  ${r.region}: ${r.requests} requests in ${r.seconds} s = ${r.rate} req/s (${(r.ofLimit * 100).toFixed(1)} % of ${LIMIT})`,
      );
    line(
      `  events ${res.events.length}/${fetchEvents}, pages ${res.pages}, server throttles ${fake.cloudtrail.throttled}, throttling errors surfaced ${res.regions.filter((r) => r.error).length}, wall ${(wallMs / 1000).toFixed(1)} s`,
    );
    const worst = Math.min(...perRegion.map((r) => r.ofLimit));
    results.fetch = {
      events: res.events.length,
      pages: res.pages,
      wallSeconds: Number((wallMs / 1000).toFixed(2)),
      perRegion,
      serverThrottles: fake.cloudtrail.throttled,
      regionErrors: res.regions.filter((r) => r.error).length,
      target: {
        sustained: '≥ 95 % of the limit',
        met: worst >= 0.95 && res.regions.every((r) => !r.error) && res.events.length === fetchEvents,
      },
    };
    line(
      `  target ≥ 95 % of the limit, no throttling error surfaced: ${worst >= 0.95 && res.regions.every((r) => !r.error) ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    await fake.close();
  }

  // ---- 2. analysis CPU
  const now = Date.now();
  // Bulk activity plus the compromised CI role's last 500 records, so the rules have findings to build.
  const records = [
    ...bulkRecords({
      count: analyseEvents - 500,
      regions: REGIONS,
      user: 'bench-user',
      from: now - 15 * DAY_MS,
      to: now,
      seed: 9,
    }),
    ...compromisedCiScenario(new Date(now)).records.slice(-500),
  ];
  const events = records.map((r) => {
    const s = storedFromRecord(r);
    return parseLookupEntry(
      {
        EventId: s.id,
        EventName: s.name,
        EventSource: s.source,
        EventTime: new Date(s.time),
        CloudTrailEvent: s.cloudTrailEvent,
      },
      { account: '111111111111', region: 'eu-west-1' },
    );
  });
  const parsed = events.filter((e) => e !== undefined);
  const window = auditWindow({}, now);
  const runs: number[] = [];
  let findings = 0;
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    findings = analyse(parsed, window).findings.length;
    const c = process.cpuUsage(c0);
    runs.push((c.user + c.system) / 1000);
  }
  runs.sort((a, b) => a - b);
  const median = runs[2] ?? 0;
  line(
    `audit analyse: ${parsed.length} events → ${findings} findings: CPU best ${runs[0]?.toFixed(0)} ms, median ${median.toFixed(0)} ms (target ≤ 1000 ms: ${median <= 1000 ? 'MET' : 'NOT MET'})`,
  );
  results.analyse = {
    events: parsed.length,
    findings,
    cpuMs: runs.map((r) => Math.round(r)),
    medianMs: Math.round(median),
    target: { cpu: '≤ 1 s', met: median <= 1000 },
  };
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(
    join(ROOT, 'bench', 'results', 'audit-latest.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}
