import type { AuditEvent } from './event.ts';
import {
  CATEGORY_LABEL,
  CATEGORY_SEVERITY,
  callKey,
  isAwsService,
  isDenied,
  networkOf,
  type RiskCategory,
  riskOf,
  SEVERITY_ORDER,
  type Severity,
  userAgentFamily,
} from './rules.ts';

export type { Severity } from './rules.ts';

export type Evidence = {
  /** Up to 20 event ids, oldest first; `count` says how many there were in all. */
  eventIds: string[];
  count: number;
  first: number;
  last: number;
  /** Rule-specific facts (the new region, the address, the call…). */
  details: Record<string, string | number>;
};

export type Finding = {
  rule:
    | 'new-region'
    | 'new-network'
    | 'new-user-agent'
    | 'new-call'
    | 'unusual-hours'
    | 'volume-spike'
    | 'denied-burst'
    | 'high-risk-call';
  severity: Severity;
  title: string;
  /** Why it was flagged, in terms of the baseline. */
  why: string;
  evidence: Evidence;
};

export type Credentials = {
  /** Access keys the principal signed with in the window (long-term AKIA or session ASIA). */
  used: { accessKeyId: string; events: number; first: number; last: number; sourceIps: string[] }[];
  /** Keys it created, possibly for other users: candidates for deactivation. */
  created: { user: string; accessKeyId: string; eventId: string; time: number }[];
  /** Roles it assumed (role chaining) and the temporary keys issued. */
  rolesAssumed: { roleArn: string; accessKeyId?: string; eventId: string; time: number }[];
  /** Sessions of an audited role that started in the window (who obtained the role's credentials). */
  sessions: { sessionName: string; accessKeyId?: string; eventId: string; time: number; sourceIp?: string }[];
};

export type Analysis = {
  findings: Finding[];
  credentials: Credentials;
  window: { events: number; regions: Record<string, number>; calls: number; denied: number };
  baseline: { events: number };
  notes: string[];
};

export type AnalysisOptions = {
  since: number;
  until: number;
  baselineStart: number;
  /** Below this many baseline events, comparisons with the baseline are not made (default 10). */
  minBaseline?: number;
};

const HOUR = 3_600_000;
const MAX_IDS = 20;
const DENIED_BURST = 3;
const DENIED_SPAN = 10 * 60_000;

class Group {
  ids: string[] = [];
  count = 0;
  first = Number.POSITIVE_INFINITY;
  last = 0;
  writes = 0;
  add(e: AuditEvent): void {
    if (this.ids.length < MAX_IDS) this.ids.push(e.id);
    this.count += 1;
    if (e.time < this.first) this.first = e.time;
    if (e.time > this.last) this.last = e.time;
    if (e.readOnly === false) this.writes += 1;
  }
  evidence(details: Record<string, string | number> = {}): Evidence {
    return { eventIds: this.ids, count: this.count, first: this.first, last: this.last, details };
  }
}

function groupBy(
  events: readonly AuditEvent[],
  key: (e: AuditEvent) => string | undefined,
): Map<string, Group> {
  const m = new Map<string, Group>();
  for (const e of events) {
    const k = key(e);
    if (k === undefined) continue;
    let g = m.get(k);
    if (!g) {
      g = new Group();
      m.set(k, g);
    }
    g.add(e);
  }
  return m;
}

/**
 * Compares the principal's activity in the incident window with its baseline and explains what is unusual.
 * Pure: events in, findings out, highest severity first. Only events the principal made (`relation: actor`)
 * describe its behaviour; session starts feed the credentials list.
 */
