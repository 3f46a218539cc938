import type { Redis } from 'ioredis';
import {
  type AuditEntry,
  type AuditWitness,
  type ChainHead,
  ChainVerifier,
  parseRow,
  type RawRow,
  type StoredAuditEntry,
  type VerifyReport,
  type WitnessRecord,
} from '../../domain/audit-log/chain.ts';
import { ScopeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { AuditWriter } from './audit-writer.ts';

export type { AuditEntry, StoredAuditEntry };

export type AuditLogOptions = {
  /** HMAC-SHA256 key, held by the process, never written to Redis. */
  key: string;
  /** The key is the well-known development key: say so once. */
  developmentKey?: boolean;
  /** Entries kept in memory while Redis is unreachable (default 10,000). */
  bufferMax?: number;
  witnesses?: AuditWitness[];
  /** How often the head is witnessed even without writes (default 5 min; 0 = never). */
  witnessIntervalMs?: number;
  log?: Logger;
  /** Longest pause between write attempts while Redis is down (default 2 s). */
  maxRetryMs?: number;
};

/**
 * Append-only, keyed audit trail in a Redis stream. `append` never waits on Redis: entries go to a bounded
 * in-memory buffer and are written in order by a background drain; the chain (HMAC-SHA256 over the previous
 * hash and the entry) is computed at write time, so it stays valid however long Redis was away.
 */
export class AuditLog {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #headKey: string;
  readonly #key: string;
  readonly #witnesses: AuditWitness[];
  readonly #log: Logger | undefined;
  readonly #writer: AuditWriter;
  #timer: NodeJS.Timeout | undefined;
  #lastWitnessed = '';

  constructor(redis: Redis, prefix: string, opts: AuditLogOptions) {
    this.#redis = redis;
    this.#stream = `${prefix}:audit`;
    this.#headKey = `${prefix}:audit:head`;
    this.#key = opts.key;
    this.#witnesses = [...(opts.witnesses ?? [])];
    this.#log = opts.log?.child({ component: 'audit' });
    this.#writer = new AuditWriter(redis, this.#stream, this.#headKey, {
      key: opts.key,
      bufferMax: opts.bufferMax ?? 10_000,
      maxRetryMs: opts.maxRetryMs ?? 2000,
      log: this.#log,
      onWritten: (head, action) => this.#witness(head, action ? 'action' : 'write'),
    });
    if (opts.developmentKey)
      this.#log?.warn(
        'audit trail signed with the built-in development key: set SCOPE_AUDIT_KEY to make it tamper-evident',
      );
    const every = opts.witnessIntervalMs ?? 300_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.witnessNow('interval'), every);
      this.#timer.unref();
    }
  }

  /** Adds a witness after construction (the Slack one needs a client the container does not build). */
  addWitness(w: AuditWitness): void {
    this.#witnesses.push(w);
  }

  /**
   * Queues an entry and returns its uid at once; it is written to Redis in order, as soon as Redis answers.
   * Never rejects and never waits on Redis. When the buffer is full the entry is logged as lost, loudly.
   */
  async append(entry: AuditEntry, now = new Date()): Promise<string> {
    return this.#writer.append(entry, now);
  }

  /** Entries waiting for Redis. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Entries dropped because the buffer was full (since start). */
  get lost(): number {
    return this.#writer.lost;
  }

  /** Resolves true once every queued entry is written, or false after `timeoutMs`. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    return this.#writer.flush(timeoutMs);
  }

  /** Waits (bounded) for the connection; reads fail fast instead of hanging when Redis is away. */
  async connected(timeoutMs = 3000): Promise<void> {
    const r = this.#redis;
    if (r.status === 'ready') return;
    if (r.status === 'wait') r.connect().catch(() => {});
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        r.off('ready', onReady);
        reject(new ScopeError('UPSTREAM_UNAVAILABLE', `Redis did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(t);
        resolve();
      };
      r.once('ready', onReady);
    });
  }

  /** The most recent entries, oldest first; entries that fail validation are skipped and counted. */
  async read(count = 50): Promise<{ entries: StoredAuditEntry[]; unreadable: string[] }> {
    await this.flush(2000);
    await this.connected();
    const rows = (await this.#redis.xrevrange(this.#stream, '+', '-', 'COUNT', count)) as RawRow[];
    const entries: StoredAuditEntry[] = [];
    const unreadable: string[] = [];
    for (const row of rows.reverse()) {
      const r = parseRow(row);
      if ('error' in r) unreadable.push(row[0]);
      else entries.push(r.entry);
    }
    return { entries, unreadable };
  }

  async recent(count = 50): Promise<StoredAuditEntry[]> {
    return (await this.read(count)).entries;
  }

  /** Entries from `since` (inclusive) on, oldest first, paged; unreadable rows are reported as such. */
  async *export(since?: Date): AsyncGenerator<{ entry: StoredAuditEntry } | { id: string; error: string }> {
    await this.connected();
    let start = since ? `${since.getTime()}-0` : '-';
    for (;;) {
      const rows = (await this.#redis.xrange(this.#stream, start, '+', 'COUNT', 500)) as RawRow[];
      for (const row of rows) {
        const r = parseRow(row);
        yield 'error' in r ? { id: row[0], error: r.error } : { entry: r.entry };
      }
      if (rows.length < 500) return;
      start = `(${(rows[rows.length - 1] as RawRow)[0]}`;
    }
  }

  /** Checks the whole chain with the key, the head pointer, and the witness records given. */
  async check(witness: WitnessRecord[] = []): Promise<VerifyReport> {
    await this.flush(2000);
    await this.connected();
    const v = new ChainVerifier(
      this.#key,
      witness.map((w) => w.seq),
    );
    let start = '-';
    for (;;) {
      const rows = (await this.#redis.xrange(this.#stream, start, '+', 'COUNT', 1000)) as RawRow[];
      for (const row of rows) v.add(row);
      if (rows.length < 1000) break;
      start = `(${(rows[rows.length - 1] as RawRow)[0]}`;
    }
    const storedHead = await this.#redis.get(this.#headKey);
    return v.finish({ storedHead: storedHead ?? '', witness });
  }

  /** Compatible shape: the id of the first bad entry ("head" if only the head pointer disagrees), or undefined. */
  async verify(): Promise<string | undefined> {
    const r = await this.check();
    return r.ok ? undefined : (r.firstBad?.id ?? 'head');
  }

  /** Reads the head from Redis and hands it to every witness (interval witnessing; also after actions). */
  async witnessNow(reason: 'interval' | 'write' | 'action' = 'interval'): Promise<ChainHead | undefined> {
    try {
      const head = await this.#readHead();
      if (head) await this.#witness(head, reason);
      return head;
    } catch (err) {
      this.#log?.warn({ err }, 'could not read the audit chain head to witness it');
      return undefined;
    }
  }

  /** Stops the interval, waits up to `timeoutMs` for buffered entries, and reports the rest as lost. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#writer.close(timeoutMs);
  }

  async #readHead(): Promise<ChainHead | undefined> {
    const rows = (await this.#redis.xrevrange(this.#stream, '+', '-', 'COUNT', 1)) as RawRow[];
    const row = rows[0];
    if (!row) return undefined;
    const r = parseRow(row);
    if ('error' in r) return undefined;
    return { seq: r.entry.seq, hash: r.entry.hash, id: r.entry.id, at: r.entry.at };
  }

  async #witness(head: ChainHead, reason: 'write' | 'action' | 'interval'): Promise<void> {
    if (reason === 'interval' && head.hash === this.#lastWitnessed) return;
    this.#lastWitnessed = head.hash;
    for (const w of this.#witnesses) {
      try {
        await w.record(head, reason);
      } catch (err) {
        this.#log?.error({ err, witness: w.name }, 'could not record the audit chain head with a witness');
      }
    }
  }
}
