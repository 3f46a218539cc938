import { hash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import {
  type DigestsStarted,
  type PodRecord,
  podKey,
  type StartObserver,
  workloadKey,
} from '../../domain/inventory/inventory.ts';
import { parsePodRecord } from '../../domain/inventory/record-guard.ts';
import { firstSeenValue } from './history.ts';

/**
 * The write side of the inventory index: per-pod diffs against the stored record, batched per call into one
 * pipeline. Every write goes through `writeChanged` (a page of a LIST, or one watch event) or `removeKeys`.
 *
 * Each pod's fingerprint (a short hash of its serialised record, so it covers every field, including ones
 * added later) is kept in `inv:fp:{cluster}`. A pod whose fingerprint has not changed costs one hash and one
 * HMGET field; only changed pods have their old record read back and diffed.
 */

/**
 * Short hash of a serialised PodRecord: 96 bits, enough to tell two versions of one pod apart. The one-shot
 * `crypto.hash` allocates no Hash object: 200,000 of those per re-sync held native memory until a major GC.
 */
export function fingerprint(json: string): string {
  return hash('sha1', json, 'base64').slice(0, 16);
}

/** (workload, digest) pair of a cluster: `ns|Kind/name|digest`. */
export type PairInfo = { digest: string; image: string; since: string; environment: string };

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

type Item = { key: string; pod: PodRecord; json: string; print: string };

/** Commands gathered for one pipeline, merged per key so a page costs one command per key touched. */
class Batch {
  readonly sadd = new Map<string, Set<string>>();
  readonly srem = new Map<string, Set<string>>();
  readonly digests = new Set<string>();
  readonly podFields: string[] = [];
  readonly fpFields: string[] = [];
  readonly podDeletes: string[] = [];
  readonly pairDelta = new Map<string, number>();
  readonly firsts = new Map<string, PairInfo>();
  readonly lasts = new Map<string, string>();

  add(into: Map<string, Set<string>>, key: string, member: string): void {
    const set = into.get(key);
    if (set) set.add(member);
    else into.set(key, new Set([member]));
  }

  delta(pair: string, by: number): void {
    this.pairDelta.set(pair, (this.pairDelta.get(pair) ?? 0) + by);
  }

  first(pair: string, info: PairInfo): void {
    const prev = this.firsts.get(pair);
    if (!prev || info.since < prev.since) this.firsts.set(pair, info);
  }
}

export class IndexWrites {
  readonly #redis: Redis;
  readonly #k: (...parts: string[]) => string;
  readonly #ttl: number;
  #observer: StartObserver | undefined;

  constructor(redis: Redis, k: (...parts: string[]) => string, ttlSeconds: number) {
    this.#redis = redis;
    this.#k = k;
    this.#ttl = ttlSeconds;
  }

  /** Sets the one observer told about digests that start (see `StartObserver`); `undefined` removes it. */
  observeStarts(observer: StartObserver | undefined): void {
    this.#observer = observer;
  }

  /**
   * Writes the pods whose fingerprint differs from the stored one (one HMGET for the whole batch); returns
   * how many were written. `seen`, when given, collects the pod keys (the mark of a re-list's mark and sweep).
   */
  async writeChanged(
    cluster: string,
    pods: readonly PodRecord[],
    at: Date,
    seen?: Set<string>,
  ): Promise<number> {
    const items: Item[] = [];
    for (const pod of pods) {
      const key = podKey(pod);
      if (seen) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      const json = JSON.stringify(pod);
      items.push({ key, pod, json, print: fingerprint(json) });
    }
    if (items.length === 0) return 0;
    const stored = await this.#redis.hmget(this.#k('fp', cluster), ...items.map((i) => i.key));
    const changed = items.filter((it, i) => stored[i] !== it.print);
    if (changed.length > 0) await this.#apply(cluster, changed, at);
    return changed.length;
  }

  async #apply(cluster: string, items: readonly Item[], at: Date): Promise<void> {
    const old = await this.#redis.hmget(this.#k('pods', cluster), ...items.map((i) => i.key));
    const now = at.toISOString();
    const b = new Batch();
    const started: DigestsStarted[] = [];
    items.forEach((it, i) => {
      const json = old[i];
      const before = json ? parsePodRecord(json) : undefined;
      const ref = `${cluster}|${it.key}`;
      const oldM = memberships(before);
      const newM = memberships(it.pod);
      if (this.#observer) {
        const fresh = [...newM.digests].filter((d) => !oldM.digests.has(d));
        if (fresh.length > 0) started.push({ pod: it.pod, digests: fresh });
      }
      for (const d of oldM.digests) if (!newM.digests.has(d)) b.add(b.srem, this.#k('digest', d), ref);
      for (const r of oldM.repos) if (!newM.repos.has(r)) b.add(b.srem, this.#k('repo', r), ref);
      for (const d of newM.digests) {
        b.add(b.sadd, this.#k('digest', d), ref);
        b.digests.add(d);
      }
      for (const r of newM.repos) b.add(b.sadd, this.#k('repo', r), ref);
      for (const [pair, info] of oldM.pairs) {
        if (newM.pairs.has(pair)) continue;
        b.delta(pair, -1);
        b.lasts.set(pair, info.digest);
      }
      for (const [pair, info] of newM.pairs) {
        if (oldM.pairs.has(pair)) continue;
        b.delta(pair, 1);
        b.first(pair, info);
        b.lasts.set(pair, info.digest);
      }
      b.podFields.push(it.key, it.json);
      b.fpFields.push(it.key, it.print);
    });
    // Before the write: if the observer fails, the old record stays and the start is reported again later.
    if (this.#observer && started.length > 0) await this.#observer(started);
    await this.#flush(cluster, b, now);
  }

  /** Removes pods by key, taking their references and pair counts with them. */
  async removeKeys(cluster: string, keys: readonly string[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    const old = await this.#redis.hmget(this.#k('pods', cluster), ...keys);
    const b = new Batch();
    keys.forEach((key, i) => {
      const json = old[i];
      b.podDeletes.push(key);
      const before = json ? parsePodRecord(json) : undefined;
      if (!before) return;
      const ref = `${cluster}|${key}`;
      const m = memberships(before);
      for (const d of m.digests) b.add(b.srem, this.#k('digest', d), ref);
      for (const r of m.repos) b.add(b.srem, this.#k('repo', r), ref);
      for (const [pair, info] of m.pairs) {
        b.delta(pair, -1);
        b.lasts.set(pair, info.digest);
      }
    });
    await this.#flush(cluster, b, at.toISOString());
  }

  /**
   * The sweep of a re-list: removes the pods the list did not see and fingerprints without a record, sets
   * every (workload, digest) pod count to what the list counted (self-healing), and renews the expiry of the
   * history of everything still running. Returns how many pods were removed.
   */
  async sweep(
    cluster: string,
    seen: ReadonlySet<string>,
    counts: ReadonlyMap<string, number>,
    at: Date,
  ): Promise<number> {
    const [podKeys, fpKeys] = await Promise.all([
      this.#redis.hkeys(this.#k('pods', cluster)),
      this.#redis.hkeys(this.#k('fp', cluster)),
    ]);
    const gone = podKeys.filter((k) => !seen.has(k));
    for (const part of chunks(gone, 500)) await this.removeKeys(cluster, part, at);
    const stored = new Set(podKeys);
    const orphans = fpKeys.filter((k) => !stored.has(k) || !seen.has(k));
    const tx = this.#redis.pipeline();
    for (const part of chunks(orphans, 1000)) tx.hdel(this.#k('fp', cluster), ...part);

    const pairsKey = this.#k('pairs', cluster);
    const pairs = await this.#redis.hgetall(pairsKey);
    const fix: string[] = [];
    const drop: string[] = [];
    const lasts: Array<[string, string]> = [];
    for (const [pair, value] of Object.entries(pairs)) {
      const want = counts.get(pair) ?? 0;
      if (want > 0) continue;
      drop.push(pair);
      if (Number(value) > 0) lasts.push([pair, pair.slice(pair.lastIndexOf('|') + 1)]);
    }
    for (const [pair, n] of counts) if (pairs[pair] !== String(n)) fix.push(pair, String(n));
    for (const part of chunks(drop, 1000)) tx.hdel(pairsKey, ...part);
    for (const part of chunks(fix, 2000)) tx.hset(pairsKey, ...part);
    this.#markLastMany(tx, cluster, lasts, at.toISOString());
    const digests = new Set<string>();
    for (const pair of counts.keys()) digests.add(pair.slice(pair.lastIndexOf('|') + 1));
    for (const d of digests) {
      tx.expire(this.#k('dfirst', d), this.#ttl);
      tx.expire(this.#k('dlast', d), this.#ttl);
    }
    tx.expire(this.#k('wfirst', cluster), this.#ttl);
    tx.expire(this.#k('wlast', cluster), this.#ttl);
    await exec(tx);
    return gone.length;
  }

  async #flush(cluster: string, b: Batch, now: string): Promise<void> {
    const tx = this.#redis.pipeline();
    const podsKey = this.#k('pods', cluster);
    for (const [key, refs] of b.srem) for (const part of chunks([...refs], 1000)) tx.srem(key, ...part);
    for (const [key, refs] of b.sadd) for (const part of chunks([...refs], 1000)) tx.sadd(key, ...part);
    for (const part of chunks([...b.digests], 1000))
      tx.zadd(this.#k('digests'), ...part.flatMap((d) => [0, d]));
    for (const part of chunks(b.podDeletes, 1000)) {
      tx.hdel(podsKey, ...part);
      tx.hdel(this.#k('fp', cluster), ...part);
    }
    for (const part of chunks(b.podFields, 2000)) tx.hset(podsKey, ...part);
    for (const part of chunks(b.fpFields, 2000)) tx.hset(this.#k('fp', cluster), ...part);
    const pairsKey = this.#k('pairs', cluster);
    for (const [pair, delta] of b.pairDelta) if (delta !== 0) tx.hincrby(pairsKey, pair, delta);
    this.#markFirstMany(tx, cluster, b.firsts, now);
    this.#markLastMany(tx, cluster, [...b.lasts], now);
    await exec(tx);
  }

  /** First-seen for many pairs of one cluster: one script call per history hash instead of one per pair. */
  #markFirstMany(
    tx: ChainableCommander,
    cluster: string,
    pairs: ReadonlyMap<string, PairInfo>,
    now: string,
  ): void {
    const byDigest = new Map<string, string[]>();
    const byCluster: string[] = [];
    for (const [pair, info] of pairs) {
      const [ns, wl] = pair.split('|') as [string, string];
      const since = ISO.test(info.since) && info.since < now ? info.since : now;
      const value = firstSeenValue(since, info.image, info.environment);
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
}

type Membership = { digests: Set<string>; repos: Set<string>; pairs: Map<string, PairInfo> };

/** The digests, repositories and (workload, digest) pairs of one pod, each pair with its earliest start. */
export function memberships(pod: PodRecord | undefined): Membership {
  const m: Membership = { digests: new Set(), repos: new Set(), pairs: new Map() };
  if (!pod) return m;
  const wk = workloadKey(pod);
  for (const c of pod.containers) {
    if (c.repository) m.repos.add(c.repository);
    if (!c.digest) continue;
    m.digests.add(c.digest);
    const pair = `${wk}|${c.digest}`;
    const since = c.startedAt ?? pod.startTime ?? '';
    const prev = m.pairs.get(pair);
    if (!prev || (since && since < prev.since))
      m.pairs.set(pair, { digest: c.digest, image: c.image, since, environment: pod.environment });
  }
  return m;
}

/** Adds one pod's (workload, digest) pairs to per-pair pod counts (a pod counts once per pair). */
export function countPairs(into: Map<string, number>, pod: PodRecord): void {
  const wk = workloadKey(pod);
  const seen = new Set<string>();
  for (const c of pod.containers) {
    if (!c.digest) continue;
    const pair = `${wk}|${c.digest}`;
    if (seen.has(pair)) continue;
    seen.add(pair);
    into.set(pair, (into.get(pair) ?? 0) + 1);
  }
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function exec(tx: ChainableCommander): Promise<unknown[]> {
  const res = (await tx.exec()) ?? [];
  const out: unknown[] = [];
  for (const [err, value] of res) {
    if (err) throw err;
    out.push(value);
  }
  return out;
}
