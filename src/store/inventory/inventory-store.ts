import type { ChainableCommander, Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import {
  type ClusterSync,
  type InventoryWriter,
  type PodRecord,
  podKey,
  type WorkloadRef,
  workloadKey,
} from '../../domain/inventory/inventory.ts';
import type { ClusterSyncState, SyncStateReader } from '../../jobs/status.ts';

/** First/last sighting of one workload running one digest: the deployment history. */
export type HistoryEntry = {
  cluster: string;
  environment: string;
  namespace: string;
  workload: WorkloadRef;
  digest: string;
  image: string;
  firstSeen: string;
  lastSeen?: string;
  running: boolean;
};

// Keeps the earliest first-seen value ("iso\timage\tenv"); ISO-8601 UTC strings sort chronologically.
// ARGV: ttl seconds, then field/value pairs.
const SET_EARLIEST = `
for i = 2, #ARGV - 1, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if (not cur) or (string.sub(ARGV[i + 1], 1, 24) < string.sub(cur, 1, 24)) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

type PairInfo = { digest: string; image: string; since: string };
type Membership = { digests: Set<string>; repos: Set<string>; pairs: Map<string, PairInfo> };

/**
 * The fleet inventory in Redis. Keys (all under the configured prefix):
 *   inv:pods:{cluster}     hash  ns/pod → PodRecord JSON (what runs now)
 *   inv:digest:{digest}    set   cluster|ns/pod running that digest
 *   inv:repo:{registry/repo} set cluster|ns/pod running that repository
 *   inv:digests            zset  every digest seen (lexicographic, for prefix lookup)
 *   inv:pairs:{cluster}    hash  ns|Kind/name|digest → number of pods running it now
 *   inv:dfirst:{digest} / inv:dlast:{digest}    hash cluster|ns|Kind/name → first / last seen
 *   inv:wfirst:{cluster} / inv:wlast:{cluster}  hash ns|Kind/name|digest → first / last seen
 *   inv:sync               hash  cluster → sync state JSON
 * Writes are incremental per pod; history keys expire after the look-back window without updates.
 */
export class InventoryStore implements InventoryWriter, SyncStateReader {
  readonly #redis: Redis;
  readonly #p: string;
  readonly #config: Config;
  readonly #ttl: number;

  constructor(redis: Redis, prefix: string, config: Config) {
    this.#redis = redis;
    this.#p = `${prefix}:inv`;
    this.#config = config;
    this.#ttl = config.inventory.historyDays * 86_400;
    redis.defineCommand('scopeSetEarliest', { numberOfKeys: 1, lua: SET_EARLIEST });
  }

  #k(...parts: string[]): string {
    return [this.#p, ...parts].join(':');
  }

  async replaceCluster(
    cluster: string,
    environment: string,
    pods: readonly PodRecord[],
    at: Date,
  ): Promise<void> {
    const podsKey = this.#k('pods', cluster);
    const old = await this.#redis.hgetall(podsKey);
    const now = at.toISOString();
    const tx = this.#redis.pipeline();
    // Only what changed is written: a resync of an unchanged cluster touches almost nothing.
    const oldRefs = new Map<string, Set<string>>();
    const newRefs = new Map<string, Set<string>>();
    const oldPods: PodRecord[] = [];
    for (const json of Object.values(old)) {
      const pod = JSON.parse(json) as PodRecord;
      oldPods.push(pod);
      this.#collectRefs(oldRefs, cluster, pod);
    }
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const pod of pods) {
      const key = podKey(pod);
      seen.add(key);
      const json = JSON.stringify(pod);
      if (old[key] !== json) changed.push(key, json);
      this.#collectRefs(newRefs, cluster, pod);
    }
    const gone = Object.keys(old).filter((k) => !seen.has(k));
    for (const part of chunks(gone, 1000)) tx.hdel(podsKey, ...part);
    for (const part of chunks(changed, 2000)) tx.hset(podsKey, ...part);
    for (const [key, refs] of oldRefs) {
      const keep = newRefs.get(key);
      const removed = keep ? [...refs].filter((r) => !keep.has(r)) : [...refs];
      for (const part of chunks(removed, 1000)) tx.srem(key, ...part);
    }
    const digests: string[] = [];
    for (const [key, refs] of newRefs) {
      const had = oldRefs.get(key);
      const added = had ? [...refs].filter((r) => !had.has(r)) : [...refs];
      for (const part of chunks(added, 1000)) tx.sadd(key, ...part);
      if (key.startsWith(this.#k('digest', ''))) digests.push(key.slice(this.#k('digest', '').length));
    }
    for (const part of chunks(digests, 1000)) tx.zadd(this.#k('digests'), ...part.flatMap((d) => [0, d]));

    const pairsKey = this.#k('pairs', cluster);
    tx.del(pairsKey);
    const counts = pairCounts(pods);
    for (const part of chunks([...counts].flat(), 2000)) tx.hset(pairsKey, ...part);
    const oldM = memberships(oldPods);
    const newM = memberships(pods);
    const firsts: Array<[string, PairInfo]> = [];
    const lasts: Array<[string, string]> = [];
    for (const [pair, info] of oldM.pairs) if (!newM.pairs.has(pair)) lasts.push([pair, info.digest]);
    for (const [pair, info] of newM.pairs) {
      firsts.push([pair, info]);
      lasts.push([pair, info.digest]);
    }
    this.#markFirstMany(tx, cluster, environment, firsts, now);
    this.#markLastMany(tx, cluster, lasts, now);
    await exec(tx);
  }

  #collectRefs(into: Map<string, Set<string>>, cluster: string, pod: PodRecord): void {
    const ref = `${cluster}|${podKey(pod)}`;
    for (const c of pod.containers) {
      if (c.digest) addTo(into, this.#k('digest', c.digest), ref);
      if (c.repository) addTo(into, this.#k('repo', c.repository), ref);
    }
  }

  /** First-seen for many pairs of one cluster: one script call per history hash instead of one per pair. */
  #markFirstMany(
    tx: ChainableCommander,
    cluster: string,
    environment: string,
    pairs: ReadonlyArray<[string, PairInfo]>,
    now: string,
  ): void {
    const byDigest = new Map<string, string[]>();
    const byCluster: string[] = [];
    for (const [pair, info] of pairs) {
      const [ns, wl] = pair.split('|') as [string, string];
      const since = info.since && info.since < now ? info.since : now;
      const value = `${since.padEnd(24, ' ')}\t${info.image}\t${environment}`;
      const list = byDigest.get(info.digest) ?? [];
      list.push(`${cluster}|${ns}|${wl}`, value);
      byDigest.set(info.digest, list);
      byCluster.push(pair, value);
    }
    const cmd = tx as unknown as { scopeSetEarliest: (...a: (string | number)[]) => void };
    for (const [digest, fv] of byDigest) cmd.scopeSetEarliest(this.#k('dfirst', digest), this.#ttl, ...fv);
    for (const part of chunks(byCluster, 2000))
      cmd.scopeSetEarliest(this.#k('wfirst', cluster), this.#ttl, ...part);
  }

  #markLastMany(
    tx: ChainableCommander,
    cluster: string,
    pairs: ReadonlyArray<[string, string]>,
    now: string,
  ): void {
    const byDigest = new Map<string, string[]>();
    const byCluster: string[] = [];
    for (const [pair, digest] of pairs) {
      const [ns, wl] = pair.split('|') as [string, string];
      const list = byDigest.get(digest) ?? [];
      list.push(`${cluster}|${ns}|${wl}`, now);
      byDigest.set(digest, list);
      byCluster.push(pair, now);
    }
    for (const [digest, fv] of byDigest) {
      tx.hset(this.#k('dlast', digest), ...fv);
      tx.expire(this.#k('dlast', digest), this.#ttl);
    }
    for (const part of chunks(byCluster, 2000)) tx.hset(this.#k('wlast', cluster), ...part);
    if (byCluster.length) tx.expire(this.#k('wlast', cluster), this.#ttl);
  }

  async upsertPod(pod: PodRecord, at: Date): Promise<void> {
    const podsKey = this.#k('pods', pod.cluster);
    const oldJson = await this.#redis.hget(podsKey, podKey(pod));
    const oldPod = oldJson ? (JSON.parse(oldJson) as PodRecord) : undefined;
    const tx = this.#redis.pipeline();
    const now = at.toISOString();
    const oldM = memberships(oldPod ? [oldPod] : []);
    const newM = memberships([pod]);
    const ref = `${pod.cluster}|${podKey(pod)}`;
    for (const d of oldM.digests) if (!newM.digests.has(d)) tx.srem(this.#k('digest', d), ref);
    for (const r of oldM.repos) if (!newM.repos.has(r)) tx.srem(this.#k('repo', r), ref);
    this.#writePods(tx, pod.cluster, [pod]);
    const pairsKey = this.#k('pairs', pod.cluster);
    for (const [pair, info] of oldM.pairs) {
      if (!newM.pairs.has(pair)) this.#decrementPair(tx, pod.cluster, pairsKey, pair, info.digest, now);
    }
    for (const [pair, info] of newM.pairs) {
      if (!oldM.pairs.has(pair)) {
        tx.hincrby(pairsKey, pair, 1);
        this.#markFirst(tx, pod.cluster, pod.environment, pair, info, now);
        this.#markLast(tx, pod.cluster, pair, info.digest, now);
      }
    }
    await exec(tx);
  }

  async removePod(cluster: string, namespace: string, name: string, at: Date): Promise<void> {
    const podsKey = this.#k('pods', cluster);
    const key = podKey({ namespace, name });
    const oldJson = await this.#redis.hget(podsKey, key);
    if (!oldJson) return;
    const oldPod = JSON.parse(oldJson) as PodRecord;
    const m = memberships([oldPod]);
    const tx = this.#redis.pipeline();
    const ref = `${cluster}|${key}`;
    for (const d of m.digests) tx.srem(this.#k('digest', d), ref);
    for (const r of m.repos) tx.srem(this.#k('repo', r), ref);
    tx.hdel(podsKey, key);
    const pairsKey = this.#k('pairs', cluster);
    for (const [pair, info] of m.pairs)
      this.#decrementPair(tx, cluster, pairsKey, pair, info.digest, at.toISOString());
    await exec(tx);
  }

  async recordSync(sync: ClusterSync): Promise<void> {
    const key = this.#k('sync');
    const prev = await this.#redis.hget(key, sync.cluster);
    const state: ClusterSyncState = prev
      ? (JSON.parse(prev) as ClusterSyncState)
      : { cluster: sync.cluster, environment: sync.environment, state: 'never' };
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

  /** Every configured cluster's sync health, including ones never synced, in configuration order. */
  async syncStates(): Promise<ClusterSyncState[]> {
    const stored = await this.#redis.hgetall(this.#k('sync'));
    const out: ClusterSyncState[] = [];
    const seen = new Set<string>();
    for (const c of this.#config.clusters) {
      seen.add(c.name);
      const s = stored[c.name];
      out.push(
        s
          ? (JSON.parse(s) as ClusterSyncState)
          : { cluster: c.name, environment: c.environment, state: 'never' },
      );
    }
    for (const [name, s] of Object.entries(stored))
      if (!seen.has(name)) out.push(JSON.parse(s) as ClusterSyncState);
    return out;
  }

  /** Pods currently running a digest, each with only the containers that run it. */
  async podsRunningDigest(digest: string): Promise<PodRecord[]> {
    const refs = await this.#redis.smembers(this.#k('digest', digest));
    const pods = await this.#fetchPods(refs);
    return pods.map((p) => ({ ...p, containers: p.containers.filter((c) => c.digest === digest) }));
  }

  /** Pods currently running any image of a repository (optionally one tag), with only those containers. */
  async podsRunningRepository(repository: string, tag?: string): Promise<PodRecord[]> {
    const refs = await this.#redis.smembers(this.#k('repo', repository));
    const pods = await this.#fetchPods(refs);
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
  async digestHistory(digest: string, now: Date): Promise<HistoryEntry[]> {
    const [first, last] = await Promise.all([
      this.#redis.hgetall(this.#k('dfirst', digest)),
      this.#redis.hgetall(this.#k('dlast', digest)),
    ]);
    const fields = Object.keys(first).map((field) => {
      const [cluster, namespace, wl] = field.split('|') as [string, string, string];
      return { field, cluster, namespace, wl };
    });
    const tx = this.#redis.pipeline();
    for (const f of fields) tx.hget(this.#k('pairs', f.cluster), `${f.namespace}|${f.wl}|${digest}`);
    const counts = fields.length ? await exec(tx) : [];
    const entries: HistoryEntry[] = [];
    fields.forEach((f, i) => {
      const running = Number(counts[i] ?? 0) > 0;
      const e = historyEntry(
        f.cluster,
        f.namespace,
        f.wl,
        digest,
        first[f.field] ?? '',
        last[f.field],
        running,
      );
      if (this.#withinWindow(e, now)) entries.push(e);
    });
    return entries;
  }

  /** Pods running now in a cluster, optionally narrowed to a namespace. */
  async podsInCluster(cluster: string, namespace?: string): Promise<PodRecord[]> {
    if (namespace === undefined) {
      return Object.values(await this.#redis.hgetall(this.#k('pods', cluster))).map(
        (j) => JSON.parse(j) as PodRecord,
      );
    }
    const out: PodRecord[] = [];
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
      for (let i = 1; i < kv.length; i += 2) out.push(JSON.parse(kv[i] as string) as PodRecord);
    } while (cursor !== '0');
    return out;
  }

  /** What workloads of a cluster ran, digest by digest (within the look-back window). */
  async workloadHistory(cluster: string, now: Date, namespace?: string): Promise<HistoryEntry[]> {
    const [first, last, pairs] = await Promise.all([
      this.#redis.hgetall(this.#k('wfirst', cluster)),
      this.#redis.hgetall(this.#k('wlast', cluster)),
      this.#redis.hgetall(this.#k('pairs', cluster)),
    ]);
    const out: HistoryEntry[] = [];
    for (const [field, value] of Object.entries(first)) {
      const [ns, wl, digest] = field.split('|') as [string, string, string];
      if (namespace !== undefined && ns !== namespace) continue;
      const e = historyEntry(cluster, ns, wl, digest, value, last[field], Number(pairs[field] ?? 0) > 0);
      if (this.#withinWindow(e, now)) out.push(e);
    }
    return out;
  }

  #withinWindow(e: HistoryEntry, now: Date): boolean {
    if (e.running) return true;
    const last = Date.parse(e.lastSeen ?? e.firstSeen);
    return now.getTime() - last <= this.#ttl * 1000;
  }

  async #fetchPods(refs: string[]): Promise<PodRecord[]> {
    const byCluster = new Map<string, string[]>();
    for (const ref of refs) {
      const i = ref.indexOf('|');
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
    for (const r of results)
      for (const j of r as (string | null)[]) if (j) pods.push(JSON.parse(j) as PodRecord);
    return pods;
  }

  #writePods(tx: ChainableCommander, cluster: string, pods: readonly PodRecord[]): void {
    const podsKey = this.#k('pods', cluster);
    const fields: string[] = [];
    for (const p of pods) {
      fields.push(podKey(p), JSON.stringify(p));
      const ref = `${cluster}|${podKey(p)}`;
      for (const c of p.containers) {
        if (c.digest) {
          tx.sadd(this.#k('digest', c.digest), ref);
          tx.zadd(this.#k('digests'), 0, c.digest);
        }
        if (c.repository) tx.sadd(this.#k('repo', c.repository), ref);
      }
      if (fields.length >= 2000) tx.hset(podsKey, ...fields.splice(0));
    }
    if (fields.length) tx.hset(podsKey, ...fields);
  }

  #markFirst(
    tx: ChainableCommander,
    cluster: string,
    environment: string,
    pair: string,
    info: { digest: string; image: string; since: string },
    now: string,
  ): void {
    const [ns, wl] = pair.split('|') as [string, string];
    const since = info.since && info.since < now ? info.since : now;
    const value = `${since.padEnd(24, ' ')}\t${info.image}\t${environment}`;
    const cmd = tx as unknown as { scopeSetEarliest: (...a: (string | number)[]) => void };
    cmd.scopeSetEarliest(this.#k('dfirst', info.digest), this.#ttl, `${cluster}|${ns}|${wl}`, value);
    cmd.scopeSetEarliest(this.#k('wfirst', cluster), this.#ttl, pair, value);
  }

  #markLast(tx: ChainableCommander, cluster: string, pair: string, digest: string, now: string): void {
    const [ns, wl] = pair.split('|') as [string, string];
    tx.hset(this.#k('dlast', digest), `${cluster}|${ns}|${wl}`, now);
    tx.expire(this.#k('dlast', digest), this.#ttl);
    tx.hset(this.#k('wlast', cluster), pair, now);
    tx.expire(this.#k('wlast', cluster), this.#ttl);
  }

  #decrementPair(
    tx: ChainableCommander,
    cluster: string,
    pairsKey: string,
    pair: string,
    digest: string,
    now: string,
  ): void {
    tx.hincrby(pairsKey, pair, -1);
    this.#markLast(tx, cluster, pair, digest, now);
  }
}

function historyEntry(
  cluster: string,
  namespace: string,
  wl: string,
  digest: string,
  firstValue: string,
  lastValue: string | undefined,
  running: boolean,
): HistoryEntry {
  const [since = '', image = '', environment = 'unknown'] = firstValue.split('\t');
  const slash = wl.indexOf('/');
  return {
    cluster,
    environment,
    namespace,
    workload: { kind: wl.slice(0, slash), name: wl.slice(slash + 1) },
    digest,
    image,
    firstSeen: since.trim(),
    ...(lastValue ? { lastSeen: lastValue } : {}),
    running,
  };
}

/** (workload, digest) pairs of a set of pods with the earliest start, and the digests and repositories they touch. */
function memberships(pods: readonly PodRecord[]): Membership {
  const m: Membership = { digests: new Set(), repos: new Set(), pairs: new Map() };
  for (const p of pods) {
    for (const c of p.containers) {
      if (c.repository) m.repos.add(c.repository);
      if (!c.digest) continue;
      m.digests.add(c.digest);
      const pair = `${workloadKey(p)}|${c.digest}`;
      const since = c.startedAt ?? p.startTime ?? '';
      const prev = m.pairs.get(pair);
      if (!prev || (since && since < prev.since))
        m.pairs.set(pair, { digest: c.digest, image: c.image, since });
    }
  }
  return m;
}

function pairCounts(pods: readonly PodRecord[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const p of pods) {
    const seen = new Set<string>();
    for (const c of p.containers) {
      if (!c.digest) continue;
      const pair = `${workloadKey(p)}|${c.digest}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}

function addTo(into: Map<string, Set<string>>, key: string, value: string): void {
  const set = into.get(key);
  if (set) set.add(value);
  else into.set(key, new Set([value]));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function exec(tx: ChainableCommander): Promise<unknown[]> {
  const res = (await tx.exec()) ?? [];
  const out: unknown[] = [];
  for (const [err, value] of res) {
    if (err) throw err;
    out.push(value);
  }
  return out;
}
