import type { Finding } from '../../domain/audit/analyse.ts';
import type { AuditEvent } from '../../domain/audit/event.ts';
import type { Severity } from '../../domain/audit/rules.ts';
import type { AuditProgress } from '../../domain/audit/source.ts';
import type { AuditReport } from '../../jobs/audit/audit-job.ts';
import { footer, type PresentContext } from '../footer.ts';
import { type Block, bold, code, lit, type Message, md, type Text, user } from '../message.ts';
import { eventsCsv, eventsJsonl } from './event-files.ts';

const ICON: Record<Severity, string> = { critical: '🔴', high: '🟠', medium: '🟡', low: '⚪' };
const SHOWN_FINDINGS = 12;
const SHOWN_EVENTS = 15;

/** The Bolt action id of the Cancel button on audit progress messages; its value is the job id. */
export const AUDIT_CANCEL_ACTION = 'audit_cancel';

function t(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function duration(ms: number): string {
  if (ms < 90_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Progress while an audit reads CloudTrail, with a Cancel button addressing the job. */
export function presentAuditProgress(
  principal: string,
  p: AuditProgress,
  jobId: string | undefined,
): Message {
  const eta = p.etaMs === undefined ? 'estimating time left' : `about ${duration(p.etaMs)} left`;
  const blocks: Block[] = [
    {
      kind: 'section',
      text: md`:hourglass_flowing_sand: Auditing ${code(principal)} in CloudTrail: ${p.pages} pages, ${p.events} events so far, ${p.throttles} throttled requests (retried) — ${eta}.`,
    },
  ];
  if (jobId) {
    blocks.push({
      kind: 'actions',
      buttons: [{ action: AUDIT_CANCEL_ACTION, label: 'Cancel audit', value: jobId, style: 'danger' }],
    });
  }
  return { summary: `Auditing ${principal}: ${p.pages} pages, ${p.events} events`, blocks };
}

/** What the progress message becomes when the audit is over (the result is posted separately). */
export function presentAuditFinished(principal: string, report: AuditReport): Message {
  const text =
    report.state === 'cancelled'
      ? md`:octagonal_sign: Audit of ${code(principal)} cancelled by ${user(report.by)}.`
      : md`:white_check_mark: Audit of ${code(principal)} finished: ${report.fetch.pages} pages, ${report.analysis.window.events} events in the window — results below.`;
  return {
    summary: `Audit of ${principal} ${report.state === 'cancelled' ? 'cancelled' : 'finished'}`,
    blocks: [{ kind: 'section', text }],
  };
}

export function presentAudit(report: AuditReport, ctx: PresentContext): Message {
  if (report.state === 'cancelled') {
    return {
      summary: `Audit of ${report.principal} cancelled`,
      blocks: [
        {
          kind: 'section',
          text: md`:octagonal_sign: Audit of ${code(report.principal)} cancelled by ${user(report.by)} after ${report.progress.pages} pages (${report.progress.events} events read). Nothing was analysed; no finding is implied.`,
        },
        { kind: 'context', text: footer(ctx) },
      ],
    };
  }
  const a = report.analysis;
  const failed = report.fetch.regions.filter((r) => r.error);
  const blocks: Block[] = [{ kind: 'header', text: `CloudTrail audit of ${report.principal}` }];
  blocks.push({
    kind: 'fields',
    fields: [
      {
        label: 'Window',
        value: md`${t(Date.parse(report.window.since))} → ${t(Date.parse(report.window.until))} UTC`,
      },
      {
        label: 'Baseline',
        value: md`from ${t(Date.parse(report.window.baselineStart))} (${a.baseline.events} events)`,
      },
      {
        label: 'Events in window',
        value: md`${a.window.events} (${a.window.denied} denied, ${a.window.calls} distinct calls)`,
      },
      {
        label: 'Regions',
        value: md`${
          Object.entries(a.window.regions)
            .map(([r, n]) => `${r}: ${n}`)
            .join(', ') || 'no activity'
        }`,
      },
      {
        label: 'Read',
        value: md`${report.fetch.pages} pages, ${report.fetch.throttles} throttled (retried)`,
      },
    ],
  });
  for (const r of failed) {
    blocks.push({
      kind: 'section',
      text: md`:warning: ${bold(`${r.account}/${r.region}`)} could not be read: ${r.error ?? ''}. Its activity is missing from this audit.`,
    });
  }
  if (a.findings.length === 0) {
    blocks.push({
      kind: 'section',
      text:
        failed.length > 0
          ? md`No findings in the regions that answered. The ${failed.length} region(s) above were not checked.`
          : a.baseline.events === 0
            ? md`No findings from the built-in high-risk list; with no baseline, nothing else could be compared.`
            : md`:white_check_mark: No findings: the window matches the baseline (regions, networks, clients, calls, hours, volume), with no high-risk calls or denied bursts.`,
    });
  } else {
    blocks.push({
      kind: 'section',
      text: md`${bold(`${a.findings.length} finding(s), highest severity first:`)}`,
    });
    blocks.push({ kind: 'list', items: a.findings.slice(0, SHOWN_FINDINGS).map(findingLine) });
    if (a.findings.length > SHOWN_FINDINGS) {
      blocks.push({
        kind: 'context',
        text: md`…and ${a.findings.length - SHOWN_FINDINGS} more (see --json in the CLI).`,
      });
    }
  }
  const cred = credentialLines(report);
  if (cred.length > 0) {
    blocks.push({ kind: 'section', text: md`${bold('Credentials to consider rotating:')}` });
    blocks.push({ kind: 'list', items: cred });
  }
  const relevant = relevantEvents(report);
  if (relevant.length > 0) {
    const first = report.events[0];
    const lastEv = report.events[report.events.length - 1];
    blocks.push({
      kind: 'section',
      text: md`${bold('Timeline:')} ${report.events.length} events from ${first ? t(first.time) : '—'} to ${lastEv ? t(lastEv.time) : '—'} UTC; the most relevant:`,
    });
    blocks.push({ kind: 'list', items: relevant.map(eventLine) });
  }
  for (const n of report.fetch.notes) blocks.push({ kind: 'context', text: md`${n}` });
  blocks.push({ kind: 'context', text: footer(ctx) });
  const base = `scope-audit-${report.principal.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60)}`;
  return {
    summary: `CloudTrail audit of ${report.principal}: ${a.findings.length} finding(s)${failed.length ? `, ${failed.length} region(s) unreadable` : ''}`,
    blocks,
    attachments: [
      {
        filename: `${base}.jsonl`,
        title: `CloudTrail events of ${report.principal} (JSON lines)`,
        content: eventsJsonl(report.events),
      },
      {
        filename: `${base}.csv`,
        title: `CloudTrail events of ${report.principal} (CSV)`,
        content: eventsCsv(report.events),
      },
    ],
  };
}

function findingLine(f: Finding): Text {
  const ids = f.evidence.eventIds.slice(0, 3);
  const more = f.evidence.count > ids.length ? ` +${f.evidence.count - ids.length}` : '';
  const span =
    f.evidence.first === f.evidence.last
      ? t(f.evidence.first)
      : `${t(f.evidence.first)} → ${t(f.evidence.last)}`;
  return [
    ...md`${ICON[f.severity]} ${bold(f.severity.toUpperCase())} ${f.title}\n    ${f.why}\n    ${f.evidence.count} event(s), ${span} UTC: `,
    ...ids.flatMap((id, i) => (i === 0 ? [code(id)] : [...lit(', '), code(id)])),
    ...lit(more),
  ];
}

function credentialLines(report: Extract<AuditReport, { state: 'done' }>): Text[] {
  const c = report.analysis.credentials;
  const out: Text[] = [];
  for (const k of c.created) {
    out.push(
      md`Access key ${code(k.accessKeyId)} created for user ${bold(k.user)} at ${t(k.time)} (event ${code(k.eventId)})`,
    );
  }
  for (const r of c.rolesAssumed) {
    out.push(
      md`Assumed role ${code(r.roleArn)} at ${t(r.time)}${r.accessKeyId ? ` → temporary key ${r.accessKeyId}` : ''}`,
    );
  }
  for (const u of c.used.slice(0, 5)) {
    out.push(
      md`Used key ${code(u.accessKeyId)}: ${u.events} events from ${u.sourceIps.slice(0, 3).join(', ') || 'unknown'}`,
    );
  }
  if (c.sessions.length > 0) {
    out.push(
      md`${c.sessions.length} session(s) of the role started in the window (${[...new Set(c.sessions.map((s) => s.sessionName))].slice(0, 3).join(', ')})`,
    );
  }
  return out;
}

/** Evidence of the most severe findings first, then denied and write calls; shown in time order, capped. */
function relevantEvents(report: Extract<AuditReport, { state: 'done' }>): AuditEvent[] {
  const wanted = new Set<string>();
  for (const f of report.analysis.findings) {
    for (const id of f.evidence.eventIds) {
      if (wanted.size >= SHOWN_EVENTS) break;
      wanted.add(id);
    }
  }
  for (const e of report.events) {
    if (wanted.size >= SHOWN_EVENTS) break;
    if ((e.errorCode || e.readOnly === false) && e.relation === 'actor') wanted.add(e.id);
  }
  return report.events.filter((e) => wanted.has(e.id)).sort((a, b) => a.time - b.time);
}

function eventLine(e: AuditEvent): Text {
  return md`${code(t(e.time).slice(5))} ${e.region} ${bold(e.name)} from ${e.sourceIp ?? 'unknown'}${e.errorCode ? ` — ${e.errorCode}` : ''}${e.target ? ` (${e.target.slice(0, 60)})` : ''}`;
}
