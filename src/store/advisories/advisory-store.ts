import type { Redis } from 'ioredis';
import type { Finding, SignerCoverage } from '../../domain/advisories/match.ts';
import type { Advisory, ParseProblem } from '../../domain/advisories/model.ts';

/** Poll health and conditional-request validators of one feed. */
export type FeedState = {
  feed: string;
  etag?: string;
  lastModified?: string;
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  lastChangeAt?: string;
  lastError?: string;
  /** Consecutive failures; drives the back-off. */
  failures: number;
  nextAttemptAt?: string;
  records: number;
  problems: number;
  /** The first problems of the last read (source, record, why), for `/scope advisories`. */
  problemSamples: ParseProblem[];
};

/** The last match of one advisory against the fleet. */
export type MatchSummary = {
  id: string;
  fingerprint: string;
  current: number;
  past: number;
  total: number;
  /** Findings, capped at MAX_STORED_FINDINGS (total says how many there were). */
  findings: Finding[];
  /** Digests the advisory's signer identities could not be decided for (never verified, partly examined). */
  signers?: SignerCoverage;
  matchedAt: string;
};

/** A channel's subscription: every feed, or the named ones. */
export type Subscription = { channel: string; feeds: 'all' | string[]; by?: string; at: string };

export const MAX_STORED_FINDINGS = 50;

/**
 * Advisory state in Redis (under the configured prefix):
 *   adv:feed:{name}      hash  advisory id → Advisory JSON (the feed's current records)
 *   adv:feedstate        hash  feed name → FeedState JSON
 *   adv:matches          hash  advisory id → MatchSummary JSON (last rematch)
 *   adv:watch            hash  channel → Subscription JSON
 * Notification records and claims live in notification-store.ts.
 */
export class AdvisoryStore {
  readonly #redis: Redis;
  readonly #p: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#p = `${prefix}:adv`;
  }

  #k(...parts: string[]): string {
    return [this.#p, ...parts].join(':');
  }

  /** Replaces a feed's records atomically (readers see the old set or the new one, never half). */
  async replaceFeed(feed: string, advisories: readonly Advisory[]): Promise<void> {
    const key = this.#k('feed', feed);
    const tmp = `${key}:next`;
    const tx = this.#redis.multi();
    tx.del(tmp);
    for (let i = 0; i < advisories.length; i += 1000) {
      const part = advisories.slice(i, i + 1000).flatMap((a) => [a.id, JSON.stringify(a)]);
      tx.hset(tmp, ...part);
    }
    if (advisories.length) tx.rename(tmp, key);
    else tx.del(key);
    await tx.exec();
  }

  /** Every advisory of the given feeds; when two feeds carry one id, the first feed named wins. */
  async advisories(feeds: readonly string[]): Promise<Advisory[]> {
    const byId = new Map<string, Advisory>();
    for (const f of feeds) {
      const all = await this.#redis.hgetall(this.#k('feed', f));
      for (const json of Object.values(all)) {
        const a = parseJson<Advisory>(json);
        if (a && typeof a.id === 'string' && !byId.has(a.id)) byId.set(a.id, a);
      }
    }
    return [...byId.values()];
  }

  async advisory(feeds: readonly string[], id: string): Promise<Advisory | undefined> {
    for (const f of feeds) {
      const a = parseJson<Advisory>(await this.#redis.hget(this.#k('feed', f), id));
      if (a) return a;
    }
    return undefined;
  }

  async feedState(feed: string): Promise<FeedState> {
    return (
      parseJson<FeedState>(await this.#redis.hget(this.#k('feedstate'), feed)) ?? {
        feed,
        failures: 0,
        records: 0,
        problems: 0,
        problemSamples: [],
      }
    );
  }

  async feedStates(): Promise<FeedState[]> {
    const all = await this.#redis.hgetall(this.#k('feedstate'));
    return Object.values(all)
      .map((j) => parseJson<FeedState>(j))
      .filter((s): s is FeedState => !!s);
  }

  async saveFeedState(state: FeedState): Promise<void> {
    await this.#redis.hset(this.#k('feedstate'), state.feed, JSON.stringify(state));
  }

  /** Replaces every match summary with the result of one rematch. */
  async saveMatches(summaries: readonly MatchSummary[], at = new Date()): Promise<void> {
    const key = this.#k('matches');
    const tmp = `${key}:next`;
    const tx = this.#redis.multi();
    tx.del(tmp);
    for (let i = 0; i < summaries.length; i += 500) {
      tx.hset(tmp, ...summaries.slice(i, i + 500).flatMap((s) => [s.id, JSON.stringify(s)]));
    }
    if (summaries.length) tx.rename(tmp, key);
    else tx.del(key);
    tx.set(this.#k('matched-at'), at.toISOString());
    await tx.exec();
  }

  /** When the last re-match finished; undefined before the first one. */
  async matchedAt(): Promise<string | undefined> {
    return (await this.#redis.get(this.#k('matched-at'))) ?? undefined;
  }

  async matches(): Promise<MatchSummary[]> {
    return Object.values(await this.#redis.hgetall(this.#k('matches')))
      .map((j) => parseJson<MatchSummary>(j))
      .filter((s): s is MatchSummary => !!s);
  }

  async match(id: string): Promise<MatchSummary | undefined> {
    return parseJson<MatchSummary>(await this.#redis.hget(this.#k('matches'), id));
  }

  async watch(sub: Subscription): Promise<void> {
    await this.#redis.hset(this.#k('watch'), sub.channel, JSON.stringify(sub));
  }

  async unwatch(channel: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#k('watch'), channel)) > 0;
  }

  async subscriptions(): Promise<Subscription[]> {
    return Object.values(await this.#redis.hgetall(this.#k('watch')))
      .map((j) => parseJson<Subscription>(j))
      .filter((s): s is Subscription => !!s);
  }
}

/** Parses JSON read back from Redis; a corrupt value is treated as absent rather than crashing a job. */
export function parseJson<T>(json: string | null | undefined): T | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}
