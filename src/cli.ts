import { parseArgs } from 'node:util';
import type { Config } from './config.ts';
import type { Completeness } from './domain/inventory/completeness.ts';
import { isUserFacing, UserFacingError } from './errors.ts';
import type { CommandPorts, CommandResult } from './jobs/run-command.ts';

// Only what every command needs is imported up front; Redis, BullMQ, client-node and pino are loaded by the
// command that uses them (docs/PERFORMANCE.md, "CLI start-up").

const HELP = `usage: scope cli <command> [args] [--json] [--live]
Runs a /scope command directly against the configured Redis index and prints the answer.
  scope cli digest sha256:<64 hex>     where a digest (or image config id) runs and ran
  scope cli image vendor/agent:5.2     digests behind a tag, drift
  scope cli where prod-eu/payments     what a workload runs and ran
  scope cli status                     queue, workers, cluster sync health
  scope cli guardrails [cluster]       whether signature enforcement exists and blocks, per namespace (live)
  scope cli log [n]                    the last n audit entries
  scope cli audit-log verify|export    check the keyed audit chain; export it as JSON lines
  scope cli audit role:ci-deploy       what a credential did in CloudTrail (scope cli audit --help)
  scope cli verify env:prod            signatures of what runs there against the signer policy
  scope cli verify-bundle --bundle F … offline check of one Sigstore bundle (see verify-bundle --help)
  scope cli advisories | advisory <id> | diff <good> <suspicious> | watch [feed|all] --channel C… | unwatch
  scope cli sbom-check [--feed PATH]… [--ioc FILE]… <sbom-file>…
                                       offline CI gate: SBOM files against OSV/IOC feeds (exit 1 on a match)
Options:
  --json   stable machine-readable output ({"schema":"scope.cli/v1","ok":true,"completeness":…,"result":…}
           or "ok":false with "error")
  --live   ask every configured cluster now instead of the Redis index (no history; works without Redis)
Exit status: 0 complete answer · 3 partial (some clusters did not answer) · 4 unknown (no cluster answered)
             2 usage or input error · 69 Redis unreachable · 78 invalid configuration · 1 internal error`;

/** Exit status of `scope cli`: documented in README ("Exit status") and docs/CONFIGURATION.md. */
export const EXIT = {
  complete: 0,
  internal: 1,
  usage: 2,
  partial: 3,
  unknown: 4,
  unavailable: 69,
  config: 78,
} as const;

/** How long the CLI waits for Redis before giving up with a clear message (exit 69, EX_UNAVAILABLE). */
const REDIS_WAIT_MS = 3000;

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
  | { schema: 'scope.cli/v1'; ok: true; completeness: Completeness; result: CommandResult }
  | { schema: 'scope.cli/v1'; ok: false; error: { code: string; message: string; hint?: string } };

