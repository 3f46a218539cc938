import type { AuditEvent } from '../../domain/audit/event.ts';

const COLUMNS = [
  'time',
  'event_id',
  'account',
  'region',
  'event_source',
  'event_name',
  'read_only',
  'error_code',
  'source_ip',
  'user_agent',
  'access_key_id',
  'actor_arn',
  'relation',
  'target',
] as const;

function row(e: AuditEvent): (string | number | boolean | undefined)[] {
  return [
    new Date(e.time).toISOString(),
    e.id,
    e.account,
    e.region,
    e.source,
    e.name,
    e.readOnly,
    e.errorCode,
    e.sourceIp,
    e.userAgent,
    e.accessKeyId,
    e.actorArn,
    e.relation,
    e.target,
  ];
}

/** CSV for spreadsheets: quoted where needed, and cells that a spreadsheet would run as a formula are defused. */
export function eventsCsv(events: readonly AuditEvent[]): string {
  const esc = (v: string | number | boolean | undefined) => {
    const s = v === undefined ? '' : String(v);
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [COLUMNS.join(','), ...events.map((e) => row(e).map(esc).join(','))].join('\n');
}

/** JSON lines, one event per line, with the same fields as the CSV (for jq and the incident record). */
export function eventsJsonl(events: readonly AuditEvent[]): string {
  return events.map((e) => JSON.stringify({ ...e, time: new Date(e.time).toISOString() })).join('\n');
}
