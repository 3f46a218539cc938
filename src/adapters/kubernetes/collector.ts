import pLimit, { type LimitFunction } from 'p-limit';
import { pino } from 'pino';
import type { ClusterConfig, Config } from '../../config.ts';
import type { ClusterSync, InventoryWriter } from '../../domain/inventory/inventory.ts';
import { hasUnknownOwner, type OwnerLink, toPodRecord } from '../../domain/inventory/pod-record.ts';
import { ScopeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { KubeCluster, type PodEventType, ResourceExpiredError } from './client.ts';
import { type ClusterListing, listCluster } from './list-cluster.ts';

export { type ClusterListing, listCluster, scanFleet } from './list-cluster.ts';

/** Tuning shared by the cluster and fleet collectors; only `pageSize` is required. */
export type CollectorOptions = {
  pageSize: number;
  log?: Logger;
  now?: () => Date;
  /** Retry delays after failures: exponential from `initialMs`, capped at `maxMs`, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /** Full re-list period while watching (inventory.resyncMinutes); none when absent. */
  resyncMs?: number;
  /** Minimum time between owner re-lists triggered by pods whose ReplicaSet/Job is unknown. */
  ownerRefreshIntervalMs?: number;
  /** Bound on one full LIST of a cluster, its pages' writes included; defaults to the cluster's timeoutSeconds. */
  clusterDeadlineMs?: number;
  /** Server-side lifetime of one watch request before it is renewed from the last resourceVersion. */
  watchTimeoutSeconds?: number;
};

type Defaults = Required<Pick<CollectorOptions, 'backoff' | 'ownerRefreshIntervalMs'>>;

const DEFAULTS: Defaults = { backoff: { initialMs: 1000, maxMs: 60_000 }, ownerRefreshIntervalMs: 30_000 };
const EXPIRED_LIST_RETRIES = 2;
const MIN_WATCH_CYCLE_MS = 1000;
const HEALTHY_WATCH_MS = 60_000;

/**
 * Keeps one cluster's pods in the inventory: a full LIST written page by page (then swept), then a WATCH from the
 * list's resourceVersion applying each change, re-listing on 410 Gone, on resync and after failures.
 */
export class ClusterCollector {
  readonly cluster: KubeCluster;
  #writer: InventoryWriter;
  #options: CollectorOptions & Defaults;
  #log: Logger;
  #now: () => Date;
  #limit: LimitFunction | undefined;
  #owners: Map<string, OwnerLink | null> = new Map();
  #ownersRefreshedAt = 0;
  #ownersForbidden = false;
  #lastSync: ClusterSync | undefined;

  constructor(
    cluster: KubeCluster | ClusterConfig,
    writer: InventoryWriter,
    options: CollectorOptions,
    limit?: LimitFunction,
  ) {
    this.cluster = cluster instanceof KubeCluster ? cluster : new KubeCluster(cluster);
    this.#writer = writer;
    this.#options = { ...DEFAULTS, ...options };
    this.#log = (options.log ?? silentLogger()).child({ cluster: this.cluster.name });
    this.#now = options.now ?? (() => new Date());
    this.#limit = limit;
  }

  /** The outcome of the latest full LIST (or failure), as recorded with the writer. */
  get lastSync(): ClusterSync | undefined {
    return this.#lastSync;
  }

  /**
   * One full LIST written to the inventory. Resolves with the recorded ClusterSync whether the cluster
   * answered or not; rejects only when `signal` aborts.
   */
  async syncOnce(signal: AbortSignal): Promise<ClusterSync> {
    return (await this.#sync(signal)).sync;
  }

  /** LIST then WATCH until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      if (resourceVersion === undefined) {
        const { sync, resourceVersion: listed } = await this.#sync(signal).catch(() => ({
          sync: undefined,
          resourceVersion: undefined,
        }));
        if (signal.aborted) return;
        if (!sync?.ok || listed === undefined) {
          failures += 1;
          await sleep(this.#backoff(failures), signal);
          continue;
        }
        resourceVersion = listed;
      }
      const watchCycle = new AbortController();
      const resync =
        this.#options.resyncMs === undefined
          ? undefined
          : setTimeout(() => watchCycle.abort(new Error('resync')), this.#options.resyncMs);
      const startedAt = Date.now();
      try {
        await this.cluster.watchPods(
          resourceVersion,
          async (type, obj) => {
            resourceVersion = (await this.#apply(type, obj, signal)) ?? resourceVersion;
          },
          AbortSignal.any([signal, watchCycle.signal]),
          { serverTimeoutSeconds: this.#options.watchTimeoutSeconds },
        );
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        resourceVersion = undefined;
        // Only a watch that held for a while proves the cluster healthy; a list alone does not reset backoff.
        if (Date.now() - startedAt >= HEALTHY_WATCH_MS) failures = 0;
        if (watchCycle.signal.aborted) {
          this.#log.debug('periodic resync: re-listing');
        } else if (err instanceof ResourceExpiredError) {
          this.#log.info({ err }, 'watch resourceVersion expired: re-listing');
        } else {
          failures += 1;
          await this.#recordFailure(err, this.#now());
          await sleep(this.#backoff(failures), signal);
        }
      } finally {
        clearTimeout(resync);
      }
      // A watch that ends (or expires) at once must not turn into a hot loop of requests.
      const elapsed = Date.now() - startedAt;
      if (elapsed < MIN_WATCH_CYCLE_MS) await sleep(MIN_WATCH_CYCLE_MS - elapsed, signal);
    }
  }

  // The writes happen inside the parallelism slot too, so at most `clusterParallelism` lists are in flight.
  #sync(signal: AbortSignal): Promise<{ sync: ClusterSync; resourceVersion?: string }> {
    return this.#limit ? this.#limit(() => this.#listAndWrite(signal)) : this.#listAndWrite(signal);
  }

  async #listAndWrite(signal: AbortSignal): Promise<{ sync: ClusterSync; resourceVersion?: string }> {
    const started = this.#now();
    let listing: ClusterListing;
    try {
      listing = await this.#listWithRetry(signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      return { sync: await this.#recordFailure(err, started) };
    }
    const finished = this.#now();
    this.#owners = listing.owners;
    this.#ownersRefreshedAt = Date.now();
    const sync: ClusterSync = {
      cluster: this.cluster.name,
      environment: this.cluster.environment,
      ok: true,
      pods: listing.pods,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
    };
    this.#lastSync = sync;
    await this.#writer
      .recordSync(sync)
      .catch((err: unknown) => this.#log.warn({ err }, 'cannot record sync'));
    this.#log.info({ pods: sync.pods, ms: finished.getTime() - started.getTime() }, 'cluster listed');
    return { sync, resourceVersion: listing.resourceVersion };
  }

  /**
   * One full LIST, each page written as it arrives, then the sweep of pods the list did not see. A LIST
   * restarted after an expired continue token starts a fresh re-list (the pages already written are current).
   */
  async #listWithRetry(signal: AbortSignal): Promise<ClusterListing> {
    for (let attempt = 0; ; attempt++) {
      const relist = this.#writer.beginRelist(this.cluster.name, this.cluster.environment);
      let listing: ClusterListing;
      try {
        listing = await listCluster(this.cluster, {
          pageSize: this.#options.pageSize,
          signal,
          deadlineMs: this.#options.clusterDeadlineMs,
          log: this.#log,
          onOwnersForbidden: (forbidden) => {
            this.#ownersForbidden = forbidden;
          },
          onPage: (pods) => relist.writePage(pods, this.#now()),
        });
      } catch (err) {
        // A continue token can expire mid-list on a busy cluster; a fresh list is the documented remedy.
        if (!(err instanceof ResourceExpiredError) || attempt >= EXPIRED_LIST_RETRIES) throw err;
        continue;
      }
      const result = await relist.finish(this.#now());
      if (result.removed > 0 || result.written > 0) {
        this.#log.debug(
          { written: result.written, unchanged: result.unchanged, removed: result.removed },
          're-list written',
        );
      }
      return listing;
    }
  }

  async #recordFailure(err: unknown, started: Date): Promise<ClusterSync> {
    const error = err instanceof ScopeError ? err : undefined;
    const sync: ClusterSync = {
      cluster: this.cluster.name,
      environment: this.cluster.environment,
      ok: false,
      pods: 0,
      startedAt: started.toISOString(),
      finishedAt: this.#now().toISOString(),
      error: error?.message ?? `inventory sync failed: ${err instanceof Error ? err.message : String(err)}`,
      errorCode: error?.code ?? 'INTERNAL',
    };
    this.#lastSync = sync;
    this.#log.warn({ errorCode: sync.errorCode, error: sync.error }, 'cluster sync failed');
    await this.#writer
      .recordSync(sync)
      .catch((e: unknown) => this.#log.warn({ err: e }, 'cannot record sync'));
    return sync;
  }

  /** Applies one watch event; returns the resourceVersion it carried. */
  async #apply(type: PodEventType, obj: unknown, signal: AbortSignal): Promise<string | undefined> {
    const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
    const rv =
      typeof meta.resourceVersion === 'string' && meta.resourceVersion ? meta.resourceVersion : undefined;
    if (type === 'BOOKMARK') return rv;
    if (type === 'DELETED') {
      if (typeof meta.namespace === 'string' && typeof meta.name === 'string') {
        await this.#writer.removePod(this.cluster.name, meta.namespace, meta.name, this.#now());
      }
      return rv;
    }
    if (hasUnknownOwner(obj, this.#owners)) await this.#refreshOwners(signal);
    const record = toPodRecord(obj, this.cluster.name, this.cluster.environment, this.#owners);
    if (record === undefined) {
      this.#log.debug({ type }, 'skipping malformed pod in watch event');
      return rv;
    }
    // The writer compares the record's fingerprint with the stored one: an unchanged pod costs one read.
    await this.#writer.upsertPod(record, this.#now());
    return rv;
  }

  async #refreshOwners(signal: AbortSignal): Promise<void> {
    if (this.#ownersForbidden) return;
    if (Date.now() - this.#ownersRefreshedAt < this.#options.ownerRefreshIntervalMs) return;
    this.#ownersRefreshedAt = Date.now();
    try {
      this.#owners = await this.cluster.listOwners(signal, this.#options.pageSize);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      this.#log.warn({ err }, 'cannot refresh ReplicaSets/Jobs; naming workloads from pod labels');
    }
  }

  #backoff(failures: number): number {
    const { initialMs, maxMs } = this.#options.backoff;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** Options of a fleet: per-cluster tuning plus how many clusters may be listed at once. */
export type FleetOptions = CollectorOptions & { clusterParallelism: number };

/**
 * All configured clusters: one-shot syncs with bounded parallelism, or a long-running list+watch per cluster.
 * One cluster failing or hanging never holds back the others' results.
 */
export class FleetCollector {
  readonly collectors: readonly ClusterCollector[];
  #limit: LimitFunction;
  #log: Logger;
  #running: { abort: AbortController; done: Promise<void> } | undefined;

  constructor(
    clusters: readonly (ClusterConfig | KubeCluster)[],
    writer: InventoryWriter,
    options: FleetOptions,
  ) {
    this.#limit = pLimit(options.clusterParallelism);
    this.#log = options.log ?? silentLogger();
    this.collectors = clusters.map((c) => new ClusterCollector(c, writer, options, this.#limit));
  }

  /** A fleet collector wired from the validated configuration. */
  static fromConfig(config: Config, writer: InventoryWriter, log?: Logger): FleetCollector {
    const options: FleetOptions = {
      pageSize: config.inventory.pageSize,
      clusterParallelism: config.inventory.clusterParallelism,
      resyncMs: config.inventory.resyncMinutes * 60_000,
    };
    if (log) options.log = log;
    return new FleetCollector(config.clusters, writer, options);
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** One full LIST of every cluster, written as each finishes; results in configuration order. */
  async syncOnce(signal: AbortSignal = new AbortController().signal): Promise<ClusterSync[]> {
    const syncs = await Promise.all(this.collectors.map((c) => c.syncOnce(signal)));
    await this.#closeIdle();
    return syncs;
  }

  /** Starts list+watch on every cluster in the background; call `stop()` to end it. */
  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    const done = Promise.all(this.collectors.map((c) => c.run(abort.signal))).then(() => undefined);
    this.#running = { abort, done };
    this.#log.info({ clusters: this.collectors.length }, 'inventory collection started');
  }

  /** Aborts every request and watch, waits for the loops to end and releases connections. */
  async stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    running.abort.abort();
    await running.done;
    this.#running = undefined;
    await this.#closeIdle();
    this.#log.info('inventory collection stopped');
  }

  async #closeIdle(): Promise<void> {
    if (this.#running) return;
    await Promise.all(this.collectors.map((c) => c.cluster.close()));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

let silent: Logger | undefined;

function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
