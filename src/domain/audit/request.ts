import { UserFacingError } from '../../errors.ts';
import { parsePrincipal } from './principal.ts';
import { auditWindow } from './window.ts';

/** `/scope audit` as typed: stored in the job as text and re-validated when the job runs. */
export type AuditRequest = {
  principal: string;
  since?: string;
  until?: string;
  regions?: string[];
};

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const FLAGS = ['since', 'until', 'regions'] as const;

/** Parses `<principal> [--since X] [--until Y] [--regions a,b]` (also `--since=X`); validates every part. */
export function parseAuditArgs(args: readonly string[], now = Date.now()): AuditRequest {
  const positional: string[] = [];
  const flags: Partial<Record<(typeof FLAGS)[number], string>> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const name = m[1] as (typeof FLAGS)[number];
    if (!(FLAGS as readonly string[]).includes(name)) {
      throw new UserFacingError(
        'BAD_INPUT',
        `unknown option --${name.slice(0, 20)}; use --since, --until or --regions.`,
      );
    }
    const value = m[2] ?? args[++i];
    if (value === undefined || value === '')
      throw new UserFacingError('BAD_INPUT', `--${name} needs a value.`);
    if (flags[name] !== undefined) throw new UserFacingError('BAD_INPUT', `--${name} is given twice.`);
    flags[name] = value;
  }
  if (positional.length !== 1) {
    throw new UserFacingError('BAD_INPUT', `name exactly one principal to audit (got ${positional.length}).`);
  }
  return validateAuditRequest(
    {
      principal: positional[0] as string,
      ...(flags.since ? { since: flags.since } : {}),
      ...(flags.until ? { until: flags.until } : {}),
      ...(flags.regions
        ? {
            regions: flags.regions
              .split(',')
              .map((r) => r.trim())
              .filter(Boolean),
          }
        : {}),
    },
    now,
  );
}

/** Checks a request (from the parser or from job data read back from Redis). */
export function validateAuditRequest(raw: unknown, now = Date.now()): AuditRequest {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof r.principal !== 'string')
    throw new UserFacingError('BAD_INPUT', 'the audit request names no principal.');
  parsePrincipal(r.principal);
  for (const k of ['since', 'until'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'string')
      throw new UserFacingError('BAD_INPUT', `--${k} must be text.`);
  }
  auditWindow(
    { ...(r.since ? { since: r.since as string } : {}), ...(r.until ? { until: r.until as string } : {}) },
    now,
  );
  let regions: string[] | undefined;
  if (r.regions !== undefined) {
    if (!Array.isArray(r.regions) || r.regions.length === 0 || r.regions.length > 30) {
      throw new UserFacingError('BAD_INPUT', '--regions takes 1 to 30 comma-separated regions.');
    }
    const bad = r.regions.find((x) => typeof x !== 'string' || !REGION.test(x));
    if (bad !== undefined)
      throw new UserFacingError(
        'BAD_INPUT',
        `"${String(bad).slice(0, 30)}" is not an AWS region (e.g. eu-west-1).`,
      );
    regions = [...new Set(r.regions as string[])];
  }
  return {
    principal: r.principal,
    ...(r.since ? { since: r.since as string } : {}),
    ...(r.until ? { until: r.until as string } : {}),
    ...(regions ? { regions } : {}),
  };
}

export function describeAuditRequest(r: AuditRequest): string {
  return [
    `audit ${r.principal}`,
    r.since ? `--since ${r.since}` : '',
    r.until ? `--until ${r.until}` : '',
    r.regions ? `--regions ${r.regions.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
