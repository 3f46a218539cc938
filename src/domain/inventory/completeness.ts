import type { ClusterSyncState } from '../../jobs/status.ts';

/**
 * How much of the fleet an answer rests on. `complete`: every configured cluster answered recently.
 * `partial`: some clusters did not answer (or only long ago), so "not running" holds only for the others.
 * `unknown`: no cluster answered, so scope cannot say anything about the fleet; never shown as an all-clear.
 */
export type Completeness = 'complete' | 'partial' | 'unknown';

/** A cluster whose answer may be incomplete: never synced, failing, or not synced recently. */
export type ClusterCaveat = {
  cluster: string;
  environment: string;
  state: ClusterSyncState['state'] | 'stale';
  lastSuccessAt?: string;
  lastAttemptAt?: string;
  lastError?: string;
};

/** The completeness of an answer and the clusters it counts: answered = synced and not stale. */
export type Coverage = { completeness: Completeness; clustersAnswered: number; clustersTotal: number };

const STALE_AFTER_MS = 2 * 3600 * 1000;

export function caveatsFor(states: readonly ClusterSyncState[], now: Date): ClusterCaveat[] {
  const out: ClusterCaveat[] = [];
  for (const s of states) {
    const base = {
      cluster: s.cluster,
      environment: s.environment,
      ...(s.lastSuccessAt ? { lastSuccessAt: s.lastSuccessAt } : {}),
      ...(s.lastAttemptAt && s.state !== 'ok' ? { lastAttemptAt: s.lastAttemptAt } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
    };
    if (s.state !== 'ok') out.push({ ...base, state: s.state });
    else if (s.lastSuccessAt && now.getTime() - Date.parse(s.lastSuccessAt) > STALE_AFTER_MS) {
      out.push({ ...base, state: 'stale' });
    }
  }
  return out;
}

/**
 * Completeness from the clusters the answer covers and their caveats. No cluster at all, or none that
 * ever answered, is `unknown`: an empty answer from nobody is not "not running".
 */
export function coverageOf(states: readonly ClusterSyncState[], caveats: readonly ClusterCaveat[]): Coverage {
  const total = states.length;
  const missing = new Set(caveats.map((c) => c.cluster));
  const answered = states.filter((s) => !missing.has(s.cluster)).length;
  const everAnswered = states.some((s) => s.state === 'ok');
  const completeness: Completeness =
    total === 0 || !everAnswered ? 'unknown' : answered === total ? 'complete' : 'partial';
  return { completeness, clustersAnswered: answered, clustersTotal: total };
}

/** Oldest successful sync among clusters that answered: the age of the data the answer rests on. */
export function dataAsOf(states: readonly ClusterSyncState[]): string | undefined {
  const times = states
    .filter((s) => s.state === 'ok' && s.lastSuccessAt)
    .map((s) => s.lastSuccessAt as string);
  return times.length ? times.sort()[0] : undefined;
}
