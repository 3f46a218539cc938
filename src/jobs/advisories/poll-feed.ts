import type { FeedConfig } from '../../adapters/feeds/config.ts';
import { readFeed } from '../../adapters/feeds/read-feed.ts';
import type { AdvisoryStore, FeedState } from '../../store/advisories/advisory-store.ts';
import type { AdvisoryPorts } from './matcher.ts';

export type PollOutcome =
  | { feed: string; status: 'updated'; records: number; problems: number }
  | { feed: string; status: 'unchanged' | 'disabled' }
  | { feed: string; status: 'backing-off'; until: string }
  | { feed: string; status: 'failed'; error: string; failures: number };

const MAX_BACKOFF_MS = 24 * 3600_000;
const PROBLEM_SAMPLES = 20;

/**
 * Polls one feed: conditional request (ETag / Last-Modified, or size+mtime for local files), strict parse,
 * atomic replace of the feed's records. After a failure the feed is skipped for interval × 2^(failures-1)
 * (capped at a day), so a broken upstream is not hammered; the next success resets it.
 */
export async function pollFeed(
  feedName: string,
  ports: Pick<AdvisoryPorts, 'config' | 'store' | 'log'>,
  now = new Date(),
  signal?: AbortSignal,
): Promise<PollOutcome> {
  const feed = ports.config.feeds.find((f) => f.name === feedName);
  if (!feed?.enabled) return { feed: feedName, status: 'disabled' };
  const state = await ports.store.feedState(feed.name);
  // 1 s tolerance: schedulers fire every interval, and a back-off of one interval must not skip a whole tick.
  if (state.nextAttemptAt && Date.parse(state.nextAttemptAt) - 1000 > now.getTime()) {
    return { feed: feed.name, status: 'backing-off', until: state.nextAttemptAt };
  }
  const attempt: FeedState = { ...state, lastAttemptAt: now.toISOString() };
  try {
    const read = await readFeed(
      feed,
      ports.config,
      {
        ...(state.etag ? { etag: state.etag } : {}),
        ...(state.lastModified ? { lastModified: state.lastModified } : {}),
      },
      signal,
    );
    const ok = clearFailure(attempt, now);
    if (read.unchanged) {
      await ports.store.saveFeedState(ok);
      return { feed: feed.name, status: 'unchanged' };
    }
    const { advisories, problems } = read.outcome;
    await ports.store.replaceFeed(feed.name, advisories);
    delete ok.etag;
    delete ok.lastModified;
    await ports.store.saveFeedState({
      ...ok,
      ...read.validators,
      lastChangeAt: now.toISOString(),
      records: advisories.length,
      problems: problems.length,
      problemSamples: problems.slice(0, PROBLEM_SAMPLES),
    });
    if (problems.length) {
      ports.log.warn(
        { feed: feed.name, problems: problems.length, first: problems.slice(0, 5) },
        'feed records skipped',
      );
    }
    ports.log.info(
      { feed: feed.name, records: advisories.length, problems: problems.length },
      'feed updated',
    );
    return { feed: feed.name, status: 'updated', records: advisories.length, problems: problems.length };
  } catch (err) {
    return recordFailure(feed, attempt, err, now, ports.store, ports.log);
  }
}

function clearFailure(s: FeedState, now: Date): FeedState {
  const out: FeedState = { ...s, failures: 0, lastSuccessAt: now.toISOString() };
  delete out.lastError;
  delete out.nextAttemptAt;
  return out;
}

async function recordFailure(
  feed: FeedConfig,
  s: FeedState,
  err: unknown,
  now: Date,
  store: AdvisoryStore,
  log: AdvisoryPorts['log'],
): Promise<PollOutcome> {
  const failures = s.failures + 1;
  const wait = Math.min(MAX_BACKOFF_MS, feed.intervalSeconds * 1000 * 2 ** Math.min(failures - 1, 10));
  const error = (err as Error).message?.slice(0, 300) ?? String(err);
  await store.saveFeedState({
    ...s,
    failures,
    lastError: error,
    nextAttemptAt: new Date(now.getTime() + wait).toISOString(),
  });
  log.warn(
    { feed: feed.name, failures, error, retryInSeconds: wait / 1000 },
    'feed poll failed; backing off',
  );
  return { feed: feed.name, status: 'failed', error, failures };
}
