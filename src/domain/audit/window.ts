import { UserFacingError } from '../../errors.ts';

export const DAY_MS = 86_400_000;
/** CloudTrail's event history keeps 90 days. */
export const MAX_LOOKBACK_MS = 90 * DAY_MS;

/** The incident window and the baseline before it (all in ms since the epoch). */
export type AuditWindow = {
  since: number;
  until: number;
  baselineStart: number;
  /** Set when the baseline was cut short by the 90-day history. */
  baselineClamped: boolean;
};

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/** `24h`, `7d`, `90m`, `2w` (ago), or an ISO 8601 timestamp with a zone. */
export function parseWhen(text: string, now: number, flag: string): number {
  const d = /^(\d{1,5})([mhdw])$/.exec(text);
  if (d) return now - Number(d[1]) * (UNITS[d[2] as string] as number);
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  }
  throw new UserFacingError(
    'BAD_INPUT',
    `${flag} "${text.slice(0, 40)}" is neither a duration (24h, 7d, 90m, 2w) nor an ISO timestamp with a zone.`,
  );
}

/** Builds and checks the window: since < until ≤ now, inside CloudTrail's 90 days; baseline clamped to them. */
export function auditWindow(
  opts: { since?: string; until?: string; baselineDays?: number },
  now: number,
): AuditWindow {
  const until = opts.until === undefined ? now : parseWhen(opts.until, now, '--until');
  const since = opts.since === undefined ? until - DAY_MS : parseWhen(opts.since, now, '--since');
  if (since >= until) throw new UserFacingError('BAD_INPUT', '--since must be before --until.');
  if (until > now + 5 * 60_000) throw new UserFacingError('BAD_INPUT', '--until is in the future.');
  const oldest = now - MAX_LOOKBACK_MS;
  if (since < oldest) {
    throw new UserFacingError(
      'BAD_INPUT',
      'CloudTrail event history keeps 90 days: --since must be within them.',
    );
  }
  const wanted = since - (opts.baselineDays ?? 14) * DAY_MS;
  return { since, until, baselineStart: Math.max(wanted, oldest), baselineClamped: wanted < oldest };
}
