import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runAuditLogCli } from '../../src/cli/audit-log.ts';
import { runCli } from '../../src/cli.ts';
import { loadConfig } from '../../src/config.ts';
import { buildContainer } from '../../src/container.ts';
import { fieldValue, type RawRow } from '../../src/domain/audit-log/chain.ts';
import { createLogger } from '../../src/log.ts';
import { sendSlashCommand } from '../../src/testing/slack-requests.ts';
import { testRedis } from '../support/redis.ts';
import { type ScopeHarness, SIGNING_SECRET, startScope } from '../support/scope-harness.ts';

const KEY = 'cli-audit-key-0123456789abcdef0123456789abcdef';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scope-audit-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A config file and env as an operator would have them, and a trail of `n` entries written by a "worker". */
async function trail(name: string, n: number) {
  const { url, prefix } = testRedis();
  const witnessFile = join(dir, `${name}.witness.jsonl`);
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, dump({ redis: { url, prefix }, audit: { witnessFile }, log: { level: 'silent' } }));
  const env = { SCOPE_CONFIG: file, SCOPE_AUDIT_KEY: KEY };
  const c = buildContainer(loadConfig(env), 'worker', createLogger('silent', 'test'));
  for (let i = 1; i <= n; i++) {
    await c.audit.append(
      { kind: 'request', actor: 'U0RESP', command: `status ${i}`, correlationId: `k${i}` },
      new Date(Date.UTC(2026, 11, 1, i)),
    );
    await c.audit.flush();
  }
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAuditLogCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, env);
    return { code, out: out.join(''), err: err.join('') };
  };
  return { c, cli, env, stream: `${prefix}:audit` };
}

describe('scope cli audit-log', () => {
  it('verify: intact chain, agreeing witness, exit 0; --json envelope', async () => {
    const t = await trail('ok', 3);
    const r = await t.cli('verify');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/audit chain intact: 3 entries/);
    expect(r.out).toMatch(/witness agrees: 3 record\(s\), latest #3/);
    const j = await t.cli('verify', '--json');
    expect(JSON.parse(j.out)).toMatchObject({
      schema: 'scope.cli/v1',
      ok: true,
      result: {
        kind: 'audit-verify',
        ok: true,
        entries: 3,
        keyConfigured: true,
        witness: { state: 'agrees' },
      },
    });
    await t.c.close();
  });

  it('verify: names the first broken link of an altered entry, exit 4', async () => {
    const t = await trail('altered', 4);
    const rows = (await t.c.redis.xrange(t.stream, '-', '+')) as RawRow[];
    const [id, fields] = rows[1] as RawRow;
    const body = JSON.parse(fieldValue(fields, 'entry') as string);
    body.command = 'status (edited)';
    await t.c.redis.del(t.stream);
    for (const [rid, f] of rows) {
      const g = [...f];
      if (rid === id) g[g.indexOf('entry') + 1] = JSON.stringify(body);
      await t.c.redis.xadd(t.stream, rid, ...g);
    }
    const r = await t.cli('verify');
    expect(r.code).toBe(EXIT.broken);
    expect(r.out).toContain(`BROKEN: first bad link is entry ${id} (position #2)`);
    await t.c.close();
  });

  it('verify: says where Redis diverges from the witness when the tail was cut and the head rewritten', async () => {
    const t = await trail('cut', 3);
    const rows = (await t.c.redis.xrange(t.stream, '-', '+')) as RawRow[];
    await t.c.redis.xdel(t.stream, (rows[2] as RawRow)[0]);
    await t.c.redis.set(`${t.stream}:head`, `2:${fieldValue((rows[1] as RawRow)[1], 'hash')}`);
    const r = await t.cli('verify');
    expect(r.code).toBe(EXIT.broken);
    expect(r.out).toMatch(/DIVERGES FROM WITNESS: Redis ends at entry #2, but worker@.* saw entry #3/);
    await t.c.close();
  });

  it('verify: without the key it does not claim the chain is intact (exit 5)', async () => {
    const t = await trail('nokey', 1);
    const r = await runAuditLogCli(
      ['verify'],
      { out: () => {}, err: () => {} },
      { SCOPE_CONFIG: t.env.SCOPE_CONFIG },
    );
    expect(r).not.toBe(EXIT.ok);
    await t.c.close();
  });

  it('export: JSON lines, oldest first, --since filters', async () => {
    const t = await trail('export', 4);
    const all = await t.cli('export');
    expect(all.code).toBe(0);
    const lines = all.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.correlationId)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(lines[0]).toMatchObject({ seq: 1, kind: 'request', actor: 'U0RESP', hash: expect.any(String) });
    // Entries are stamped with stream ids of their write time; --since a future time gives nothing.
    const none = await t.cli('export', '--since', '2999-01-01T00:00:00Z');
    expect(none.out).toBe('');
    const recent = await t.cli('export', '--since', '1h');
    expect(recent.out.trim().split('\n')).toHaveLength(4);
    expect((await t.cli('export', '--since', 'yesterday')).code).toBe(EXIT.usage);
    await t.c.close();
  });

  it('fails within seconds with a clear message when Redis is unreachable', async () => {
    const file = join(dir, 'down.yaml');
    await writeFile(file, dump({ redis: { url: 'redis://127.0.0.1:1', prefix: '{down}' } }));
    const chunks: string[] = [];
    const code = await runAuditLogCli(
      ['verify', '--json'],
      { out: (s) => chunks.push(s), err: () => {} },
      {
        SCOPE_CONFIG: file,
        SCOPE_AUDIT_KEY: KEY,
      },
    );
    expect(code).toBe(EXIT.unavailable);
    expect(JSON.parse(chunks.join(''))).toMatchObject({ ok: false, error: { code: 'UPSTREAM_UNAVAILABLE' } });
  });
});

