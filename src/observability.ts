import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics shared by the bot and worker processes (each exposes its own registry). */
export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(process: 'bot' | 'worker' | 'demo') {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    commandsReceived: new Counter({
      name: 'scope_commands_received_total',
      help: 'Slash commands and button actions received, by command and outcome (queued, answered, refused, invalid, duplicate, queue_unavailable)',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'scope_jobs_total',
      help: 'Jobs finished, by job name and outcome (completed, retrying, failed)',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'scope_job_duration_seconds',
      help: 'Wall time of job attempts, by job name',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'scope_queue_depth',
      help: 'Jobs per queue and state, sampled at scrape time',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
  };
}

/** Liveness, readiness and metrics on one small HTTP server. */
export function startOpsServer(opts: {
  host: string;
  port: number;
  metrics: Metrics;
  ready: () => Promise<boolean>;
  beforeScrape?: () => Promise<void>;
}): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (req.url === '/readyz') {
        const ok = await opts.ready().catch(() => false);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      } else if (req.url === '/metrics') {
        await opts.beforeScrape?.().catch(() => undefined);
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
        res.end(await opts.metrics.registry.metrics());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      resolve({
        server,
        port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
