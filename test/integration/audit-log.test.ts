import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackWitness } from '../../src/adapters/slack/audit-witness.ts';
import {
  type AuditEntry,
  chainHash,
  fieldValue,
  keyId,
  type RawRow,
} from '../../src/domain/audit-log/chain.ts';
import { auditKey } from '../../src/store/audit/audit-config.ts';
import { AuditLog } from '../../src/store/audit/audit-log.ts';
import { FileWitness, readWitnessFile } from '../../src/store/audit/file-witness.ts';
import { testRedis } from '../support/redis.ts';

const KEY = 'test-audit-key-0123456789abcdef0123456789abcdef';

function entry(n: number, kind: AuditEntry['kind'] = 'request'): AuditEntry {
  return {
    kind,
    actor: `U00${n}`,
    channel: 'C0INCIDENT',
    command: `digest sha256:${n}`,
    correlationId: `c${n}`,
  };
}

let dir: string;
const opened: Array<{ audit: AuditLog; redis: Redis }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scope-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.audit.close(100);
    o.redis.disconnect();
  }
});

/** An audit log with five entries and a witness file that saw every head. */
async function fiveEntries(name: string) {
  const { url, prefix } = testRedis();
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await redis.ping().catch(async () => new Promise((r) => redis.once('ready', r)));
  const witnessFile = join(dir, `${name}.jsonl`);
  const audit = new AuditLog(redis, prefix, { key: KEY, witnesses: [new FileWitness(witnessFile, 'test')] });
  opened.push({ audit, redis });
  for (let i = 1; i <= 5; i++) {
    await audit.append(entry(i));
    expect(await audit.flush()).toBe(true); // one witness record per entry
  }
  const stream = `${prefix}:audit`;
  const rows = async () => (await redis.xrange(stream, '-', '+')) as RawRow[];
  const witness = async () => (await readWitnessFile(witnessFile)).records;
  /** Replaces the whole stream (what an attacker with Redis write access can do). */
  const rewrite = async (next: RawRow[]) => {
    await redis.del(stream);
    for (const [id, fields] of next) await redis.xadd(stream, id, ...fields);
  };
  return { redis, audit, prefix, stream, rows, witness, rewrite, headKey: `${prefix}:audit:head` };
}

function withField(fields: string[], name: string, value: string): string[] {
  const out = [...fields];
  const i = out.indexOf(name);
  out[i + 1] = value;
  return out;
}

