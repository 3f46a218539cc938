import { parseArgs } from 'node:util';
import { scanFleet } from './adapters/kubernetes/collector.ts';
import { checkFleetGuardrails } from './adapters/kubernetes/guardrails.ts';
import { type Config, loadConfig } from './config.ts';
import { buildContainer, waitForRedis } from './container.ts';
import { parseCommand } from './domain/command.ts';
import { isUserFacing, ScopeError, UserFacingError } from './errors.ts';
import { type SbomCheckReport, sbomCheck } from './jobs/advisories/sbom-check.ts';
import { type CommandPorts, type CommandResult, runCommand } from './jobs/run-command.ts';
import { createLogger, type Logger } from './log.ts';
import { presentSbomCheck } from './render/advisories/present-sbom-check.ts';
import { present } from './render/present.ts';
import { toTerminal } from './render/terminal.ts';
import { MemoryInventory } from './store/inventory/memory-inventory.ts';
import { commandPorts } from './worker-process.ts';

const HELP = `usage: scope cli <command> [args] [--json]
Runs a /scope command directly against the configured Redis index and prints the answer.
  scope cli digest sha256:<64 hex>     where a digest runs and ran
  scope cli image vendor/agent:5.2     digests behind a tag, drift
  scope cli where prod-eu/payments     what a workload runs and ran
  scope cli status                     queue, workers, cluster sync health
  scope cli advisories | advisory <id> | diff <good> <suspicious> | watch [feed|all] --channel C… | unwatch
  scope cli sbom-check [--feed PATH]… [--ioc FILE]… <sbom-file>…
                                       offline CI gate: SBOM files against OSV/IOC feeds; exit 1 on any match
  scope cli guardrails [cluster]       whether signature enforcement exists and blocks, per namespace (live)
Options:
  --json   stable machine-readable output ({"schema":"scope.cli/v1","ok":true,"result":…} or "ok":false with "error")
  --live   ask every configured cluster now instead of the Redis index (no history; works without Redis)`;

/** How long the CLI waits for Redis before giving up with a clear message (exit 69, EX_UNAVAILABLE). */
const REDIS_WAIT_MS = 3000;
export const EXIT_UNAVAILABLE = 69;

/** host:port of the configured Redis, never its credentials. */
function redisAddress(config: Config): string {
  if (config.redis.sentinel) return `sentinel master ${config.redis.sentinel.name}`;
  try {
    const u = new URL(config.redis.url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured URL';
  }
}

/** JSON envelope printed by `--json`: versioned so scripts and incident records can rely on it. */
export type CliJson =
  | {
      schema: 'scope.cli/v1';
      ok: true;
      result: CommandResult | { kind: 'sbom-check'; report: SbomCheckReport };
    }
  | { schema: 'scope.cli/v1'; ok: false; error: { code: string; message: string; hint?: string } };

export async function runCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      channel: { type: 'string' },
      feed: { type: 'string', multiple: true, default: [] },
      ioc: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const print = (out: CliJson) => console.log(JSON.stringify(out, null, 2));
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (values.json)
      print({
        schema: 'scope.cli/v1',
        ok: false,
        error: { code: 'CONFIG_INVALID', message: (err as Error).message },
      });
    else console.error(`scope: ${(err as Error).message}`);
    return 78;
  }
  if (positionals[0] === 'sbom-check') {
    return runSbomCheck(
      config,
      positionals.slice(1),
      values.feed ?? [],
      values.ioc ?? [],
      values.json === true,
      print,
    );
  }
  const log = createLogger(process.env.SCOPE_LOG_LEVEL ?? 'warn', 'cli');
  const c = values.live ? undefined : buildContainer(config, 'cli', log);
  try {
    if (c) await waitForRedis(c.redis, REDIS_WAIT_MS, `Redis at ${redisAddress(config)}`);
    const cmd = parseCommand(positionals.join(' '));
    const started = performance.now();
    const result = await runCommand(cmd, c ? commandPorts(c) : await livePorts(config, log), undefined, {
      ...(values.channel ? { channelId: values.channel } : {}),
    });
    if (values.json) {
      print({ schema: 'scope.cli/v1', ok: true, result });
    } else {
      const message = present(result, {
        commandText: `scope ${positionals.join(' ')}`,
        elapsedMs: performance.now() - started,
        now: new Date(),
      });
      console.log(toTerminal(message, { color: process.stdout.isTTY === true }));
    }
    return 0;
  } catch (err) {
    if (isUserFacing(err)) {
      if (values.json)
        print({
          schema: 'scope.cli/v1',
          ok: false,
          error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
        });
      else console.error(`scope: ${err.message}${err.hint ? `\n${err.hint}` : ''}`);
      return 2;
    }
    if (err instanceof ScopeError && err.code === 'UPSTREAM_UNAVAILABLE') {
      const hint = 'Check redis.url / SCOPE_REDIS_URL, or answer from the clusters directly with --live.';
      if (values.json)
        print({ schema: 'scope.cli/v1', ok: false, error: { code: err.code, message: err.message, hint } });
      else console.error(`scope: ${err.message}\n${hint}`);
      return EXIT_UNAVAILABLE;
    }
    throw err;
  } finally {
    await c?.close();
  }
}

/** Ports for `--live`: one scan of every cluster, answered from memory. */
async function livePorts(config: Config, log: Logger): Promise<CommandPorts> {
  if (config.clusters.length === 0) {
    throw new UserFacingError(
      'BAD_INPUT',
      'no clusters are configured',
      'Add clusters to the config file named by SCOPE_CONFIG.',
    );
  }
  process.stderr.write(`scanning ${config.clusters.length} cluster(s)…\n`);
  const scan = await scanFleet(config.clusters, AbortSignal.timeout(5 * 60_000), {
    pageSize: config.inventory.pageSize,
    parallelism: config.inventory.clusterParallelism,
    log,
  });
  const inventory = new MemoryInventory(scan.pods, scan.syncs);
  return {
    inventory,
    guardrails: (only, signal) => checkFleetGuardrails(config.clusters, signal, only ? { only } : {}),
    clusterNames: () => config.clusters.map((k) => k.name),
    status: async () => ({
      queues: [],
      workers: [],
      clusters: await inventory.syncStates(),
      generatedAt: new Date().toISOString(),
    }),
  };
}

/** `scope cli sbom-check`: exit 0 without matches, 1 with matches, 2 on bad input (see docs/CONFIGURATION.md). */
async function runSbomCheck(
  config: Config,
  files: string[],
  feedPaths: string[],
  iocPaths: string[],
  json: boolean,
  print: (out: CliJson) => void,
): Promise<number> {
  try {
    const report = await sbomCheck({ sbomFiles: files, feedPaths, iocPaths, config: config.advisories });
    if (json) print({ schema: 'scope.cli/v1', ok: true, result: { kind: 'sbom-check', report } });
    else console.log(toTerminal(presentSbomCheck(report), { color: process.stdout.isTTY === true }));
    return report.matches.length > 0 ? 1 : 0;
  } catch (err) {
    if (!isUserFacing(err)) throw err;
    if (json)
      print({
        schema: 'scope.cli/v1',
        ok: false,
        error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
      });
    else console.error(`scope: ${err.message}${err.hint ? `\n${err.hint}` : ''}`);
    return 2;
  }
}
