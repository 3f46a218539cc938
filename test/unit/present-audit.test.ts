import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/domain/audit/analyse.ts';
import { type AuditEvent, parseLookupEntry } from '../../src/domain/audit/event.ts';
import type { RegionOutcome } from '../../src/domain/audit/source.ts';
import { auditWindow } from '../../src/domain/audit/window.ts';
import type { AuditReport } from '../../src/jobs/audit/audit-job.ts';
import { eventsCsv } from '../../src/render/audit/event-files.ts';
import { presentAudit, presentAuditProgress } from '../../src/render/audit/present-audit.ts';
import { toSlack } from '../../src/render/slack-blocks.ts';
import { toTerminal } from '../../src/render/terminal.ts';
import { cleanScenario, compromisedCiScenario } from '../../src/testing/cloudtrail-fixtures.ts';
import { storedFromRecord } from '../../src/testing/fake-aws/cloudtrail.ts';
import { expectGolden } from '../support/golden.ts';

const CTX = {
  requesterId: 'U0RESPONDER',
  commandText: '/scope audit role:ci-deploy',
  elapsedMs: 1234,
  now: new Date('2026-11-20T00:00:10Z'),
};

function events(records: Record<string, unknown>[]): AuditEvent[] {
  return records.map((r) => {
    const s = storedFromRecord(r);
    const rel = s.name.startsWith('AssumeRoleWith') ? 'session-start' : 'actor';
    const e = parseLookupEntry(
      {
        EventId: s.id,
        EventName: s.name,
        EventSource: s.source,
        EventTime: new Date(s.time),
        CloudTrailEvent: s.cloudTrailEvent,
      },
      { account: '111111111111', region: 'eu-west-1' },
      rel,
    );
    if (!e) throw new Error('fixture unreadable');
    return e;
  });
}

function report(principal: string, evs: AuditEvent[], now: Date, regions: RegionOutcome[]): AuditReport {
  const w = auditWindow({}, now.getTime());
  return {
    state: 'done',
    principal,
    request: { principal },
    window: {
      since: new Date(w.since).toISOString(),
      until: new Date(w.until).toISOString(),
      baselineStart: new Date(w.baselineStart).toISOString(),
      baselineClamped: false,
    },
    analysis: analyse(evs, w),
    fetch: { pages: 42, throttles: 1, unreadable: 0, regions, sessions: ['GitHubActions'], notes: [] },
    events: evs.filter((e) => e.time >= w.since && e.time <= w.until),
    generatedAt: now.toISOString(),
  };
}

const ok = (region: string): RegionOutcome => ({
  account: '111111111111',
  region,
  pages: 14,
  events: 100,
  throttles: 0,
  unreadable: 0,
  truncated: false,
});

describe('the audit presenter', () => {
  it('renders the compromised CI audit (golden, Slack and terminal)', () => {
    const sc = compromisedCiScenario();
    const m = presentAudit(report('role:ci-deploy', events(sc.records), sc.now, sc.regions.map(ok)), CTX);
    expectGolden('audit.slack.json', toSlack({ ...m, attachments: [] }));
    expectGolden('audit.terminal.txt', toTerminal({ ...m, attachments: [] }));
    expect(m.attachments?.map((a) => a.filename)).toEqual([
      'scope-audit-role_ci-deploy.jsonl',
      'scope-audit-role_ci-deploy.csv',
    ]);
  });

  it('says "no findings" only as far as the data goes', () => {
    const sc = cleanScenario();
    const clean = presentAudit(
      report('user:reporting-bot', events(sc.records), sc.now, [ok('eu-west-1')]),
      CTX,
    );
    expect(toTerminal(clean)).toContain('No findings: the window matches the baseline');
    const partial = presentAudit(
      report('user:reporting-bot', events(sc.records), sc.now, [
        ok('eu-west-1'),
        { ...ok('ap-southeast-2'), error: 'AccessDeniedException (HTTP 400): not authorized' },
      ]),
      CTX,
    );
    const text = toTerminal(partial);
    expect(text).toContain('111111111111/ap-southeast-2 could not be read: AccessDeniedException');
    expect(text).toContain('No findings in the regions that answered');
    expect(text).not.toContain('matches the baseline');
  });

  it('progress carries a Cancel button addressing the job; cancelled audits say who and claim nothing', () => {
    const p = presentAuditProgress(
      'role:ci-deploy',
      { pages: 12, events: 540, throttles: 0, etaMs: 40_000 },
      'cmd-0123456789abcdef',
    );
    expect(p.blocks.find((b) => b.kind === 'actions')).toEqual({
      kind: 'actions',
      buttons: [
        { action: 'audit_cancel', label: 'Cancel audit', value: 'cmd-0123456789abcdef', style: 'danger' },
      ],
    });
    expect(toTerminal(p)).toContain('about 40 s left');
    const c = presentAudit(
      {
        state: 'cancelled',
        principal: 'role:ci-deploy',
        request: { principal: 'role:ci-deploy' },
        by: 'U0LEAD',
        progress: { pages: 3, events: 150, throttles: 0 },
        generatedAt: '',
      },
      CTX,
    );
    expect(JSON.stringify(toSlack(c))).toContain('cancelled by <@U0LEAD>');
    expect(JSON.stringify(toSlack(c))).toContain('no finding is implied');
  });

  it('defuses spreadsheet formulas and quotes CSV cells', () => {
    const csv = eventsCsv([
      {
        id: 'e1',
        time: 0,
        account: '1',
        region: 'eu-west-1',
        source: 's',
        name: 'X',
        relation: 'actor',
        userAgent: '=HYPERLINK("http://evil")',
        target: 'a,b',
      },
    ]);
    expect(csv.split('\n')[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv.split('\n')[1]).toContain('"a,b"');
  });
});
