import type { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import {
  type ClusterRelist,
  type ClusterSync,
  type InventoryWriter,
  type PodRecord,
  podKey,
  type ReadStats,
  type RelistResult,
  type StartObserver,
} from '../../domain/inventory/inventory.ts';
import { parsePodRecord } from '../../domain/inventory/record-guard.ts';
import type { ClusterSyncState, SyncStateReader } from '../../jobs/status.ts';
import { type HistoryEntry, historyEntry, SET_EARLIEST } from './history.ts';
import { countPairs, exec, IndexWrites } from './index-writes.ts';

export type { HistoryEntry } from './history.ts';

const SYNC_STATES: ReadonlySet<string> = new Set(['never', 'ok', 'error']);

/**
 * The fleet inventory in Redis. Keys (all under the configured prefix):
 *   inv:pods:{cluster}     hash  ns/pod → PodRecord JSON (what runs now)
 *   inv:fp:{cluster}       hash  ns/pod → fingerprint of that JSON (what an unchanged pod is compared by)
 *   inv:digest:{digest}    set   cluster|ns/pod running that digest
 *   inv:repo:{registry/repo} set cluster|ns/pod running that repository
 *   inv:digests            zset  every digest seen (lexicographic, for prefix lookup)
 *   inv:pairs:{cluster}    hash  ns|Kind/name|digest → number of pods running it now
 *   inv:dfirst:{digest} / inv:dlast:{digest}    hash cluster|ns|Kind/name → first / last seen
 *   inv:wfirst:{cluster} / inv:wlast:{cluster}  hash ns|Kind/name|digest → first / last seen
 *   inv:sync               hash  cluster → sync state JSON
 * Writes are incremental per pod (see index-writes.ts); a full LIST is written page by page and swept at the
 * end. History keys expire after the look-back window without updates. Everything read back is checked
 * (Redis is a trust boundary): malformed records are left out and counted in the caller's ReadStats.
 */
export class InventoryStore implements InventoryWriter, SyncStateReader {
  readonly #redis: Redis;
  readonly #p: string;
  readonly #config: Config;
  readonly #ttl: number;
  readonly #writes: IndexWrites;

  constructor(redis: Redis, prefix: string, config: Config) {
    this.#redis = redis;
    this.#p = `${prefix}:inv`;
    this.#config = config;
    this.#ttl = config.inventory.historyDays * 86_400;
    redis.defineCommand('scopeSetEarliest', { numberOfKeys: 1, lua: SET_EARLIEST });
    this.#writes = new IndexWrites(redis, (...parts) => this.#k(...parts), this.#ttl);
  }

  #k(...parts: string[]): string {
    return [this.#p, ...parts].join(':');
  }

  /**
   * A full LIST written page by page: each page costs one fingerprint lookup plus writes for the pods that
   * changed; `finish` removes the pods no page contained (mark and sweep) and re-counts the running
   * (workload, digest) pairs from what the pages held.
   */
  beginRelist(cluster: string, _environment: string): ClusterRelist {
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    let written = 0;
    let finished = false;
    return {
      writePage: async (pods, at) => {
        if (finished) throw new Error(`re-list of ${cluster} already finished`);
        const fresh: PodRecord[] = [];
        const keys = new Set<string>();
        for (const p of pods) {
          if (p.cluster !== cluster) throw new Error(`pod of ${p.cluster} in the re-list of ${cluster}`);
          const key = podKey(p);
          if (seen.has(key) || keys.has(key)) continue;
          keys.add(key);
          fresh.push(p);
          countPairs(counts, p);
        }
        written += await this.#writes.writeChanged(cluster, fresh, at, seen);
      },
      finish: async (at): Promise<RelistResult> => {
        if (finished) throw new Error(`re-list of ${cluster} already finished`);
        finished = true;
        const removed = await this.#writes.sweep(cluster, seen, counts, at);
        return { pods: seen.size, written, unchanged: seen.size - written, removed };
      },
    };
  }

  /** One whole cluster at once (demo, benchmarks, tests): a re-list of a single page. */
  async replaceCluster(
    cluster: string,
    environment: string,
    pods: readonly PodRecord[],
    at: Date,
  ): Promise<RelistResult> {
    const relist = this.beginRelist(cluster, environment);
    await relist.writePage(pods, at);
    return relist.finish(at);
  }

  /** The observer told about pods that start running digests, before each such write (the quarantine sentinel). */
  observeStarts(observer: StartObserver | undefined): void {
    this.#writes.observeStarts(observer);
  }

  async upsertPod(pod: PodRecord, at: Date): Promise<boolean> {
    return (await this.#writes.writeChanged(pod.cluster, [pod], at)) > 0;
  }

  async removePod(cluster: string, namespace: string, name: string, at: Date): Promise<void> {
    await this.#writes.removeKeys(cluster, [podKey({ namespace, name })], at);
  }

  async recordSync(sync: ClusterSync): Promise<void> {
    const key = this.#k('sync');
    const prev = parseSyncState(await this.#redis.hget(key, sync.cluster));
    const state: ClusterSyncState = prev ?? {
      cluster: sync.cluster,
      environment: sync.environment,
      state: 'never',
    };
    state.environment = sync.environment;
    state.lastAttemptAt = sync.finishedAt;
    if (sync.ok) {
      state.state = 'ok';
      state.lastSuccessAt = sync.finishedAt;
      state.pods = sync.pods;
      delete state.lastError;
    } else {
      state.state = 'error';
      state.lastError = sync.error ?? sync.errorCode ?? 'unknown error';
    }
    await this.#redis.hset(key, sync.cluster, JSON.stringify(state));
  }

  /**
   * Every configured cluster's sync health, including ones never synced, in configuration order. A stored
   * state that is not what scope writes reads as an error of that cluster (its data cannot be vouched for).
   */
  async syncStates(): Promise<ClusterSyncState[]> {
    const stored = await this.#redis.hgetall(this.#k('sync'));
    const out: ClusterSyncState[] = [];
    const seen = new Set<string>();
    const read = (name: string, environment: string, json: string): ClusterSyncState => {
      const s = parseSyncState(json);
      if (s && s.cluster === name) return s;
      return { cluster: name, environment, state: 'error', lastError: 'sync state in Redis is unreadable' };
    };
    for (const c of this.#config.clusters) {
      seen.add(c.name);
      const s = stored[c.name];
      out.push(
        s === undefined
          ? { cluster: c.name, environment: c.environment, state: 'never' }
          : read(c.name, c.environment, s),
      );
    }
    for (const [name, s] of Object.entries(stored)) if (!seen.has(name)) out.push(read(name, 'unknown', s));
    return out;
  }

  /** Pods currently running a digest, each with only the containers that run it. */
  async podsRunningDigest(digest: string, reads?: ReadStats): Promise<PodRecord[]> {
    const refs = await this.#redis.smembers(this.#k('digest', digest));
    const pods = await this.#fetchPods(refs, reads);
    return pods
      .map((p) => ({ ...p, containers: p.containers.filter((c) => c.digest === digest) }))
      .filter((p) => p.containers.length > 0);
  }

  /** Pods currently running any image of a repository (optionally one tag), with only those containers. */
  async podsRunningRepository(repository: string, tag?: string, reads?: ReadStats): Promise<PodRecord[]> {
    const refs = await this.#redis.smembers(this.#k('repo', repository));
    const pods = await this.#fetchPods(refs, reads);
    return pods
      .map((p) => ({
        ...p,
        containers: p.containers.filter(
          (c) => c.repository === repository && (tag === undefined || c.tag === tag),
        ),
      }))
      .filter((p) => p.containers.length > 0);
  }

  /** Full digests starting with a hex prefix (`sha256:` optional), at most `limit`. */
  async digestsWithPrefix(prefix: string, limit = 10): Promise<string[]> {
    const p = prefix.startsWith('sha256:') ? prefix : `sha256:${prefix}`;
    return this.#redis.zrangebylex(this.#k('digests'), `[${p}`, `[${p}\xff`, 'LIMIT', 0, limit);
  }

  /** Deployment history of a digest across the fleet (within the look-back window). */
  async digestHistory(digest: string, now: Date, reads?: ReadStats): Promise<HistoryEntry[]> {
    const [first, last] = await Promise.all([
      this.#redis.hgetall(this.#k('dfirst', digest)),
      this.#redis.hgetall(this.#k('dlast', digest)),
    ]);
    const fields = Object.keys(first).map((field) => {
      const [cluster = '', namespace, wl, ...rest] = field.split('|');
      return { field, cluster, namespace, wl, extra: rest.length > 0 };
    });
    const tx = this.#redis.pipeline();
    for (const f of fields) tx.hget(this.#k('pairs', f.cluster), `${f.namespace}|${f.wl}|${digest}`);
    const counts = fields.length ? await exec(tx) : [];
    const entries: HistoryEntry[] = [];
    fields.forEach((f, i) => {
      const running = Number(counts[i] ?? 0) > 0;
      const e = f.extra
        ? undefined
        : historyEntry(f.cluster, f.namespace, f.wl, digest, first[f.field], last[f.field], running);
      if (!e || !f.cluster) {
        if (reads) reads.unreadable += 1;
        return;
      }
      if (this.#withinWindow(e, now)) entries.push(e);
    });
    return entries;
  }

  /** Pods running now in a cluster, optionally narrowed to a namespace. */
  async podsInCluster(cluster: string, namespace?: string, reads?: ReadStats): Promise<PodRecord[]> {
    const out: PodRecord[] = [];
    const take = (key: string, json: string) => {
      const pod = this.#checked(cluster, key, json);
      if (pod) out.push(pod);
      else if (reads) reads.unreadable += 1;
    };
    if (namespace === undefined) {
      for (const [key, json] of Object.entries(await this.#redis.hgetall(this.#k('pods', cluster))))
        take(key, json);
      return out;
    }
    let cursor = '0';
    do {
      const [next, kv] = await this.#redis.hscan(
        this.#k('pods', cluster),
        cursor,
        'MATCH',
        `${namespace}/*`,
        'COUNT',
        1000,
      );
      cursor = next;
      for (let i = 1; i < kv.length; i += 2) take(kv[i - 1] as string, kv[i] as string);
    } while (cursor !== '0');
    return out;
  }

  /** What workloads of a cluster ran, digest by digest (within the look-back window). */
  async workloadHistory(
    cluster: string,
    now: Date,
    namespace?: string,
    reads?: ReadStats,
  ): Promise<HistoryEntry[]> {
    const [first, last, pairs] = await Promise.all([
      this.#redis.hgetall(this.#k('wfirst', cluster)),
      this.#redis.hgetall(this.#k('wlast', cluster)),
      this.#redis.hgetall(this.#k('pairs', cluster)),
    ]);
    const out: HistoryEntry[] = [];
    for (const [field, value] of Object.entries(first)) {
      const [ns, wl, digest, ...rest] = field.split('|');
      if (namespace !== undefined && ns !== namespace) continue;
      const running = Number(pairs[field] ?? 0) > 0;
      const e = rest.length ? undefined : historyEntry(cluster, ns, wl, digest, value, last[field], running);
      if (!e) {
        if (reads) reads.unreadable += 1;
        continue;
      }
      if (this.#withinWindow(e, now)) out.push(e);
    }
    return out;
  }

  #withinWindow(e: HistoryEntry, now: Date): boolean {
    if (e.running) return true;
    const last = Date.parse(e.lastSeen ?? e.firstSeen);
    return now.getTime() - last <= this.#ttl * 1000;
  }

  /**
   * A stored pod record, if it has scope's shape and belongs where it is stored (cluster, ns/name field).
   * For one that does not, its fingerprint is dropped, so the next re-list or watch event rewrites it.
   */
  #checked(cluster: string, key: string, json: string): PodRecord | undefined {
    const pod = parsePodRecord(json);
    if (pod && pod.cluster === cluster && podKey(pod) === key) return pod;
    this.#redis.hdel(this.#k('fp', cluster), key).catch(() => undefined);
    return undefined;
  }

  async #fetchPods(refs: string[], reads?: ReadStats): Promise<PodRecord[]> {
    const byCluster = new Map<string, string[]>();
    for (const ref of refs) {
      const i = ref.indexOf('|');
      if (i <= 0) {
        if (reads) reads.unreadable += 1;
        continue;
      }
      const cluster = ref.slice(0, i);
      const list = byCluster.get(cluster) ?? [];
      list.push(ref.slice(i + 1));
      byCluster.set(cluster, list);
    }
    const tx = this.#redis.pipeline();
    const order = [...byCluster.entries()];
    for (const [cluster, keys] of order) tx.hmget(this.#k('pods', cluster), ...keys);
    const results = order.length ? await exec(tx) : [];
    const pods: PodRecord[] = [];
    results.forEach((r, i) => {
      const [cluster, keys] = order[i] as [string, string[]];
      (r as (string | null)[]).forEach((json, j) => {
        // A reference whose pod is gone is a pod removed between two reads, not a malformed record.
        if (json === null) return;
        const pod = this.#checked(cluster, keys[j] as string, json);
        if (pod) pods.push(pod);
        else if (reads) reads.unreadable += 1;
      });
    });
    return pods;
  }
}

function parseSyncState(json: string | null | undefined): ClusterSyncState | undefined {
  if (!json) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const s = v as Record<string, unknown>;
  if (typeof s.cluster !== 'string' || typeof s.environment !== 'string') return undefined;
  if (typeof s.state !== 'string' || !SYNC_STATES.has(s.state)) return undefined;
  for (const k of ['lastSuccessAt', 'lastAttemptAt', 'lastError'])
    if (s[k] !== undefined && typeof s[k] !== 'string') return undefined;
  if (s.pods !== undefined && typeof s.pods !== 'number') return undefined;
  return s as ClusterSyncState;
}