describe('scope cli log', () => {
  it('prints the recent entries (terminal and --json), the CLI twin of /scope log', async () => {
    const t = await trail('clilog', 3);
    const saved = { ...process.env };
    const printed: string[] = [];
    const original = console.log;
    console.log = (...a: unknown[]) => void printed.push(a.map(String).join(' '));
    try {
      Object.assign(process.env, t.env, { SCOPE_LOG_LEVEL: 'silent' });
      expect(await runCli(['log', '2'])).toBe(0);
      expect(printed.join('\n')).toMatch(/Audit trail: last 2 entries/);
      expect(printed.join('\n')).toContain('status 3');
      expect(printed.join('\n')).not.toContain('status 1');
      printed.length = 0;
      expect(await runCli(['log', '5', '--json'])).toBe(0);
      const out = JSON.parse(printed.join('\n'));
      expect(out).toMatchObject({
        schema: 'scope.cli/v1',
        ok: true,
        result: { kind: 'log', unreadable: [] },
      });
      expect(out.result.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    } finally {
      console.log = original;
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await t.c.close();
    }
  });
});

describe('/scope log', () => {
  let h: ScopeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('shows the recent entries only to the requester', async () => {
    h = await startScope();
    const send = (text: string, user = 'U0RESPONDER') =>
      sendSlashCommand(h?.endpoint as string, SIGNING_SECRET, {
        text,
        user_id: user,
        channel_id: 'C0INCIDENT',
        trigger_id: `trig-${Math.random().toString(36).slice(2)}`,
        response_url: h?.slack.responseUrl() as string,
      });
    await send('nonsense-command', 'U0OTHER');
    const ack = await send('log 5');
    expect(JSON.stringify(ack.json)).toContain('shown only to you');
    const eph = await h.slack.waitFor(() => h?.slack.ephemerals.find((e) => e.text.includes('Audit trail')));
    expect(eph.user).toBe('U0RESPONDER');
    expect(eph.channel).toBe('C0INCIDENT');
    const shown = JSON.stringify(eph.blocks);
    expect(shown).toContain('refusal');
    expect(shown).toContain('nonsense-command');
    expect(h.slack.messages('C0INCIDENT').filter((m) => m.text.includes('Audit trail'))).toHaveLength(0);
  });
});
