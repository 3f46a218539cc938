import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WebClient } from '@slack/web-api';
import { registerRotate } from './adapters/aws/rotate/register.ts';
import { FleetCollector } from './adapters/kubernetes/collector.ts';
import { registerFreeze } from './adapters/kubernetes/freeze/index.ts';
import { checkFleetGuardrails } from './adapters/kubernetes/guardrails.ts';
import { registerQuarantine } from './adapters/kubernetes/quarantine.ts';
import type { Provenance } from './adapters/provenance.ts';
import { FileSbomSource } from './adapters/sbom/file-source.ts';
import { FirstSbomSource, RegistrySbomSource } from './adapters/sbom/registry-source.ts';
import { SlackAdvisoryPoster } from './adapters/slack/advisory-poster.ts';
import { SlackWitness } from './adapters/slack/audit-witness.ts';
import { slackLogger } from './adapters/slack/logger.ts';
import { type Notifier, SlackNotifier } from './adapters/slack/notifier.ts';
import type { Container } from './container.ts';
import { heldTargets } from './domain/actions/holdings.ts';
import type { SbomSource } from './domain/advisories/ports.ts';
import { ScopeError } from './errors.ts';
import { advisoryButtons, withActionButtons } from './jobs/actions/offers.ts';
import { ActionRegistry } from './jobs/actions/registry.ts';
import { type RunningActionWorker, startActionWorker } from './jobs/actions/worker.ts';
import { AdvisoryMatcher, type AdvisoryPorts } from './jobs/advisories/matcher.ts';
import { scheduleAdvisoryJobs } from './jobs/advisories/queue.ts';
import { startAdvisoryWorker } from './jobs/advisories/worker.ts';
import { auditPortFromConfig } from './jobs/audit/audit-port.ts';
import { enqueueBreach } from './jobs/provenance/quarantine-alert.ts';
import { QuarantineSentinel } from './jobs/provenance/quarantine-sentinel.ts';
import { startTrustRoot } from './jobs/provenance/trust-root.ts';
import type { VerifyPorts } from './jobs/provenance/verify-scope.ts';
import { signerRecords, startVerifyFanOut } from './jobs/provenance/verify-workers.ts';
import type { CommandPorts } from './jobs/run-command.ts';
import { buildStatus } from './jobs/status.ts';
import { Lease } from './store/lease.ts';
import { TrustStatusStore } from './store/provenance/trust-status.ts';
import { VerificationCache } from './store/provenance/verification-cache.ts';
import { startCommandWorker } from './worker.ts';

/** The ports every command job runs against, wired to the real stores and queues. */
export function commandPorts(c: Container): CommandPorts {
  const preview = registerFreeze(new ActionRegistry(), c.config).preview;
  return {
    status: async () => ({
      ...(await buildStatus([c.commandQueue, c.advisoryQueue], c.syncStates)),
      ...(await advisoryStatus(c)),
      ...(await trustStatus(c)),
    }),
    inventory: c.inventory,
    advisories: { store: c.advisories, config: c.config.advisories, sboms: sbomSource(c) },
    guardrails: (only, signal) =>
      checkFleetGuardrails(c.config.clusters, signal, {
        parallelism: c.config.inventory.clusterParallelism * 2,
        ...(only ? { only } : {}),
      }),
    clusterNames: () => c.config.clusters.map((k) => k.name),
    auditLog: c.audit,
    audit: auditPortFromConfig(c.config.aws, c.redis, c.config.redis.prefix, c.log),
    actions: { activeFreezes: () => activeFreezes(c), previewFreeze: preview },
    ...(c.provenance ? { provenance: verifyPorts(c, c.provenance) } : {}),
  };
}

/**
 * The verify ports over the provenance's current view: getters, so a trusted root refreshed through TUF is
 * used by the next `/scope verify` (each run reads the view once, see verifyScope).
 */
function verifyPorts(c: Container, p: Provenance): VerifyPorts {
  return {
    get policy() {
      return p.policy;
    },
    get ports() {
      return p.ports;
    },
    get trust() {
      return p.trust;
    },
    cache: new VerificationCache(c.redis, c.config.redis.prefix, c.config.provenance.cacheTtlSeconds),
    signers: signerRecords(c),
  };
}

/** The trusted root of every live worker, for status (only when provenance is configured). */
async function trustStatus(c: Container) {
  if (!c.provenance) return {};
  const { roots, unreadable } = await new TrustStatusStore(c.redis, c.config.redis.prefix).list();
  return { trustRoots: { workers: roots, unreadable } };
}

