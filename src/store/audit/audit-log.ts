import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** One entry of the append-only audit trail: who asked for what, who approved, what ran, and how it ended. */
export type AuditEntry = {
  kind: 'request' | 'refusal' | 'result' | 'failure' | 'approval' | 'action';
  actor: string;
  channel?: string;
  command: string;
  correlationId: string;
  outcome?: string;
  detail?: string;
};

export type StoredAuditEntry = AuditEntry & { id: string; at: string; hash: string; prev: string };

// Appends atomically and chains each entry to the previous one's hash, so an edited or deleted entry is detectable.
const APPEND = `
local prev = redis.call('GET', KEYS[2]) or ''
local hash = redis.sha1hex(prev .. ARGV[1])
local id = redis.call('XADD', KEYS[1], '*', 'entry', ARGV[1], 'prev', prev, 'hash', hash)
redis.call('SET', KEYS[2], hash)
return {id, hash}
`;

/** Append-only audit trail in a Redis stream (no command of scope deletes or trims it). */
export class AuditLog {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #head: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#stream = `${prefix}:audit`;
    this.#head = `${prefix}:audit:head`;
  }

  async append(entry: AuditEntry, now = new Date()): Promise<string> {
    const body = JSON.stringify({ ...entry, at: now.toISOString() });
    const [id] = (await this.#redis.eval(APPEND, 2, this.#stream, this.#head, body)) as [string, string];
    return id;
  }

  async recent(count = 50): Promise<StoredAuditEntry[]> {
    const rows = await this.#redis.xrevrange(this.#stream, '+', '-', 'COUNT', count);
    return rows.map(([id, fields]) => toStored(id, fields)).reverse();
  }

  /** Recomputes the chain; returns the id of the first entry that does not match, or undefined when intact. */
  async verify(): Promise<string | undefined> {
    const rows = await this.#redis.xrange(this.#stream, '-', '+');
    let prev = '';
    for (const [id, fields] of rows) {
      const e = toStored(id, fields);
      const expected = createHash('sha1')
        .update(prev + fieldValue(fields, 'entry'))
        .digest('hex');
      if (e.prev !== prev || e.hash !== expected) return id;
      prev = e.hash;
    }
    return undefined;
  }
}

function fieldValue(fields: string[], name: string): string {
  const i = fields.indexOf(name);
  return i >= 0 ? (fields[i + 1] ?? '') : '';
}

function toStored(id: string, fields: string[]): StoredAuditEntry {
  const entry = JSON.parse(fieldValue(fields, 'entry')) as AuditEntry & { at: string };
  return { ...entry, id, prev: fieldValue(fields, 'prev'), hash: fieldValue(fields, 'hash') };
}
