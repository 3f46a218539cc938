import { createHash } from 'node:crypto';
import { type Finding, findingKey } from './match.ts';

/** Fingerprint of a match set: the same advisory and the same findings always give the same value. */
export function matchFingerprint(advisoryId: string, findings: readonly Finding[]): string {
  return fingerprintKeys(advisoryId, findings.map(findingKey).sort());
}

/** The same fingerprint from finding keys already sorted. */
export function fingerprintKeys(advisoryId: string, sortedKeys: readonly string[]): string {
  return createHash('sha256')
    .update(advisoryId)
    .update('\n')
    .update(sortedKeys.join('\n'))
    .digest('hex')
    .slice(0, 32);
}

/** What changed between two match sets, for the threaded note under an updated notification. */
export type MatchChange = { added: Finding[]; removed: string[] };

export function diffMatches(previousKeys: readonly string[], findings: readonly Finding[]): MatchChange {
  const before = new Set(previousKeys);
  const now = new Set(findings.map(findingKey));
  return {
    added: findings.filter((f) => !before.has(findingKey(f))),
    removed: previousKeys.filter((k) => !now.has(k)),
  };
}

/** Counts of workloads by exposure, for lists and summaries. */
export function exposureCounts(findings: readonly Finding[]): { current: number; past: number } {
  const cur = new Set<string>();
  const past = new Set<string>();
  for (const f of findings)
    (f.state === 'current' ? cur : past).add(`${f.cluster}|${f.namespace}|${f.workload}`);
  for (const k of cur) past.delete(k);
  return { current: cur.size, past: past.size };
}
