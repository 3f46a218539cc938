import type { AuditEvent } from './event.ts';
import { Group, groupBy, unique } from './evidence.ts';
import type { AnalysisOptions, Credentials, Finding } from './findings.ts';
import { callKey, isDenied } from './rules.ts';

const HOUR = 3_600_000;
const DENIED_BURST = 3;
const DENIED_SPAN = 10 * 60_000;

/** The UTC hour of day of an epoch-millisecond time (no Date allocation). */
function hourOf(ms: number): number {
  return Math.floor(ms / HOUR) % 24;
}

export function unusualHours(win: AuditEvent[], base: AuditEvent[], out: Finding[]): void {
  if (base.length < 20) return;
  const usual = new Set<number>();
  for (const e of base) {
    const h = hourOf(e.time);
    usual
      .add((h + 23) % 24)
      .add(h)
      .add((h + 1) % 24);
  }
  if (usual.size >= 24) return;
  const g = groupBy(win, (e) => (usual.has(hourOf(e.time)) ? undefined : 'x')).get('x');
  if (!g) return;
  const hours = unique(
    win.filter((e) => !usual.has(hourOf(e.time))).map((e) => `${String(hourOf(e.time)).padStart(2, '0')}:00`),
  );
  out.push({
    rule: 'unusual-hours',
    severity: g.writes > 0 ? 'medium' : 'low',
    title: `${g.count} events outside the usual hours (${hours.join(', ')} UTC)`,
    why: 'The baseline has no activity within an hour of these times of day (UTC).',
    evidence: g.evidence({ hours: hours.join(', ') }),
  });
}

export function volumeSpike(
  win: AuditEvent[],
  base: AuditEvent[],
  opts: AnalysisOptions,
  out: Finding[],
): void {
  const hourly = (list: AuditEvent[]) => groupBy(list, (e) => String(Math.floor(e.time / HOUR)));
  let baseMax = 0;
  for (const g of hourly(base).values()) baseMax = Math.max(baseMax, g.count);
  const limit = Math.max(3 * baseMax, baseMax + 20);
  for (const [hour, g] of hourly(win)) {
    if (g.count <= limit) continue;
    out.push({
      rule: 'volume-spike',
      severity: g.writes > g.count / 2 ? 'high' : 'medium',
      title: `Volume spike: ${g.count} events in the hour from ${new Date(Number(hour) * HOUR).toISOString().slice(0, 13)}:00Z`,
      why: `The busiest baseline hour had ${baseMax} events; this hour had more than ${limit}.`,
      evidence: g.evidence({ baselineMaxPerHour: baseMax }),
    });
  }
  const baseDays = Math.max(1, (opts.since - opts.baselineStart) / 86_400_000);
  const winDays = Math.max(1 / 24, (opts.until - opts.since) / 86_400_000);
  const baseRate = base.length / baseDays;
  const winRate = win.length / winDays;
  if (winRate > 3 * baseRate && win.length - baseRate * winDays > 100) {
    const g = new Group();
    for (const e of win) g.add(e);
    out.push({
      rule: 'volume-spike',
      severity: 'medium',
      title: `Volume ${Math.round(winRate / Math.max(baseRate, 1e-9))}× the baseline: ${Math.round(winRate)} events/day`,
      why: `The baseline averaged ${Math.round(baseRate)} events per day.`,
      evidence: g.evidence({ baselinePerDay: Math.round(baseRate), windowPerDay: Math.round(winRate) }),
    });
  }
}

export function deniedBursts(
  win: AuditEvent[],
  base: AuditEvent[],
  opts: AnalysisOptions,
  out: Finding[],
): void {
  const baseDenied = new Map<string, number>();
  for (const e of base) if (isDenied(e)) baseDenied.set(callKey(e), (baseDenied.get(callKey(e)) ?? 0) + 1);
  const baseDays = Math.max(1, (opts.since - opts.baselineStart) / 86_400_000);
  const byCall = new Map<string, AuditEvent[]>();
  for (const e of win) {
    if (!isDenied(e)) continue;
    const k = callKey(e);
    const list = byCall.get(k) ?? [];
    list.push(e);
    byCall.set(k, list);
  }
  for (const [call, list] of byCall) {
    // The densest run of denials of this call within DENIED_SPAN (two pointers over time-sorted events).
    let best = 0;
    let bestStart = 0;
    for (let i = 0, j = 0; j < list.length; j++) {
      while ((list[j] as AuditEvent).time - (list[i] as AuditEvent).time > DENIED_SPAN) i++;
      if (j - i + 1 > best) {
        best = j - i + 1;
        bestStart = i;
      }
    }
    if (best < DENIED_BURST) continue;
    const usualPerDay = (baseDenied.get(call) ?? 0) / baseDays;
    if (usualPerDay * 2 >= best) continue;
    const g = new Group();
    for (const e of list.slice(bestStart, bestStart + best)) g.add(e);
    out.push({
      rule: 'denied-burst',
      severity: best >= 5 ? 'high' : 'medium',
      title: `${best} denied ${call.split(':')[1]} calls within ${Math.max(1, Math.round((g.last - g.first) / 60_000))} min`,
      why: `A burst of AccessDenied on the same call betrays probing for permissions; the baseline averaged ${usualPerDay.toFixed(1)} such denials per day.`,
      evidence: g.evidence({
        call,
        errorCode: list[0]?.errorCode ?? 'AccessDenied',
        deniedInWindow: list.length,
      }),
    });
  }
}

export function credentials(win: AuditEvent[], sessions: Credentials['sessions']): Credentials {
  const used = new Map<string, Credentials['used'][number]>();
  const created: Credentials['created'] = [];
  const rolesAssumed: Credentials['rolesAssumed'] = [];
  for (const e of win) {
    if (e.accessKeyId) {
      const u = used.get(e.accessKeyId) ?? {
        accessKeyId: e.accessKeyId,
        events: 0,
        first: e.time,
        last: e.time,
        sourceIps: [],
      };
      u.events += 1;
      u.last = e.time;
      if (e.sourceIp && !u.sourceIps.includes(e.sourceIp) && u.sourceIps.length < 10)
        u.sourceIps.push(e.sourceIp);
      used.set(e.accessKeyId, u);
    }
    if (e.createdKey) created.push({ ...e.createdKey, eventId: e.id, time: e.time });
    if (e.assumedRole && !e.errorCode) {
      rolesAssumed.push({
        roleArn: e.assumedRole.roleArn,
        ...(e.assumedRole.accessKeyId ? { accessKeyId: e.assumedRole.accessKeyId } : {}),
        eventId: e.id,
        time: e.time,
      });
    }
  }
  return { used: [...used.values()].sort((a, b) => b.events - a.events), created, rolesAssumed, sessions };
}
