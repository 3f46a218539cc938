import type { AffectedPackage, AffectedRange, RangeEvent } from './model.ts';
import { orderFor, SEMVER, type VersionOrder } from './versions.ts';

/** Whether one package version is affected; `unknown` when the versions cannot be ordered (never "safe"). */
export type Verdict = 'affected' | 'not-affected' | 'unknown';

/**
 * OSV evaluation: a version is affected when it is listed in `versions`, or when in any range the last
 * event at or below it is an `introduced` (`fixed` excludes its own version, `last_affected` includes it).
 */
export function isAffected(pkg: AffectedPackage, version: string): Verdict {
  if (pkg.versions.includes(version)) return 'affected';
  let unknown = false;
  for (const range of pkg.ranges) {
    const order = range.type === 'SEMVER' ? SEMVER : orderFor(pkg.ecosystem);
    if (!order) {
      unknown = true;
      continue;
    }
    const v = inRange(range, version, order);
    if (v === 'affected') return 'affected';
    if (v === 'unknown') unknown = true;
  }
  if (!unknown && pkg.ranges.length === 0 && pkg.versions.length === 0) return 'unknown';
  return unknown ? 'unknown' : 'not-affected';
}

function inRange(range: AffectedRange, version: string, order: VersionOrder): Verdict {
  if (order.compare(version, version) === undefined) return 'unknown';
  const events: Array<{ kind: RangeEvent['kind']; version: string; c: number }> = [];
  for (const e of range.events) {
    // "0" is below every version.
    const c = e.version === '0' ? -1 : order.compare(e.version, version);
    if (c === undefined) return 'unknown';
    if (c <= 0) events.push({ ...e, c });
  }
  // Only the events at or below the version decide, taken in their own version order ("introduced"
  // before "fixed" at the same version, so a range that is fixed where it starts affects nothing).
  events.sort((x, y) => {
    const d = x.version === '0' ? -1 : y.version === '0' ? 1 : (order.compare(x.version, y.version) ?? 0);
    return d !== 0 ? d : x.kind === 'introduced' ? -1 : y.kind === 'introduced' ? 1 : 0;
  });
  let affected = false;
  for (const e of events) {
    if (e.kind === 'introduced') affected = true;
    else if (e.kind === 'fixed') affected = false;
    else if (e.c < 0) affected = false; // last_affected below the version; equal stays affected
  }
  return affected ? 'affected' : 'not-affected';
}