export function analyse(all: readonly AuditEvent[], opts: AnalysisOptions): Analysis {
  const events = [...all].sort((a, b) => a.time - b.time);
  const win: AuditEvent[] = [];
  const base: AuditEvent[] = [];
  const sessions: Credentials['sessions'] = [];
  for (const e of events) {
    if (e.relation === 'session-start') {
      if (e.time >= opts.since && e.time <= opts.until) {
        sessions.push({
          sessionName: e.assumedRole?.sessionName ?? 'unknown',
          ...(e.assumedRole?.accessKeyId ? { accessKeyId: e.assumedRole.accessKeyId } : {}),
          eventId: e.id,
          time: e.time,
          ...(e.sourceIp ? { sourceIp: e.sourceIp } : {}),
        });
      }
      continue;
    }
    if (e.time >= opts.since && e.time <= opts.until) win.push(e);
    else if (e.time >= opts.baselineStart && e.time < opts.since) base.push(e);
  }
  const notes: string[] = [];
  const findings: Finding[] = [];
  const hasBaseline = base.length >= (opts.minBaseline ?? 10);
  if (!hasBaseline) {
    notes.push(
      `Only ${base.length} events in the baseline: new regions, addresses, user agents, calls, hours and volume are not compared.`,
    );
  }
  const baseCalls = new Set(base.map(callKey));
  const baseCallRegions = new Set(base.map((e) => `${callKey(e)}@${e.region}`));

  // Built-in high-risk calls: always for logging changes, otherwise when this call in this region is new.
  const risky = groupBy(win, (e) => {
    const cat = riskOf(e);
    if (!cat) return undefined;
    if (cat !== 'logging-change' && hasBaseline && baseCallRegions.has(`${callKey(e)}@${e.region}`))
      return undefined;
    return `${cat}|${callKey(e)}|${isDenied(e) ? 'denied' : 'ok'}`;
  });
  const riskyCalls = new Set<string>();
  for (const [k, g] of risky) {
    const [cat, call, outcome] = k.split('|') as [RiskCategory, string, string];
    riskyCalls.add(call);
    const name = call.split(':')[1] ?? call;
    const denied = outcome === 'denied';
    const sev = denied ? lower(CATEGORY_SEVERITY[cat]) : CATEGORY_SEVERITY[cat];
    const regions = unique(win.filter((e) => callKey(e) === call).map((e) => e.region));
    findings.push({
      rule: 'high-risk-call',
      severity: sev,
      title: `${name} ${denied ? 'attempted (denied)' : `×${g.count}`}: ${CATEGORY_LABEL[cat]}`,
      why:
        cat === 'logging-change'
          ? 'Changes to audit logging are always flagged: they blind the investigation.'
          : `${name} is on the high-risk list (${CATEGORY_LABEL[cat]}) and was never made in ${regions.join(', ')} in the baseline.`,
      evidence: g.evidence({ call, category: cat, regions: regions.join(', ') }),
    });
  }

  if (hasBaseline) {
    const baseRegions = new Set(base.map((e) => e.region));
    for (const [region, g] of groupBy(win, (e) => (baseRegions.has(e.region) ? undefined : e.region))) {
      findings.push({
        rule: 'new-region',
        severity: g.writes > 0 ? 'high' : 'medium',
        title: `Activity in a new region: ${region} (${g.count} events, ${g.writes} writes)`,
        why: `No activity in ${region} in the baseline (${[...baseRegions].sort().join(', ') || 'none'}).`,
        evidence: g.evidence({ region, writes: g.writes }),
      });
    }
    const baseNets = new Set(base.filter((e) => !isAwsService(e.sourceIp)).map((e) => networkOf(e.sourceIp)));
    for (const [net, g] of groupBy(win, (e) =>
      isAwsService(e.sourceIp) || baseNets.has(networkOf(e.sourceIp)) ? undefined : networkOf(e.sourceIp),
    )) {
      const ips = unique(win.filter((e) => networkOf(e.sourceIp) === net).map((e) => e.sourceIp ?? ''));
      findings.push({
        rule: 'new-network',
        severity: g.writes > 0 ? 'high' : 'medium',
        title: `Calls from a new network ${net} (${ips.slice(0, 3).join(', ')}): ${g.count} events`,
        why: `The baseline saw ${baseNets.size} source network(s), never this one.`,
        evidence: g.evidence({ network: net, addresses: ips.join(', ') }),
      });
    }
    const baseFamilies = new Set(base.map((e) => userAgentFamily(e.userAgent)));
    for (const [family, g] of groupBy(win, (e) => {
      const f = userAgentFamily(e.userAgent);
      return baseFamilies.has(f) ? undefined : f;
    })) {
      const sample = win.find((e) => userAgentFamily(e.userAgent) === family)?.userAgent ?? '';
      findings.push({
        rule: 'new-user-agent',
        severity: 'medium',
        title: `A new client: ${family} (${g.count} events)`,
        why: `The baseline used ${[...baseFamilies].sort().join(', ')}; never ${family}.`,
        evidence: g.evidence({ family, userAgent: sample.slice(0, 160) }),
      });
    }
    const newCalls = groupBy(win, (e) => {
      const k = callKey(e);
      return baseCalls.has(k) || riskyCalls.has(k) ? undefined : k;
    });
    const reads = new Group();
    const readNames: string[] = [];
    for (const [call, g] of newCalls) {
      if (g.writes > 0) {
        findings.push({
          rule: 'new-call',
          severity: 'medium',
          title: `A write call never made before: ${call.split(':')[1]} ×${g.count}`,
          why: `${call} does not occur in the baseline; writes weigh more than reads.`,
          evidence: g.evidence({ call }),
        });
      } else {
        readNames.push(`${call.split(':')[1]} ×${g.count}`);
        for (const e of win) if (callKey(e) === call) reads.add(e);
      }
    }
    if (reads.count > 0) {
      findings.push({
        rule: 'new-call',
        severity: 'low',
        title: `${readNames.length} read call(s) never made before: ${readNames.slice(0, 6).join(', ')}`,
        why: 'These read-only calls do not occur in the baseline (reconnaissance looks like this).',
        evidence: reads.evidence({ calls: readNames.join(', ') }),
      });
    }
    unusualHours(win, base, findings);
    volumeSpike(win, base, opts, findings);
  }
  deniedBursts(win, base, opts, findings);

  findings.sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.evidence.first - b.evidence.first,
  );
  const regions: Record<string, number> = {};
  for (const e of win) regions[e.region] = (regions[e.region] ?? 0) + 1;
  return {
    findings,
    credentials: credentials(win, sessions),
    window: {
      events: win.length,
      regions,
      calls: new Set(win.map(callKey)).size,
      denied: win.filter(isDenied).length,
    },
    baseline: { events: base.length },
    notes,
  };
}