const sbomSources = new WeakMap<Container, SbomSource>();
/**
 * The SBOM source of a container: SBOM attestations in the image's registry first (when registries are
 * configured under provenance), then files configured per digest or repository.
 */
export function sbomSource(c: Container): SbomSource {
  let s = sbomSources.get(c);
  if (!s) {
    const files = new FileSbomSource(c.config.advisories.sboms, c.log);
    s = c.provenance
      ? new FirstSbomSource([new RegistrySbomSource(c.provenance.client, c.log), files])
      : files;
    sbomSources.set(c, s);
  }
  return s;
}

/** Feed health and job schedulers for `/scope status`. */
async function advisoryStatus(c: Container) {
  if (c.config.advisories.feeds.length === 0) return {};
  const [schedulers, feeds] = await Promise.all([
    c.advisoryQueue.getJobSchedulers(),
    c.advisories.feedStates(),
  ]);
  return {
    schedulers: schedulers.map((s) => ({
      id: s.key,
      ...(s.every ? { everySeconds: Number(s.every) / 1000 } : {}),
      ...(s.next ? { next: new Date(s.next).toISOString() } : {}),
    })),
    feeds: feeds.map((f) => ({
      feed: f.feed,
      records: f.records,
      problems: f.problems,
      failures: f.failures,
      ...(f.lastSuccessAt ? { lastSuccessAt: f.lastSuccessAt } : {}),
      ...(f.lastError ? { lastError: f.lastError } : {}),
    })),
  };
}

/** Ports of the advisory jobs: stores, inventory, SBOMs, and the Slack poster for notifications. */
export function advisoryPorts(c: Container, client?: WebClient): AdvisoryPorts {
  const log = c.log.child({ component: 'advisories' });
  return {
    config: c.config.advisories,
    store: c.advisories,
    inventory: c.inventory,
    sboms: sbomSource(c),
    signers: signerRecords(c),
    log,
    ...(client
      ? {
          notify: {
            poster: new SlackAdvisoryPoster(client),
            notes: c.advisoryNotes,
            log,
            decorate: async (channel, advisory, findings, message) => {
              const buttons = await advisoryButtons(
                advisory.id,
                findings,
                { store: c.actions, channelId: channel, userId: 'scope', now: new Date() },
                { verify: c.provenance !== undefined },
              );
              return buttons.length
                ? { ...message, blocks: [...message.blocks, { kind: 'actions' as const, buttons }] }
                : message;
            },
          },
        }
      : {}),
  };
}

/** Schedules feed polling and re-matching and runs the advisory worker. */
export async function startAdvisories(
  c: Container,
  client: WebClient,
): Promise<{ stop: () => Promise<void> }> {
  const ids = await scheduleAdvisoryJobs(c.advisoryQueue, c.config.advisories);
  const worker = startAdvisoryWorker(c, { matcher: new AdvisoryMatcher(advisoryPorts(c, client)) });
  c.log.info({ schedulers: ids }, 'advisory feeds scheduled');
  return { stop: () => worker.close() };
}

/** Active freezes for `/scope frozen`, from the engine's store. */
export async function activeFreezes(c: Container) {
  const requests = await c.actions.active('freeze');
  return Promise.all(
    requests.map(async (r) => {
      const steps = await c.actions.steps(r.id);
      return {
        requestId: r.id,
        title: r.plan.title,
        requestedBy: r.requestedBy,
        approvedBy: r.approvals.map((a) => a.userId),
        reason: r.reason,
        createdAt: r.createdAt,
        ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
        state: r.state,
        // What it holds: objects it froze and objects it found already frozen (see domain/actions/holdings.ts).
        objects: heldTargets(r, steps).length,
      };
    }),
  );
}

/** The approval engine's worker with every registered capability (Freeze today). */
export function startActions(c: Container, notifier: Notifier): RunningActionWorker {
  const registry = new ActionRegistry();
  const freeze = registerFreeze(registry, c.config);
  registerQuarantine(registry, c.config.clusters, (digest) => knownReferences(c, digest), {
    planner: freeze.planner,
    freeze: freeze.freeze,
    unfreeze: freeze.unfreeze,
    workloads: (digest) => runningWorkloads(c, digest),
  });
  if (c.config.aws.regions.length > 0) registerRotate(registry, c.config);
  return startActionWorker(c, { registry, notifier });
}

