#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { ScopeError } from './errors.ts';

// V8 code and stripped TypeScript are cached on disk (NODE_COMPILE_CACHE, else the OS temp dir): a warm
// `scope cli` run skips most compilation. It never fails the process; without a writable cache it is off.
enableCompileCache();

// Each mode loads what it runs (Bolt, BullMQ, client-node…) on demand, so `scope cli` starts fast.

const USAGE = `usage: scope <bot|worker|cli|demo> [args]
  bot      Slack app (HTTP receiver with signature verification, or Socket Mode)
  worker   BullMQ workers and the inventory collector
  cli      run a command directly and print the answer: scope cli digest sha256:… [--json]
  demo     everything locally on embedded defaults, with a console that speaks /scope
Configuration: SCOPE_CONFIG=path/to/scope.yaml plus SCOPE_* environment overrides (see docs/CONFIGURATION.md).`;

async function main(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  switch (mode) {
    case 'bot':
      return runService('bot');
    case 'worker':
      return runService('worker');
    case 'cli': {
      const { runCli } = await import('./cli.ts');
      return runCli(rest);
    }
    case 'demo': {
      const { runDemo } = await import('../demo/demo.ts');
      return runDemo(rest);
    }
    default:
      console.error(USAGE);
      return mode === undefined || mode === '--help' || mode === '-h' ? 0 : 2;
  }
}

async function runService(kind: 'bot' | 'worker'): Promise<number> {
  const [{ loadConfig }, { buildContainer }, { startOpsServer }] = await Promise.all([
    import('./config.ts'),
    import('./container.ts'),
    import('./observability.ts'),
  ]);
  const config = loadConfig();
  const c = buildContainer(config, kind);
  const stops: Array<() => Promise<void>> = [];
  // Health and metrics first: a process that cannot serve /healthz must not start taking work.
  let ops: Awaited<ReturnType<typeof startOpsServer>>;
  try {
    ops = await startOpsServer({
      host: config.http.host,
      port: config.http.port,
      metrics: c.metrics,
      ready: async () => (await c.redis.ping()) === 'PONG',
      beforeScrape: async () => {
        const counts = await c.commandQueue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const [state, n] of Object.entries(counts))
          c.metrics.queueDepth.set({ queue: c.commandQueue.name, state }, n);
      },
    });
  } catch (err) {
    await c.close();
    throw listenError(
      err,
      config.http.host,
      config.http.port,
      'health and metrics (http.port, SCOPE_HTTP_PORT)',
    );
  }
  try {
    if (kind === 'bot') {
      const { startBot } = await import('./bot.ts');
      const bot = await startBot(c);
      stops.push(bot.stop);
    } else {
      const { startWorkerProcess } = await import('./worker-process.ts');
      const w = await startWorkerProcess(c);
      stops.push(w.stop);
    }
  } catch (err) {
    for (const s of stops) await s().catch(() => undefined);
    await ops.close();
    await c.close();
    throw listenError(
      err,
      config.slack.host,
      config.slack.port,
      'Slack requests (slack.port, SCOPE_SLACK_PORT)',
    );
  }
  c.log.info({ port: ops.port }, 'health and metrics on /healthz /readyz /metrics');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      c.log.info({ signal }, 'shutting down: no new work, letting in-flight jobs finish');
      const hardStop = setTimeout(() => {
        c.log.error('graceful shutdown took over 60 s; exiting (in-flight jobs return to the queue)');
        process.exit(1);
      }, 60_000);
      hardStop.unref();
      (async () => {
        for (const s of stops.reverse())
          await s().catch((err: unknown) => c.log.error({ err }, 'error while stopping'));
        await ops.close();
        await c.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** A port that cannot be bound is a start-up failure that names the address and the setting to change. */
function listenError(err: unknown, host: string, port: number, what: string): unknown {
  const code = (err as { code?: string }).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return err;
  return new ScopeError(
    'STARTUP_FAILED',
    `cannot listen on ${host}:${port} for ${what}: ${code === 'EADDRINUSE' ? 'the port is already in use' : code}`,
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    // Whatever failed, the process ends: a half-started service must not keep running without its health port.
    setTimeout(() => process.exit(), 5000).unref();
    if (err instanceof ScopeError && err.code === 'CONFIG_INVALID') {
      console.error(`scope: ${err.message}`);
      process.exitCode = 78;
      return;
    }
    const { createLogger } = await import('./log.ts');
    if (err instanceof ScopeError && err.code === 'STARTUP_FAILED') {
      createLogger('error', 'main').fatal(err.message);
      console.error(`scope: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    createLogger('error', 'main').fatal({ err }, 'scope stopped on an unexpected error');
    process.exitCode = 1;
  },
);