function unusualHours(win: AuditEvent[], base: AuditEvent[], out: Finding[]): void {
  if (base.length < 20) return;
  const usual = new Set<number>();
  for (const e of base) {
    const h = new Date(e.time).getUTCHours();
    usual
      .add((h + 23) % 24)
      .add(h)
      .add((h + 1) % 24);
  }
  if (usual.size >= 24) return;
  const g = groupBy(win, (e) => (usual.has(new Date(e.time).getUTCHours()) ? undefined : 'x')).get('x');
  if (!g) return;
  const hours = unique(
    win
      .filter((e) => !usual.has(new Date(e.time).getUTCHours()))
      .map((e) => `${String(new Date(e.time).getUTCHours()).padStart(2, '0')}:00`),
  );
  out.push({
    rule: 'unusual-hours',
    severity: g.writes > 0 ? 'medium' : 'low',
    title: `${g.count} events outside the usual hours (${hours.join(', ')} UTC)`,
    why: 'The baseline has no activity within an hour of these times of day (UTC).',
    evidence: g.evidence({ hours: hours.join(', ') }),
  });
}

function volumeSpike(win: AuditEvent[], base: AuditEvent[], opts: AnalysisOptions, out: Finding[]): void {
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

function deniedBursts(win: AuditEvent[], base: AuditEvent[], opts: AnalysisOptions, out: Finding[]): void {
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

function credentials(win: AuditEvent[], sessions: Credentials['sessions']): Credentials {
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

function lower(s: Severity): Severity {
  return s === 'critical' ? 'high' : s === 'high' ? 'medium' : 'low';
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}
