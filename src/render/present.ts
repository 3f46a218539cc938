import { COMMANDS, commandSpec } from '../domain/command.ts';
import type { CommandResult } from '../jobs/run-command.ts';
import type { StatusReport } from '../jobs/status.ts';
import { presentFreezePlan, presentFrozen } from './actions/present-frozen.ts';
import {
  presentAdvisories,
  presentAdvisory,
  presentAdvisoryStatus,
  presentDiff,
  presentWatch,
} from './advisories/present-commands.ts';
import { presentAudit } from './audit/present-audit.ts';
import { presentAuditLog } from './audit-log/present-audit-log.ts';
import { footer, type PresentContext } from './footer.ts';
import { completenessLabel } from './inventory/coverage.ts';
import { presentDigest, presentImage, presentWhere } from './inventory/present-inventory.ts';
import { type Block, bold, code, join, lit, type Message, md } from './message.ts';
import { presentGuardrails } from './provenance/present-guardrails.ts';
import { presentTrustStatus } from './provenance/present-trust.ts';
import { presentVerify } from './provenance/present-verify.ts';
import { when } from './time.ts';

export type { PresentContext };

/** Turns any command result into the neutral message both renderers understand. */
export function present(result: CommandResult, ctx: PresentContext): Message {
  switch (result.kind) {
    case 'help':
      return presentHelp(result.topic);
    case 'status':
      return presentStatus(result.report, ctx);
    case 'digest':
      return presentDigest(result.report, ctx);
    case 'image':
      return presentImage(result.report, ctx);
    case 'where':
      return presentWhere(result.report, ctx);
    case 'advisories':
      return presentAdvisories(result.report, ctx);
    case 'advisory':
      return presentAdvisory(result.report, ctx);
    case 'diff':
      return presentDiff(result.report, ctx);
    case 'watch':
      return presentWatch(result.report, ctx);
    case 'guardrails':
      return presentGuardrails(result.report, ctx);
    case 'log':
      return presentAuditLog(result.entries, result.unreadable, ctx);
    case 'audit':
      return presentAudit(result.report, ctx);
    case 'frozen':
      return presentFrozen(result.freezes, ctx);
    case 'freeze-plan':
      return presentFreezePlan(result.plan, ctx);
    case 'verify':
      return presentVerify(result.report, ctx);
  }
}

export function presentHelp(topic?: string): Message {
  const spec = topic ? commandSpec(topic) : undefined;
  if (spec) {
    return {
      summary: `Usage: ${spec.usage}`,
      blocks: [
        { kind: 'section', text: md`${code(spec.usage)}\n${spec.summary}` },
        { kind: 'context', text: md`Example: ${code(spec.example)}` },
      ],
    };
  }
  return {
    summary: 'scope commands',
    blocks: [
      { kind: 'header', text: 'scope — supply-chain incident response' },
      {
        kind: 'list',
        items: COMMANDS.map((c) => md`${code(c.usage)} — ${c.summary}\n    e.g. ${code(c.example)}`),
      },
      {
        kind: 'context',
        text: lit(
          'Results are posted in this channel for the whole incident team; help and errors only to you.',
        ),
      },
    ],
  };
}

function presentStatus(report: StatusReport, ctx: PresentContext): Message {
  const now = ctx.now;
  const blocks: Block[] = [{ kind: 'header', text: 'scope status' }, statusCoverage(report)];
  blocks.push({
    kind: 'fields',
    fields: report.queues.map((q) => ({
      label: `Queue ${q.name}`,
      value: md`${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed`,
    })),
  });
  blocks.push({
    kind: 'section',
    text:
      report.workers.length === 0
        ? lit('*Workers:* none connected — jobs will wait until a worker starts.')
        : md`*Workers:* ${report.workers.length} connected`,
  });
  if (report.clusters.length === 0) {
    blocks.push({ kind: 'section', text: lit('*Clusters:* none configured or not synced yet.') });
  } else {
    blocks.push({
      kind: 'list',
      items: report.clusters.map((c) => {
        const icon = c.state === 'ok' ? '🟢' : c.state === 'error' ? '🔴' : '⚪';
        const err = c.lastError ? md` — last error: ${c.lastError}` : lit('');
        const pods = c.pods !== undefined ? md`, ${c.pods} pods` : lit('');
        return md`${icon} ${bold(c.cluster)} (${c.environment}) — last good sync ${when(c.lastSuccessAt, now)}${pods}${err}`;
      }),
    });
  }
  blocks.push(...presentAdvisoryStatus(report, now));
  blocks.push(...presentTrustStatus(report, now));
  blocks.push({ kind: 'context', text: join([footer(ctx), completenessLabel(report)], ' · ') });
  return {
    summary: `scope status: ${report.workers.length} workers, inventory ${report.completeness} (${report.clustersAnswered} of ${report.clustersTotal} clusters answering)`,
    blocks,
  };
}

/** The first line of status: can inventory answers be trusted right now, and how far. */
function statusCoverage(r: StatusReport): Block {
  const text =
    r.completeness === 'complete'
      ? md`:white_check_mark: *Inventory complete:* all ${r.clustersTotal} cluster${r.clustersTotal === 1 ? '' : 's'} answering.`
      : r.completeness === 'partial'
        ? md`:warning: *Inventory partial:* ${r.clustersAnswered} of ${r.clustersTotal} clusters answering; answers say "not running" only for those.`
        : md`:grey_question: *Inventory unknown:* ${r.clustersTotal === 0 ? 'no cluster is configured' : 'no cluster has answered yet'}, so inventory answers cannot say where anything runs.`;
  return { kind: 'section', text };
}