/** Slack syntax in messages shared with the bot (`/scope digest …`) rewritten for the terminal. */
export function cliSyntax(text: string): string {
  return text.replace(/\/scope(?=[\s`'"]|$)/g, 'scope cli');
}

/** Completeness of any result: inventory answers and status carry it; help is always complete. */
export function completenessOf(result: CommandResult): Completeness {
  if (result.kind === 'help' || result.kind === 'log') return 'complete';
  if (result.kind === 'frozen') return 'complete';
  // Advisory answers say feed health and when the fleet was last matched in the message itself.
  if (
    result.kind === 'advisories' ||
    result.kind === 'advisory' ||
    result.kind === 'diff' ||
    result.kind === 'watch'
  )
    return 'complete';
  if (result.kind === 'verify') {
    // A digest whose registry could not be asked is not known to be signed or unsigned.
    const { counts, results, unanswered = [], clustersInScope = 0 } = result.report;
    if (results.length > 0 && counts.error === results.length) return 'unknown';
    // Clusters that did not answer: what runs there was not verified.
    if (results.length === 0 && unanswered.length > 0 && unanswered.length >= clustersInScope)
      return 'unknown';
    return counts.error > 0 || unanswered.length > 0 ? 'partial' : 'complete';
  }
  if (result.kind === 'freeze-plan') {
    const impossible = result.plan.steps.filter((s) => s.state === 'impossible').length;
    return result.plan.notes.length === 0 && impossible === 0 ? 'complete' : 'partial';
  }
  if (result.kind === 'audit') {
    if (result.report.state !== 'done') return 'unknown';
    const regions = result.report.fetch.regions;
    const failed = regions.filter((r) => r.error !== undefined || r.truncated).length;
    return failed === 0 ? 'complete' : failed === regions.length ? 'unknown' : 'partial';
  }
  return result.report.completeness;
}

type Parsed = { json: boolean; live: boolean; help: boolean; positionals: string[]; channel?: string };

function parseCliArgs(argv: string[]): Parsed {
  // `./run cli -- digest X` (npm's separator, as `run` documents) arrives here as a leading `--`.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        live: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        channel: { type: 'string' },
      },
    });
    return {
      json: values.json,
      live: values.live,
      help: values.help,
      positionals,
      ...(values.channel ? { channel: values.channel } : {}),
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw err;
    const option = /'([^']+)'/.exec((err as Error).message)?.[1];
    const word =
      args.find((a) => a.startsWith('-') && option !== undefined && a.startsWith(option)) ?? option;
    throw new UserFacingError(
      'BAD_INPUT',
      word ? `unknown option ${JSON.stringify(word)}` : (err as Error).message,
      'Options are --json, --live and --help; see `scope cli --help`.',
    );
  }
}

export async function runCli(argv: string[]): Promise<number> {
  if (argv[0] === 'audit-log') return (await import('./cli/audit-log.ts')).runAuditLogCli(argv.slice(1));
  if (argv[0] === 'audit') return (await import('./cli/audit.ts')).runAuditCli(argv.slice(1));
  if (argv[0] === 'sbom-check') return (await import('./cli/sbom-check.ts')).runSbomCheckCli(argv.slice(1));
  if (argv[0] === 'verify-bundle')
    return (await import('./cli/verify-bundle.ts')).runVerifyBundle(argv.slice(1));
  const wantsJson = argv.includes('--json');
  const print = (out: CliJson) => console.log(JSON.stringify(out, null, 2));
  const fail = (code: string, message: string, hint?: string) => {
    if (wantsJson)
      print({ schema: 'scope.cli/v1', ok: false, error: { code, message, ...(hint ? { hint } : {}) } });
    else console.error(`scope: ${message}${hint ? `\n${hint}` : ''}`);
  };
  let args: Parsed;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!isUserFacing(err)) throw err;
    fail(err.code, err.message, err.hint);
    if (!wantsJson) console.error(HELP);
    return EXIT.usage;
  }
  if (args.help || args.positionals.length === 0) {
    console.log(HELP);
    return args.positionals.length === 0 && !args.help ? EXIT.usage : EXIT.complete;
  }
  const { loadConfig } = await import('./config.ts');
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    fail('CONFIG_INVALID', (err as Error).message);
    return EXIT.config;
  }
  let close = async () => {};
  try {
    const { describeCommand, parseCommand } = await import('./domain/command.ts');
    const cmd = parseCommand(args.positionals.join(' '));
    const started = performance.now();
    const ports =
      cmd.name === 'help'
        ? await noPorts()
        : cmd.name === 'guardrails'
          ? await guardrailPorts(config)
          : args.live
            ? await livePorts(config)
            : await indexPorts(config, !['digest', 'image', 'where'].includes(cmd.name));
    close = ports.close;
    const { runCommand } = await import('./jobs/run-command.ts');
    const result = await runCommand(cmd, ports, undefined, args.channel ? { channelId: args.channel } : {});
    const completeness = completenessOf(result);
    if (args.json) {
      print({ schema: 'scope.cli/v1', ok: true, completeness, result });
    } else {
      const [{ present }, { toTerminal }] = await Promise.all([
        import('./render/present.ts'),
        import('./render/terminal.ts'),
      ]);
      const message = present(result, {
        commandText: `scope cli ${describeCommand(cmd)}`,
        elapsedMs: performance.now() - started,
        now: new Date(),
      });
      console.log(cliSyntax(toTerminal(message, { color: process.stdout.isTTY === true })));
    }
    return EXIT[completeness];
  } catch (err) {
    if (isUserFacing(err)) {
      fail(err.code, cliSyntax(err.message), err.hint ? cliSyntax(err.hint) : undefined);
      return EXIT.usage;
    }
    const { ScopeError } = await import('./errors.ts');
    if (err instanceof ScopeError && err.code === 'UPSTREAM_UNAVAILABLE' && err.message.includes('Redis')) {
      fail(
        err.code,
        err.message,
        'Check redis.url / SCOPE_REDIS_URL, or answer from the clusters directly with --live.',
      );
      return EXIT.unavailable;
    }
    throw err;
  } finally {
    await close();
  }
}

/** `guardrails` asks the clusters live; it needs no Redis. */
async function guardrailPorts(config: Config): Promise<ClosablePorts> {
  const [{ checkFleetGuardrails }, base] = await Promise.all([
    import('./adapters/kubernetes/guardrails.ts'),
    noPorts(),
  ]);
  return {
    ...base,
    guardrails: (only, signal) => checkFleetGuardrails(config.clusters, signal, only ? { only } : {}),
    clusterNames: () => config.clusters.map((k) => k.name),
  };
}

type ClosablePorts = CommandPorts & { close: () => Promise<void> };

/** `help` reads nothing: no Redis connection, no cluster. */
async function noPorts(): Promise<ClosablePorts> {
  const { MemoryInventory } = await import('./store/inventory/memory-inventory.ts');
  return {
    inventory: new MemoryInventory([], []),
    status: () => Promise.reject(new Error('help reads no status')),
    close: async () => {},
  };
}

/**
 * Ports on the Redis index. Inventory questions need one Redis connection and the store, nothing else; every
 * other command (status, log, freeze preview, frozen, verify…) gets the worker's ports on a full container.
 */
async function indexPorts(config: Config, container: boolean): Promise<ClosablePorts> {
  if (container) {
    const [{ buildContainer, waitForRedis }, { commandPorts }, log] = await Promise.all([
      import('./container.ts'),
      import('./worker-process.ts'),
      lazyLog(),
    ]);
    const c = buildContainer(config, 'cli', log());
    try {
      await waitForRedis(c.redis, REDIS_WAIT_MS, `Redis at ${redisAddress(config)}`);
    } catch (err) {
      await c.close().catch(() => undefined);
      throw err;
    }
    return { ...commandPorts(c), close: c.close };
  }
  const [{ connectRedis, waitForRedis }, { InventoryStore }] = await Promise.all([
    import('./store/redis-connection.ts'),
    import('./store/inventory/inventory-store.ts'),
  ]);
  const redis = connectRedis(config);
  let reported = false;
  redis.on('error', (err: Error) => {
    // One line, not a log stream: the query itself reports failure; this says why.
    if (!reported) process.stderr.write(`scope: redis connection error: ${err.message}\n`);
    reported = true;
  });
  try {
    await waitForRedis(redis, REDIS_WAIT_MS, `Redis at ${redisAddress(config)}`);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const inventory = new InventoryStore(redis, config.redis.prefix, config);
  return {
    inventory,
    status: () => Promise.reject(new Error('status needs the container')),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** The structured logger, created on first use: most CLI runs never log and need not load pino. */
async function lazyLog() {
  const level = process.env.SCOPE_LOG_LEVEL ?? 'warn';
  const { createLogger } = await import('./log.ts');
  let logger: ReturnType<typeof createLogger> | undefined;
  return () => {
    logger ??= createLogger(level, 'cli');
    return logger;
  };
}

/** Ports for `--live`: one scan of every cluster, answered from memory. */
async function livePorts(config: Config): Promise<ClosablePorts> {
  if (config.clusters.length === 0) {
    throw new UserFacingError(
      'BAD_INPUT',
      'no clusters are configured',
      'Add clusters to the config file named by SCOPE_CONFIG.',
    );
  }
  const [{ scanFleet }, { MemoryInventory }, { clusterStatus }, log] = await Promise.all([
    import('./adapters/kubernetes/collector.ts'),
    import('./store/inventory/memory-inventory.ts'),
    import('./jobs/status.ts'),
    lazyLog(),
  ]);
  process.stderr.write(`scanning ${config.clusters.length} cluster(s)…\n`);
  const scan = await scanFleet(config.clusters, AbortSignal.timeout(5 * 60_000), {
    pageSize: config.inventory.pageSize,
    parallelism: config.inventory.clusterParallelism,
    log: log(),
  });
  const inventory = new MemoryInventory(scan.pods, scan.syncs);
  // `verify --live`: the same verifier and policy as the worker, over what the scan found; no cache, no Redis.
  const p = config.provenance;
  const provenance =
    p.rules.length || p.registries.length
      ? (await import('./adapters/provenance.ts')).buildProvenance(p)
      : undefined;
  return {
    inventory,
    ...(provenance
      ? { provenance: { policy: provenance.policy, ports: provenance.ports, trust: provenance.trust } }
      : {}),
    status: async () => ({
      queues: [],
      workers: [],
      ...clusterStatus(await inventory.syncStates(), new Date()),
    }),
    close: async () => {},
  };
}