/** The workloads that run a digest now, as Freeze selectors (one per cluster/namespace/kind/name). */
async function runningWorkloads(c: Container, digest: string) {
  const pods = await c.inventory.podsRunningDigest(digest);
  const byKey = new Map<string, { cluster: string; namespace: string; kind: string; name: string }>();
  for (const p of pods) {
    const s = { cluster: p.cluster, namespace: p.namespace, kind: p.workload.kind, name: p.workload.name };
    byKey.set(`${s.cluster}/${s.namespace}/${s.kind}/${s.name}`, s);
  }
  return [...byKey.values()];
}

/** Image references (as pod specs wrote them) the inventory has seen for a digest, running or in history. */
async function knownReferences(c: Container, digest: string): Promise<string[]> {
  const [pods, history] = await Promise.all([
    c.inventory.podsRunningDigest(digest),
    c.inventory.digestHistory(digest, new Date()),
  ]);
  const images = [
    ...pods.flatMap((p) => p.containers.filter((k) => k.digest === digest).map((k) => k.image)),
    ...history.map((h) => h.image),
  ];
  return [...new Set(images.filter((i) => i !== ''))];
}

/** Decorates command results with action buttons (offers stored server-side). */
export function actionButtons(c: Container) {
  return (
    result: Parameters<typeof withActionButtons>[0],
    message: Parameters<typeof withActionButtons>[1],
    data: { reply: { channelId: string }; requester: { userId: string } },
  ) =>
    withActionButtons(result, message, {
      store: c.actions,
      channelId: data.reply.channelId,
      userId: data.requester.userId,
      now: new Date(),
    });
}

export function slackClient(c: Container): WebClient {
  const { slack } = c.config;
  if (!slack.botToken) {
    throw new ScopeError(
      'CONFIG_INVALID',
      'the worker posts results to Slack: set slack.botToken (env SCOPE_SLACK_BOT_TOKEN)',
    );
  }
  return new WebClient(slack.botToken, {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    logger: slackLogger(c.log, 'slack-web-api'),
    retryConfig: { retries: 4, factor: 2, minTimeout: 250, maxTimeout: 10_000 },
    timeout: 15_000,
  });
}

/** The worker's Slack notifier: Web API client, delivery records in Redis, response_url policy from config. */
export function slackNotifier(c: Container, client: WebClient = slackClient(c)): SlackNotifier {
  return new SlackNotifier(client, c.redis, c.config.redis.prefix, c.log, c.config.slack);
}

const LEASE_TTL_MS = 15_000;

/**
 * The long-running inventory collector (list + watch of every cluster). Only the replica holding the collector
 * lease runs it; the others stand by and take over when the lease lapses. `ready` resolves once every cluster
 * answered or failed once (or after 30 s).
 */
