import type { WorkloadRef } from '../../domain/inventory/inventory.ts';

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
export const SET_EARLIEST = `
for i = 2, #ARGV - 1, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if (not cur) or (string.sub(ARGV[i + 1], 1, 24) < string.sub(cur, 1, 24)) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** The first-seen value stored per pair: the time padded to 24 characters (so the script compares times), image, environment. */
export function firstSeenValue(since: string, image: string, environment: string): string {
  return `${since.padEnd(24, ' ')}\t${image}\t${environment}`;
}

// What scope writes: ISO-8601 UTC from Date#toISOString or the API server (second precision).
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * One history entry from its stored parts, or undefined when they are not what scope writes (Redis is a
 * trust boundary: a planted field or value is reported as unreadable, never shown as history).
 */
export function historyEntry(
  cluster: string,
  namespace: string | undefined,
  wl: string | undefined,
  digest: string | undefined,
  firstValue: string | undefined,
  lastValue: string | undefined,
  running: boolean,
): HistoryEntry | undefined {
  if (!namespace || !wl || !digest || !DIGEST.test(digest) || firstValue === undefined) return undefined;
  const slash = wl.indexOf('/');
  if (slash <= 0 || slash === wl.length - 1) return undefined;
  const parts = firstValue.split('\t');
  if (parts.length !== 3) return undefined;
  const [since = '', image = '', environment = ''] = parts;
  const firstSeen = since.trim();
  if (!ISO.test(firstSeen) || environment === '') return undefined;
  if (lastValue !== undefined && !ISO.test(lastValue)) return undefined;
  return {
    cluster,
    environment,
    namespace,
    workload: { kind: wl.slice(0, slash), name: wl.slice(slash + 1) },
    digest,
    image,
    firstSeen,
    ...(lastValue ? { lastSeen: lastValue } : {}),
    running,
  };
}
