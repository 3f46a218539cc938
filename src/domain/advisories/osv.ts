import {
  type Advisory,
  type AffectedPackage,
  type AffectedRange,
  type ParseOutcome,
  type ParseProblem,
  parseSeverity,
  type RangeEvent,
  recordLabel,
  type Severity,
} from './model.ts';
import { normaliseName } from './purl.ts';
import { ecosystemKey } from './versions.ts';

const ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,120}$/;
const MAX_ID = 128;

/**
 * Parses OSV records (one object, an array, or `{vulns: [...]}`) strictly: every record that is malformed
 * is reported with the reason and skipped; the others are kept.
 */
export function parseOsvDocument(doc: unknown, source: string): ParseOutcome {
  const records = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && Array.isArray((doc as { vulns?: unknown }).vulns)
      ? ((doc as { vulns: unknown[] }).vulns as unknown[])
      : [doc];
  const out: ParseOutcome = { advisories: [], problems: [] };
  records.forEach((r, i) => {
    const res = parseOsvRecord(r, source, `#${i + 1}`);
    if ('why' in res) out.problems.push(res);
    else out.advisories.push(res);
  });
  return out;
}

/** Parses one OSV record; returns the advisory or the problem. */
export function parseOsvRecord(raw: unknown, source: string, position = 'record'): Advisory | ParseProblem {
  const record = recordLabel(raw, position);
  const fail = (why: string): ParseProblem => ({ source, record, why });
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('not a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id.length > MAX_ID || !ID.test(r.id)) {
    return fail('missing or malformed "id" (expected e.g. GHSA-xxxx-xxxx-xxxx or MAL-2025-1234)');
  }
  for (const k of ['modified', 'published', 'withdrawn'] as const) {
    if (r[k] !== undefined && (typeof r[k] !== 'string' || Number.isNaN(Date.parse(r[k] as string)))) {
      return fail(`"${k}" is not an RFC 3339 timestamp`);
    }
  }
  if (r.affected !== undefined && !Array.isArray(r.affected)) return fail('"affected" is not an array');
  const notes: string[] = [];
  const packages: AffectedPackage[] = [];
  for (const [i, a] of ((r.affected as unknown[] | undefined) ?? []).entries()) {
    const res = parseAffected(a, notes);
    if (typeof res === 'string') return fail(`affected[${i}]: ${res}`);
    if (res) packages.push(res);
  }
  const aliases = stringArray(r.aliases);
  if (aliases === undefined) return fail('"aliases" is not an array of strings');
  const refs = Array.isArray(r.references) ? r.references : [];
  const references = refs
    .map((x) => (x && typeof x === 'object' ? (x as { url?: unknown }).url : undefined))
    .filter((u): u is string => typeof u === 'string' && /^https?:\/\//.test(u));
  const summary = typeof r.summary === 'string' ? r.summary.trim() : '';
  const details = typeof r.details === 'string' ? r.details.trim().split('\n')[0]?.slice(0, 200) : '';
  const advisory: Advisory = {
    id: r.id,
    source,
    kind: 'osv',
    title: (summary || details || r.id).slice(0, 300),
    severity: osvSeverity(r),
    references,
    aliases,
    packages,
    indicators: [],
    notes,
  };
  if (typeof r.modified === 'string') advisory.modified = r.modified;
  if (typeof r.published === 'string') advisory.published = r.published;
  if (typeof r.withdrawn === 'string') advisory.withdrawn = r.withdrawn;
  if (packages.length === 0 && !advisory.withdrawn) notes.push('no affected package scope can match');
  return advisory;
}

function parseAffected(a: unknown, notes: string[]): AffectedPackage | string | undefined {
  if (!a || typeof a !== 'object') return 'not an object';
  const x = a as Record<string, unknown>;
  const pkg = x.package as Record<string, unknown> | undefined;
  if (!pkg || typeof pkg !== 'object') {
    notes.push('an affected entry without "package" (e.g. a git-only range) was ignored');
    return undefined;
  }
  if (typeof pkg.ecosystem !== 'string' || !pkg.ecosystem.trim()) return 'package.ecosystem missing';
  if (typeof pkg.name !== 'string' || !pkg.name.trim()) return 'package.name missing';
  const ecosystemName = pkg.ecosystem.trim();
  const versions = stringArray(x.versions);
  if (versions === undefined) return '"versions" is not an array of strings';
  if (x.ranges !== undefined && !Array.isArray(x.ranges)) return '"ranges" is not an array';
  const ranges: AffectedRange[] = [];
  for (const [i, rg] of ((x.ranges as unknown[] | undefined) ?? []).entries()) {
    if (!rg || typeof rg !== 'object') return `ranges[${i}] is not an object`;
    const { type, events } = rg as { type?: unknown; events?: unknown };
    if (type === 'GIT') {
      notes.push(`GIT range of ${pkg.name} ignored (scope matches package versions, not commits)`);
      continue;
    }
    if (type !== 'SEMVER' && type !== 'ECOSYSTEM') return `ranges[${i}].type "${String(type)}" is unknown`;
    if (!Array.isArray(events) || events.length === 0) return `ranges[${i}].events is empty`;
    const parsed: RangeEvent[] = [];
    for (const e of events) {
      if (!e || typeof e !== 'object') return `ranges[${i}] has an event that is not an object`;
      const keys = Object.keys(e).filter((k) => k !== 'limit');
      if (keys.length !== 1)
        return `ranges[${i}] event must have exactly one of introduced/fixed/last_affected`;
      const kind = keys[0] as string;
      const version = (e as Record<string, unknown>)[kind];
      if (kind !== 'introduced' && kind !== 'fixed' && kind !== 'last_affected') {
        return `ranges[${i}] event "${kind}" is unknown`;
      }
      if (typeof version !== 'string' || !version.trim())
        return `ranges[${i}] ${kind} is not a version string`;
      parsed.push({ kind, version: version.trim() });
    }
    if (!parsed.some((e) => e.kind === 'introduced')) return `ranges[${i}] has no "introduced" event`;
    ranges.push({ type, events: parsed });
  }
  if (ranges.length === 0 && versions.length === 0) {
    notes.push(`${pkg.name}: no version range or list scope can evaluate`);
  }
  return {
    ecosystem: ecosystemKey(ecosystemName),
    ecosystemName,
    name: normaliseName(ecosystemName, pkg.name),
    ranges,
    versions,
  };
}

function stringArray(v: unknown): string[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return undefined;
  return v.map((s) => s.trim()).filter(Boolean);
}

function osvSeverity(r: Record<string, unknown>): Severity {
  const db = r.database_specific as Record<string, unknown> | undefined;
  const fromDb = parseSeverity(db?.severity);
  if (fromDb) return fromDb;
  if (typeof r.id === 'string' && r.id.startsWith('MAL-')) return 'critical';
  const sev = Array.isArray(r.severity) ? (r.severity as Array<{ score?: unknown }>) : [];
  for (const s of sev) {
    const named = parseSeverity(s.score);
    if (named) return named;
    const n = typeof s.score === 'string' ? Number(s.score) : Number.NaN;
    if (!Number.isNaN(n)) return n >= 9 ? 'critical' : n >= 7 ? 'high' : n >= 4 ? 'medium' : 'low';
  }
  return 'unknown';
}
