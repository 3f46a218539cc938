/**
 * Advisory model shared by feeds, matching, notifications and the CLI. Everything is plain JSON so
 * it can live in Redis and in `--json` output unchanged.
 */

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'unknown';

/** One OSV range event, already validated; `introduced: "0"` is kept as the string "0". */
export type RangeEvent = { kind: 'introduced' | 'fixed' | 'last_affected'; version: string };

/** An OSV range scope can evaluate (GIT ranges are dropped at parse time with a note). */
export type AffectedRange = { type: 'SEMVER' | 'ECOSYSTEM'; events: RangeEvent[] };

/** One affected package of an OSV record, name normalised per ecosystem (see purl.ts). */
export type AffectedPackage = {
  /** Ecosystem key: `npm`, `pypi`, `debian`… (`Debian:12` → `debian`; the release is in `ecosystemName`). */
  ecosystem: string;
  ecosystemName: string;
  name: string;
  ranges: AffectedRange[];
  /** Explicit affected versions (`affected[].versions`). */
  versions: string[];
};

/** A compromised thing that is not a package version: what IOC lists carry. */
export type Indicator =
  | { kind: 'image-digest'; digest: string }
  | { kind: 'image-repository'; repository: string }
  | { kind: 'image-tag'; repository: string; tag: string }
  | { kind: 'artifact-hash'; algorithm: 'sha256' | 'sha512'; hex: string }
  | { kind: 'signer-identity'; identity: string; issuer?: string };

/** An advisory from any feed: OSV records fill `packages`, IOC lists fill `indicators`. */
export type Advisory = {
  id: string;
  /** Name of the feed it came from. */
  source: string;
  kind: 'osv' | 'ioc';
  title: string;
  severity: Severity;
  references: string[];
  aliases: string[];
  modified?: string;
  published?: string;
  /** Set when the record was withdrawn: kept for display, never matched. */
  withdrawn?: string;
  packages: AffectedPackage[];
  indicators: Indicator[];
  /** What scope could not use from the record (e.g. "GIT range ignored"). */
  notes: string[];
};

/** A record that was skipped: which source, which record, and why. Never stops the rest of the feed. */
export type ParseProblem = { source: string; record: string; why: string };

export type ParseOutcome = { advisories: Advisory[]; problems: ParseProblem[] };

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'unknown'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(v: unknown): Severity | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'moderate') return 'medium';
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : undefined;
}

/** A safe, bounded label for a record in problem reports (its id if it has one). */
export function recordLabel(raw: unknown, fallback: string): string {
  if (raw && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'string' && raw.id.trim()) {
    return raw.id.trim().slice(0, 120);
  }
  return fallback;
}
