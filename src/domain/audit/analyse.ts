import { credentials, deniedBursts, unusualHours, volumeSpike } from './behaviour.ts';
import type { AuditEvent } from './event.ts';
import { Group, groupBy, unique } from './evidence.ts';
import type { Analysis, AnalysisOptions, Credentials, Finding } from './findings.ts';
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

export type { Analysis, AnalysisOptions, Credentials, Evidence, Finding } from './findings.ts';
export type { Severity } from './rules.ts';

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
  const risky = groupBy(
    win,
    (e) => {
      const cat = riskOf(e);
      if (!cat) return undefined;
      if (cat !== 'logging-change' && hasBaseline && baseCallRegions.has(`${callKey(e)}@${e.region}`))
        return undefined;
      return `${cat}|${callKey(e)}|${isDenied(e) ? 'denied' : 'ok'}`;
    },
    (e) => e.region,
  );
  const riskyCalls = new Set<string>();
  for (const [k, g] of risky) {
    const [cat, call, outcome] = k.split('|') as [RiskCategory, string, string];
    riskyCalls.add(call);
    const name = call.split(':')[1] ?? call;
    const denied = outcome === 'denied';
    const sev = denied ? lower(CATEGORY_SEVERITY[cat]) : CATEGORY_SEVERITY[cat];
    const regions = unique([...g.values]);
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
    for (const [net, g] of groupBy(
      win,
      (e) =>
        isAwsService(e.sourceIp) || baseNets.has(networkOf(e.sourceIp)) ? undefined : networkOf(e.sourceIp),
      (e) => e.sourceIp,
    )) {
      const ips = unique([...g.values]);
      findings.push({
        rule: 'new-network',
        severity: g.writes > 0 ? 'high' : 'medium',
        title: `Calls from a new network ${net} (${ips.slice(0, 3).join(', ')}): ${g.count} events`,
        why: `The baseline saw ${baseNets.size} source network(s), never this one.`,
        evidence: g.evidence({ network: net, addresses: ips.join(', ') }),
      });
    }
    const baseFamilies = new Set(base.map((e) => userAgentFamily(e.userAgent)));
    for (const [family, g] of groupBy(
      win,
      (e) => {
        const f = userAgentFamily(e.userAgent);
        return baseFamilies.has(f) ? undefined : f;
      },
      (e) => e.userAgent,
    )) {
      const sample = [...g.values][0] ?? '';
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
    const readCalls = new Set<string>();
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
        readCalls.add(call);
      }
    }
    if (readCalls.size > 0) for (const e of win) if (readCalls.has(callKey(e))) reads.add(e);
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

function lower(s: Severity): Severity {
  return s === 'critical' ? 'high' : s === 'high' ? 'medium' : 'low';
}
