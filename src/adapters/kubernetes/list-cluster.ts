import pLimit from 'p-limit';
import { pino } from 'pino';
import type { ClusterConfig } from '../../config.ts';
import type { ClusterSync, PodRecord } from '../../domain/inventory/inventory.ts';
import { type OwnerIndex, type OwnerLink, toPodRecord } from '../../domain/inventory/pod-record.ts';
import { ScopeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { KubeCluster } from './client.ts';

/** What a full LIST of one cluster produced; its pods went to the page callback as they arrived. */
export type ClusterListing = {
  pods: number;
  resourceVersion: string;
  owners: Map<string, OwnerLink | null>;
};

/**
 * A one-shot LIST of every cluster straight from the API servers, with nothing written anywhere (cold
 * scans, CLI `--live`). Failed clusters appear in `syncs` with ok:false; the others' pods are returned.
 */
export async function scanFleet(
  clusters: readonly (ClusterConfig | KubeCluster)[],
  signal: AbortSignal,
  options: { pageSize?: number; parallelism?: number; log?: Logger; clusterDeadlineMs?: number } = {},
): Promise<{ pods: PodRecord[]; syncs: ClusterSync[] }> {
  const limit = pLimit(options.parallelism ?? 8);
  const kubes = clusters.map((c) => (c instanceof KubeCluster ? c : new KubeCluster(c)));
  const log = options.log ?? silentLogger();
  try {
    const results = await Promise.all(
      kubes.map((cluster) =>
        limit(async () => {
          const started = new Date();
          const base = {
            cluster: cluster.name,
            environment: cluster.environment,
            startedAt: started.toISOString(),
          };
          try {
            const pods: PodRecord[] = [];
            await listCluster(cluster, {
              pageSize: options.pageSize ?? 500,
              signal,
              deadlineMs: options.clusterDeadlineMs,
              log: log.child({ cluster: cluster.name }),
              onPage: (page) => {
                for (const p of page) pods.push(p);
              },
            });
            const sync: ClusterSync = {
              ...base,
              ok: true,
              pods: pods.length,
              finishedAt: new Date().toISOString(),
            };
            return { pods, sync };
          } catch (err) {
            if (signal.aborted) throw signal.reason;
            const error = err instanceof ScopeError ? err : undefined;
            const sync: ClusterSync = {
              ...base,
              ok: false,
              pods: 0,
              finishedAt: new Date().toISOString(),
              error: error?.message ?? `scan failed: ${err instanceof Error ? err.message : String(err)}`,
              errorCode: error?.code ?? 'INTERNAL',
            };
            return { pods: [] as PodRecord[], sync };
          }
        }),
      ),
    );
    return { pods: results.flatMap((r) => r.pods), syncs: results.map((r) => r.sync) };
  } finally {
    await Promise.all(kubes.map((k) => k.close()));
  }
}

/**
 * A full LIST of one cluster (owners, then pods page by page) bounded by a deadline, turning each page's pods
 * into records and handing them to `onPage` before the next page is requested, so no more than one page is
 * held at a time. Missing RBAC on ReplicaSets/Jobs degrades to label-based workload names.
 */
export async function listCluster(
  cluster: KubeCluster,
  opts: {
    pageSize: number;
    signal: AbortSignal;
    deadlineMs?: number | undefined;
    log?: Logger;
    onOwnersForbidden?: (forbidden: boolean) => void;
    onPage: (pods: PodRecord[]) => unknown;
  },
): Promise<ClusterListing> {
  const deadlineMs = opts.deadlineMs ?? cluster.timeoutMs;
  const deadline = new ListDeadline(deadlineMs);
  const signal = AbortSignal.any([opts.signal, deadline.signal]);
  try {
    let owners: Map<string, OwnerLink | null>;
    try {
      owners = await cluster.listOwners(signal, opts.pageSize);
      opts.onOwnersForbidden?.(false);
    } catch (err) {
      if (!(err instanceof ScopeError && err.code === 'UPSTREAM_FORBIDDEN')) throw err;
      opts.log?.warn({ err }, 'cannot list ReplicaSets/Jobs; naming workloads from pod labels');
      opts.onOwnersForbidden?.(true);
      owners = new Map();
    }
    let count = 0;
    let resourceVersion = '';
    let skipped = 0;
    for await (const page of cluster.listPods({ pageSize: opts.pageSize, signal })) {
      resourceVersion = page.resourceVersion;
      const pods: PodRecord[] = [];
      for (const item of page.items) {
        const record = toPodRecord(item, cluster.name, cluster.environment, owners as OwnerIndex);
        if (record) pods.push(record);
        else skipped += 1;
      }
      page.items.length = 0;
      count += pods.length;
      // The deadline bounds the cluster's answers, not the index's writes: it is paused while a page is written.
      deadline.pause();
      try {
        await opts.onPage(pods);
      } finally {
        deadline.resume();
      }
      signal.throwIfAborted();
    }
    if (skipped > 0) opts.log?.warn({ skipped }, 'skipped pods too malformed to index');
    return { pods: count, resourceVersion, owners };
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason;
    if (deadline.signal.aborted) {
      throw new ScopeError(
        'TIMEOUT',
        `cluster ${cluster.name} did not finish listing pods within ${deadlineMs / 1000} s`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    deadline.clear();
  }
}

/** A time budget that aborts its signal when spent; time between pause() and resume() is not counted. */
class ListDeadline {
  readonly #controller = new AbortController();
  #remainingMs: number;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#remainingMs = ms;
    this.resume();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  pause(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#remainingMs -= performance.now() - this.#startedAt;
  }

  resume(): void {
    if (this.#timer !== undefined || this.#controller.signal.aborted) return;
    this.#startedAt = performance.now();
    this.#timer = setTimeout(
      () => this.#controller.abort(new DOMException('deadline', 'TimeoutError')),
      Math.max(0, this.#remainingMs),
    );
    this.#timer.unref();
  }

  clear(): void {
    this.pause();
  }
}

let silent: Logger | undefined;

function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}