describe('keyed audit chain', () => {
  it('verifies an intact chain and agrees with its witness', async () => {
    const t = await fiveEntries('intact');
    const report = await t.audit.check(await t.witness());
    expect(report).toMatchObject({ ok: true, entries: 5, head: { seq: 5 }, witness: { state: 'agrees' } });
    expect(await t.audit.verify()).toBeUndefined();
    const recent = await t.audit.recent(10);
    expect(recent.map((e) => [e.seq, e.correlationId])).toEqual([
      [1, 'c1'],
      [2, 'c2'],
      [3, 'c3'],
      [4, 'c4'],
      [5, 'c5'],
    ]);
    expect(recent[1]?.prev).toBe(recent[0]?.hash);
    // The key never reaches Redis.
    expect(JSON.stringify(await t.rows())).not.toContain(KEY);
  });

  it('names an altered entry', async () => {
    const t = await fiveEntries('alter');
    const rows = await t.rows();
    const [id, fields] = rows[2] as RawRow;
    const body = JSON.parse(fieldValue(fields, 'entry') as string);
    body.actor = 'U0ATTACKER';
    rows[2] = [id, withField(fields, 'entry', JSON.stringify(body))];
    await t.rewrite(rows);
    const report = await t.audit.check(await t.witness());
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ id, position: 3, reason: 'altered' });
    expect(report.firstBad?.message).toContain('entry #3');
    expect(await t.audit.verify()).toBe(id);
  });

  it('names the entry after a deleted one', async () => {
    const t = await fiveEntries('delete');
    const rows = await t.rows();
    await t.redis.xdel(t.stream, (rows[2] as RawRow)[0]);
    const report = await t.audit.check(await t.witness());
    expect(report.firstBad).toMatchObject({
      id: (rows[3] as RawRow)[0],
      position: 3,
      reason: 'missing-before',
    });
    expect(report.firstBad?.message).toMatch(/claims position #4: 1 entry before it was removed or moved/);
  });

  it('names the first of two swapped entries', async () => {
    const t = await fiveEntries('reorder');
    const rows = await t.rows();
    const [id2, f2] = rows[1] as RawRow;
    const [id3, f3] = rows[2] as RawRow;
    rows[1] = [id2, f3];
    rows[2] = [id3, f2];
    await t.rewrite(rows);
    const report = await t.audit.check();
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ id: id2, position: 2 });
  });

  it('detects an entry re-chained without the key (hashes recomputed with another key)', async () => {
    const t = await fiveEntries('rechain');
    const rows = await t.rows();
    const forger = 'attacker-guess-0123456789abcdef0123456789abcdef';
    let prev = fieldValue((rows[1] as RawRow)[1], 'hash') as string;
    for (let i = 2; i < rows.length; i++) {
      const [id, fields] = rows[i] as RawRow;
      const body = JSON.parse(fieldValue(fields, 'entry') as string);
      if (i === 2) body.outcome = 'denied';
      const text = JSON.stringify(body);
      const hash = chainHash(forger, prev, text);
      // The attacker copies the key id, links every entry correctly and rewrites the head pointer too.
      rows[i] = [id, withField(withField(withField(fields, 'entry', text), 'prev', prev), 'hash', hash)];
      prev = hash;
    }
    await t.rewrite(rows);
    await t.redis.set(t.headKey, `5:${prev}`);
    const report = await t.audit.check();
    expect(report.firstBad).toMatchObject({ id: (rows[2] as RawRow)[0], position: 3, reason: 'altered' });
    expect(keyId(forger)).not.toBe(keyId(KEY));
  });

  it('detects a truncated tail, even with the head pointer rewritten, through the witness', async () => {
    const t = await fiveEntries('truncate');
    const rows = await t.rows();
    await t.redis.xdel(t.stream, (rows[4] as RawRow)[0]);
    await t.redis.set(t.headKey, `4:${fieldValue((rows[3] as RawRow)[1], 'hash')}`);
    const withoutWitness = await t.audit.check();
    expect(withoutWitness.ok).toBe(true); // nothing inside Redis shows it…
    const report = await t.audit.check(await t.witness());
    expect(report.ok).toBe(false); // …the witness does
    expect(report.witness).toMatchObject({ state: 'diverges', record: { seq: 5 } });
    if (report.witness.state === 'diverges')
      expect(report.witness.message).toMatch(/Redis ends at entry #4, but .* saw entry #5/);
  });

  it('reports the head pointer when only the tail was removed', async () => {
    const t = await fiveEntries('tail');
    const rows = await t.rows();
    await t.redis.xdel(t.stream, (rows[4] as RawRow)[0]);
    const report = await t.audit.check();
    expect(report.ok).toBe(false);
    expect(report.headMismatch).toMatch(/says entry #5, but the last entry is #4/);
  });

  it('validates entries read back: a planted malformed entry is skipped, counted and named', async () => {
    const t = await fiveEntries('malformed');
    await t.redis.xadd(
      t.stream,
      '*',
      'entry',
      '{"kind":"request","actor":{"x":1}}',
      'prev',
      '',
      'hash',
      'zz',
      'kid',
      'k',
    );
    const { entries, unreadable } = await t.audit.read(10);
    expect(entries).toHaveLength(5);
    expect(unreadable).toHaveLength(1);
    const report = await t.audit.check();
    expect(report.firstBad).toMatchObject({ position: 6, reason: 'malformed' });
  });

  it('keeps one valid chain with two writers (bot and worker) appending at once', async () => {
    const { url, prefix } = testRedis();
    const r1 = new Redis(url, { maxRetriesPerRequest: 1 });
    const r2 = new Redis(url, { maxRetriesPerRequest: 1 });
    const a = new AuditLog(r1, prefix, { key: KEY });
    const b = new AuditLog(r2, prefix, { key: KEY });
    opened.push({ audit: a, redis: r1 }, { audit: b, redis: r2 });
    for (let i = 0; i < 20; i++) {
      void a.append(entry(i));
      void b.append(entry(100 + i));
    }
    expect(await a.flush()).toBe(true);
    expect(await b.flush()).toBe(true);
    expect(await a.check()).toMatchObject({ ok: true, entries: 40 });
  });

  it('records the head in the witness file after writes', async () => {
    const t = await fiveEntries('witness');
    const records = await t.witness();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await readFile(join(dir, 'witness.jsonl'), 'utf8')).not.toContain(KEY);
  });
});

describe('Slack witness', () => {
  it('posts the head after an action (not after plain writes), and a posted head verifies', async () => {
    const { url, prefix } = testRedis();
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    const posts: Array<{ channel: string; text: string }> = [];
    const audit = new AuditLog(redis, prefix, {
      key: KEY,
      witnesses: [new SlackWitness(async (a) => posts.push(a), 'C0AUDIT')],
    });
    opened.push({ audit, redis });
    await audit.append(entry(1));
    expect(await audit.flush()).toBe(true);
    expect(posts).toHaveLength(0);
    await audit.append(entry(2, 'action'));
    expect(await audit.flush()).toBe(true);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.channel).toBe('C0AUDIT');
    const m = /entry #(\d+) \((\S+), (\S+)\) hmac-sha256 ([0-9a-f]{64})/.exec(posts[0]?.text ?? '');
    expect(m?.[1]).toBe('2');
    const record = {
      seq: Number(m?.[1]),
      hash: m?.[4] as string,
      id: m?.[2] as string,
      at: m?.[3] as string,
      witnessedAt: 'slack',
      source: 'audit channel',
    };
    expect((await audit.check([record])).witness.state).toBe('agrees');
    expect((await audit.check([{ ...record, hash: 'f'.repeat(64) }])).witness.state).toBe('diverges');
  });
});

describe('audit key', () => {
  it('refuses to start in production without SCOPE_AUDIT_KEY, with a clear message', () => {
    const base = { requireKey: false, witnessIntervalSeconds: 300, bufferMax: 10 };
    expect(() => auditKey(base, { NODE_ENV: 'production' })).toThrow(/set SCOPE_AUDIT_KEY/);
    expect(() => auditKey({ ...base, requireKey: true }, {})).toThrow(/set SCOPE_AUDIT_KEY/);
    expect(auditKey(base, {})).toMatchObject({ development: true });
    expect(auditKey({ ...base, hmacSecret: KEY }, { NODE_ENV: 'production' })).toEqual({
      key: KEY,
      development: false,
    });
  });
});
