import { parseArgs } from 'node:util';
import { type Config, loadConfig } from '../config.ts';
import { buildContainer } from '../container.ts';
import type { VerifyReport, WitnessRecord } from '../domain/audit-log/chain.ts';
import { isUserFacing, ScopeError, UserFacingError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { readWitnessFile } from '../store/audit/file-witness.ts';

export const AUDIT_LOG_HELP = `usage: scope cli audit-log <verify|export> [options]
  verify [--witness FILE]... [--witness-head SEQ:HASH] [--json]
        checks the keyed hash chain (needs SCOPE_AUDIT_KEY), names the first broken link, and compares Redis
        with the witness file (audit.witnessFile by default) and any head copied from the audit channel
  export [--since 2026-12-01T00:00Z|30m|24h|7d]
        prints the entries as JSON lines (oldest first) for the incident record
Exit codes: 0 intact, 4 broken or diverging from a witness, 5 not checkable (no key), 2 usage, 3 Redis unreachable, 78 config.`;

export const EXIT = { ok: 0, usage: 2, unavailable: 3, broken: 4, unverifiable: 5, config: 78 } as const;

type Out = { out: (s: string) => void; err: (s: string) => void };
const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** `scope cli audit-log …` */
export async function runAuditLogCli(argv: string[], io: Out = std, env = process.env): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`scope: ${(err as Error).message}\n${AUDIT_LOG_HELP}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  const fail = (code: number, errCode: string, message: string): number => {
    if (json)
      io.out(
        `${JSON.stringify({ schema: 'scope.cli/v1', ok: false, error: { code: errCode, message } }, null, 2)}\n`,
      );
    else io.err(`scope: ${message}\n`);
    return code;
  };
  const verb = positionals[0];
  if (values.help || (verb !== 'verify' && verb !== 'export') || positionals.length > 1) {
    io.err(`${AUDIT_LOG_HELP}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    return fail(EXIT.config, 'CONFIG_INVALID', (err as Error).message);
  }
  let since: Date | undefined;
  let extraHead: WitnessRecord | undefined;
  try {
    since = values.since === undefined ? undefined : parseSince(values.since, new Date());
    extraHead = values['witness-head'] === undefined ? undefined : parseHead(values['witness-head']);
  } catch (err) {
    return fail(EXIT.usage, 'BAD_INPUT', (err as Error).message);
  }
  const c = buildContainer(config, 'cli', createLogger(env.SCOPE_LOG_LEVEL ?? 'silent', 'cli'));
  try {
    if (verb === 'export') {
      let unreadable = 0;
      for await (const row of c.audit.export(since)) {
        if ('error' in row) unreadable++;
        io.out(`${JSON.stringify('entry' in row ? row.entry : { id: row.id, unreadable: row.error })}\n`);
      }
      if (unreadable > 0)
        io.err(`scope: ${unreadable} entries could not be read; run scope cli audit-log verify\n`);
      return unreadable > 0 ? EXIT.broken : EXIT.ok;
    }
    const files = values.witness ?? (config.audit.witnessFile ? [config.audit.witnessFile] : []);
    const records: WitnessRecord[] = extraHead ? [extraHead] : [];
    let unreadableWitness = 0;
    for (const f of files) {
      try {
        const w = await readWitnessFile(f);
        records.push(...w.records);
        unreadableWitness += w.unreadable;
      } catch (err) {
        return fail(EXIT.usage, 'BAD_INPUT', `cannot read witness file ${f}: ${(err as Error).message}`);
      }
    }
    const keyConfigured = config.audit.hmacSecret !== undefined;
    const report = await c.audit.check(records);
    const exit = !report.ok ? EXIT.broken : keyConfigured ? EXIT.ok : EXIT.unverifiable;
    if (json) {
      io.out(
        `${JSON.stringify({ schema: 'scope.cli/v1', ok: true, result: { kind: 'audit-verify', keyConfigured, witnessFiles: files, unreadableWitnessLines: unreadableWitness, ...report } }, null, 2)}\n`,
      );
    } else {
      io.out(`${describe(report, { keyConfigured, files, unreadableWitness })}\n`);
    }
    return exit;
  } catch (err) {
    if (err instanceof ScopeError && err.code === 'UPSTREAM_UNAVAILABLE')
      return fail(EXIT.unavailable, err.code, `${err.message}; is Redis at the configured address?`);
    if (isUserFacing(err)) return fail(EXIT.usage, err.code, err.message);
    throw err;
  } finally {
    await c.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      since: { type: 'string' },
      witness: { type: 'string', multiple: true },
      'witness-head': { type: 'string' },
    },
  });
}

/** An ISO time, or a look-back such as 30m, 24h, 7d. */
export function parseSince(text: string, now: Date): Date {
  const rel = /^(\d{1,6})([mhd])$/.exec(text);
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t))
    throw new UserFacingError(
      'BAD_INPUT',
      `--since takes an ISO time (2026-12-01T08:00Z) or 30m/24h/7d, not "${text.slice(0, 40)}"`,
    );
  return new Date(t);
}

function parseHead(text: string): WitnessRecord {
  const m = /^(\d{1,12}):([0-9a-f]{64})$/.exec(text.trim());
  if (!m)
    throw new UserFacingError(
      'BAD_INPUT',
      '--witness-head takes SEQ:HASH as posted in the audit channel (e.g. 42:9f86d0…)',
    );
  return {
    seq: Number(m[1]),
    hash: m[2] as string,
    id: '',
    at: '',
    witnessedAt: 'the given --witness-head',
    source: 'the head given on the command line',
  };
}

function describe(
  r: VerifyReport,
  ctx: { keyConfigured: boolean; files: string[]; unreadableWitness: number },
): string {
  const lines: string[] = [];
  if (!ctx.keyConfigured)
    lines.push(
      'WARNING: SCOPE_AUDIT_KEY is not set: checked against the development key only; the keyed hashes of a production trail cannot be verified.',
    );
  if (r.firstBad)
    lines.push(
      `BROKEN: first bad link is entry ${r.firstBad.id} (position #${r.firstBad.position}): ${r.firstBad.message}`,
    );
  if (r.headMismatch) lines.push(`BROKEN: ${r.headMismatch}`);
  if (r.witness.state === 'diverges') lines.push(`DIVERGES FROM WITNESS: ${r.witness.message}`);
  if (r.ok)
    lines.push(
      `audit chain intact: ${r.entries} entries${r.head ? `, head #${r.head.seq} ${r.head.hash} (${r.head.id})` : ''}`,
    );
  else
    lines.push(
      `audit chain has ${r.entries} entries${r.head ? `; Redis head #${r.head.seq} ${r.head.hash}` : ''}`,
    );
  if (r.witness.state === 'agrees')
    lines.push(
      `witness agrees: ${r.witness.checked} record(s), latest #${r.witness.last.seq} seen at ${r.witness.last.witnessedAt}`,
    );
  else if (r.witness.state === 'none')
    lines.push(
      ctx.files.length
        ? 'witness: no records yet'
        : 'witness: none configured (audit.witnessFile / --witness): a rewrite of the whole trail by someone with the key, or a truncated tail, cannot be ruled out',
    );
  if (ctx.unreadableWitness) lines.push(`witness: ${ctx.unreadableWitness} unreadable line(s) ignored`);
  return lines.join('\n');
}
