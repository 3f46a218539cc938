import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AwsClients } from '../adapters/aws/clients.ts';
import { CloudTrailAuditSource } from '../adapters/aws/cloudtrail.ts';
import type { AwsConfig } from '../adapters/aws/config.ts';
import { loadConfig } from '../config.ts';
import { parseAuditArgs } from '../domain/audit/request.ts';
import { isUserFacing, UserFacingError } from '../errors.ts';
import { type AuditReport, runAudit } from '../jobs/audit/audit-job.ts';
import { eventsCsv, eventsJsonl } from '../render/audit/event-files.ts';
import { present } from '../render/present.ts';
import { toTerminal } from '../render/terminal.ts';

const HELP = `usage: scope cli audit <user:NAME|role:NAME|AKIA…|resource:NAME> [--since 24h|ISO] [--until …] [--regions a,b] [--json] [--out PREFIX]
Reads the principal's CloudTrail history straight from AWS (no Redis needed) and prints findings.
Credentials, region and endpoints come from the standard AWS chain: AWS_PROFILE, AWS_ACCESS_KEY_ID…,
AWS_REGION (used when aws.regions is not configured), AWS_ENDPOINT_URL_CLOUDTRAIL / AWS_ENDPOINT_URL.
  --json        {"schema":"scope.cli/v1","ok":true,"result":{"kind":"audit",…}}: findings, credentials,
                counts per region, pages and throttles (events are left out: use --out)
  --out PREFIX  also write every event of the window to PREFIX.jsonl and PREFIX.csv`;

/** The `--json` projection: everything but the event list. */
export function auditJson(report: AuditReport): Record<string, unknown> {
  if (report.state === 'cancelled') return { ...report };
  return {
    state: report.state,
    principal: report.principal,
    request: report.request,
    window: report.window,
    findings: report.analysis.findings,
    credentials: report.analysis.credentials,
    counts: {
      window: report.analysis.window,
      baselineEvents: report.analysis.baseline.events,
      regions: report.fetch.regions,
    },
    pages: report.fetch.pages,
    throttles: report.fetch.throttles,
    unreadable: report.fetch.unreadable,
    sessions: report.fetch.sessions,
    notes: report.fetch.notes,
    generatedAt: report.generatedAt,
  };
}

/** `scope cli audit …`: returns the process exit code (0 ok, 2 bad input or unreadable regions only, 78 config). */
export async function runAuditCli(argv: string[]): Promise<number> {
  let values: {
    json?: boolean;
    help?: boolean;
    since?: string;
    until?: string;
    regions?: string;
    out?: string;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        since: { type: 'string' },
        until: { type: 'string' },
        regions: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`scope: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const json = values.json === true;
  const fail = (code: string, message: string, hint?: string) => {
    if (json) {
      console.log(
        JSON.stringify(
          { schema: 'scope.cli/v1', ok: false, error: { code, message, ...(hint ? { hint } : {}) } },
          null,
          2,
        ),
      );
    } else console.error(`scope: ${message}${hint ? `\n${hint}` : ''}`);
  };
  let aws: AwsConfig;
  try {
    aws = loadConfig().aws;
  } catch (err) {
    fail('CONFIG_INVALID', (err as Error).message);
    return 78;
  }
  const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (aws.regions.length === 0 && aws.accounts.length === 0 && envRegion)
    aws = { ...aws, regions: [envRegion] };
  const ctl = new AbortController();
  const onSigint = () => ctl.abort(new UserFacingError('BAD_INPUT', 'interrupted'));
  process.once('SIGINT', onSigint);
  const started = performance.now();
  try {
    const args = [...positionals];
    if (values.since) args.push('--since', values.since);
    if (values.until) args.push('--until', values.until);
    if (values.regions) args.push('--regions', values.regions);
    const request = parseAuditArgs(args);
    if (aws.regions.length === 0 && !aws.accounts.some((a) => (a.regions?.length ?? 0) > 0)) {
      throw new UserFacingError(
        'CONFIG_INVALID',
        'no AWS region to audit',
        'Set AWS_REGION, SCOPE_AWS_REGIONS or aws.regions.',
      );
    }
    let lastLine = 0;
    const report = await runAudit(request, {
      source: new CloudTrailAuditSource(new AwsClients(aws), aws.audit),
      baselineDays: aws.audit.baselineDays,
      signal: ctl.signal,
      onProgress: (p) => {
        if (Date.now() - lastLine < aws.audit.progressEveryMs) return;
        lastLine = Date.now();
        const eta = p.etaMs === undefined ? '' : `, ~${Math.ceil(p.etaMs / 1000)} s left`;
        process.stderr.write(`audit: ${p.pages} pages, ${p.events} events, ${p.throttles} throttled${eta}\n`);
      },
    });
    if (values.out && report.state === 'done') {
      await writeFile(`${values.out}.jsonl`, `${eventsJsonl(report.events)}\n`);
      await writeFile(`${values.out}.csv`, `${eventsCsv(report.events)}\n`);
    }
    if (json) {
      console.log(
        JSON.stringify(
          { schema: 'scope.cli/v1', ok: true, result: { kind: 'audit', report: auditJson(report) } },
          null,
          2,
        ),
      );
    } else {
      const message = present(
        { kind: 'audit', report },
        {
          commandText: `scope audit ${argv.join(' ')}`,
          elapsedMs: performance.now() - started,
          now: new Date(),
        },
      );
      console.log(toTerminal({ ...message, attachments: [] }, { color: process.stdout.isTTY === true }));
    }
    const allFailed = report.state === 'done' && report.fetch.regions.every((r) => r.error);
    return allFailed ? 2 : 0;
  } catch (err) {
    if (isUserFacing(err)) {
      fail(err.code, err.message, err.hint);
      return err.code === 'CONFIG_INVALID' ? 78 : 2;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