export function startCollector(
  c: Container,
  opts: {
    leaseTtlMs?: number;
    /** Called after every lease check with whether this replica collects (tests wait on it). */
    onLeaseCheck?: (collecting: boolean) => void;
    /** How often the quarantine sentinel re-reads the active quarantines (default 5 s). */
    sentinelIntervalMs?: number;
  } = {},
): { ready: Promise<void>; stop: () => Promise<void> } {
  if (c.config.clusters.length === 0) return { ready: Promise.resolve(), stop: async () => {} };
  const log = c.log.child({ component: 'collector' });
  const ttl = opts.leaseTtlMs ?? LEASE_TTL_MS;
  const lease = new Lease(
    c.redis,
    `${c.config.redis.prefix}:collector:lease`,
    `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ttl,
  );
  let fleet: FleetCollector | undefined;
  let sentinel: QuarantineSentinel | undefined;
  let stopped = false;
  const stopFleet = async () => {
    const f = fleet;
    fleet = undefined;
    sentinel?.stop();
    sentinel = undefined;
    c.inventory.observeStarts(undefined);
    await f?.stop();
  };
  const tick = async () => {
    try {
      if (fleet) {
        if (!(await lease.renew())) {
          log.warn('lost the collector lease; another worker collects now');
          await stopFleet();
        }
      } else if (await lease.acquire()) {
        log.info('holding the collector lease; collecting inventory');
        // The quarantine sentinel knows the active quarantines before the first pod is written.
        sentinel = quarantineSentinel(c, log);
        await sentinel.start(opts.sentinelIntervalMs);
        c.inventory.observeStarts(sentinel.observer);
        fleet = FleetCollector.fromConfig(c.config, c.inventory, log);
        fleet.start();
      }
    } catch (err) {
      log.warn({ err }, 'collector lease check failed');
    }
    opts.onLeaseCheck?.(fleet !== undefined);
  };
  const timer = setInterval(() => void tick(), Math.max(200, Math.floor(ttl / 3)));
  const first = tick();
  const ready = (async () => {
    await first;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !stopped) {
      const states = await c.inventory.syncStates();
      if (states.every((s) => s.state !== 'never')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    ready,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await first;
      if (fleet) {
        await stopFleet();
        await lease.release().catch(() => undefined);
      }
    },
  };
}

/** The collector's quarantine sentinel: active quarantines from the engine's store, breaches to the action queue. */
function quarantineSentinel(c: Container, log: Container['log']): QuarantineSentinel {
  return new QuarantineSentinel({
    requests: c.actions,
    inventory: c.inventory,
    enqueue: (b) => enqueueBreach(c.actionQueue, b),
    log: log.child({ component: 'quarantine-sentinel' }),
  });
}

/** Runs the collector in a worker thread so listing big clusters never delays command answers; restarts it if it dies. */
export function startCollectorThread(c: Container): { ready: Promise<void>; stop: () => Promise<void> } {
  let stopping = false;
  let thread: Worker;
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  const spawn = () => {
    thread = new Worker(new URL('./collector-thread.ts', import.meta.url), {
      workerData: { config: JSON.parse(JSON.stringify(c.config)) },
      // Without a limit V8 lets the old generation grow to ~3× the live set between collections, and the
      // garbage of the LIST pages with it (docs/PERFORMANCE.md); the collector's live set is ~50 MB.
      resourceLimits: { maxOldGenerationSizeMb: c.config.inventory.collectorHeapMb },
    });
    thread.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') signalReady();
    });
    thread.on('error', (err) => c.log.error({ err }, 'collector thread failed'));
    thread.on('exit', (code) => {
      if (stopping) return;
      c.log.error({ code }, 'collector thread exited; restarting in 5 s');
      setTimeout(() => {
        if (!stopping) spawn();
      }, 5000).unref();
    });
  };
  spawn();
  return {
    ready,
    stop: async () => {
      stopping = true;
      const exited = once(thread, 'exit');
      thread.postMessage('stop');
      const timer = setTimeout(() => void thread.terminate(), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts everything a worker process runs; `stop()` drains it. */
export async function startWorkerProcess(c: Container): Promise<{ stop: () => Promise<void> }> {
  const client = slackClient(c);
  const notifier = slackNotifier(c, client);
  const advisories = await startAdvisories(c, client);
  const witnessChannel = c.config.audit.witnessChannel;
  if (witnessChannel) c.audit.addWitness(new SlackWitness((a) => client.chat.postMessage(a), witnessChannel));
  const fan = c.provenance ? startVerifyFanOut(c) : undefined;
  // Never awaited: verification starts on the root the worker has (shipped seed) while TUF refreshes it.
  const trustRoot = c.provenance
    ? startTrustRoot({
        provenance: c.provenance,
        config: c.config.provenance,
        store: new TrustStatusStore(c.redis, c.config.redis.prefix),
        log: c.log,
      })
    : undefined;
  const base = commandPorts(c);
  const ports =
    fan && base.provenance ? { ...base, provenance: withFanOut(base.provenance, fan.fanOut) } : base;
  const worker = startCommandWorker(c, { notifier, ports, decorate: actionButtons(c) });
  const actions = startActions(c, notifier);
  c.log.info({ concurrency: c.config.worker.concurrency }, 'command worker started');
  c.log.info('action worker started');
  const collector =
    c.config.inventory.collect && c.config.clusters.length > 0 ? startCollectorThread(c) : undefined;
  return {
    stop: async () => {
      await collector?.stop();
      await advisories.stop();
      await worker.close();
      await actions.close();
      await fan?.stop();
      await trustRoot?.stop();
    },
  };
}

/** Adds the fan-out without reading the getters (a spread would freeze the current view). */
function withFanOut(vp: VerifyPorts, fanOut: NonNullable<VerifyPorts['fanOut']>): VerifyPorts {
  return Object.defineProperties(
    {},
    {
      ...Object.getOwnPropertyDescriptors(vp),
      fanOut: { value: fanOut, enumerable: true },
    },
  ) as VerifyPorts;
}
