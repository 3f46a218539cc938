import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { Redis } from 'ioredis';
import {
  type AuditEntry,
  type AuditWitness,
  type ChainHead,
  ChainVerifier,
  chainHash,
  keyId,
  parseRow,
  type RawRow,
  type StoredAuditEntry,
  type VerifyReport,
  type WitnessRecord,
} from '../../domain/audit/chain.ts';
import { ScopeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';

export type { AuditEntry, StoredAuditEntry };

/**
 * Compare-and-append: the entry is added only if the head is still the one its HMAC was computed against, so
 * writers in several processes (bot, workers) keep one chain. Returns {1, id} or {0, current head}.
 */
const APPEND = `
local cur = redis.call('GET', KEYS[2])
if not cur then cur = '' end
if cur ~= ARGV[1] then return {0, cur} end
local id = redis.call('XADD', KEYS[1], '*', 'entry', ARGV[3], 'prev', ARGV[4], 'hash', ARGV[5], 'kid', ARGV[6])
redis.call('SET', KEYS[2], ARGV[2])
return {1, id}
`;

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

type Pending = { entry: AuditEntry; at: string; uid: string; maybeWritten: boolean };

const live = new Set<AuditLog>();
let exitHookInstalled = false;

/** On process exit (normal or after a fatal error), report every entry that never reached Redis. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const log of live) log.reportLost('process exiting');
  });
}

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
  readonly #kid: string;
  readonly #bufferMax: number;
  readonly #witnesses: AuditWitness[];
  readonly #log: Logger | undefined;
  readonly #maxRetryMs: number;
  readonly #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #knownHead: string | undefined;
  #overflowed = 0;
  #lostReported = 0;
  #outage = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #idle: Array<() => void> = [];
  #lastWitnessed = '';

  constructor(redis: Redis, prefix: string, opts: AuditLogOptions) {
    this.#redis = redis;
    this.#stream = `${prefix}:audit`;
    this.#headKey = `${prefix}:audit:head`;
    this.#key = opts.key;
    this.#kid = keyId(opts.key);
    this.#bufferMax = opts.bufferMax ?? 10_000;
    this.#witnesses = [...(opts.witnesses ?? [])];
    this.#log = opts.log?.child({ component: 'audit' });
    this.#maxRetryMs = opts.maxRetryMs ?? 2000;
    if (opts.developmentKey)
      this.#log?.warn(
        'audit trail signed with the built-in development key: set SCOPE_AUDIT_KEY to make it tamper-evident',
      );
    const every = opts.witnessIntervalMs ?? 300_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.witnessNow('interval'), every);
      this.#timer.unref();
    }
    live.add(this);
    installExitHook();
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
    const uid = randomUUID();
    if (this.#queue.length >= this.#bufferMax) {
      this.#overflowed++;
      this.#log?.fatal(
        {
          lost: summary(entry, now.toISOString()),
          buffered: this.#queue.length,
          lostSoFar: this.#overflowed,
        },
        'AUDIT ENTRY LOST: the audit buffer is full and Redis is not answering',
      );
      return uid;
    }
    this.#queue.push({ entry, at: now.toISOString(), uid, maybeWritten: false });
    this.#kick();
    return uid;
  }

  /** Entries waiting for Redis. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Entries dropped because the buffer was full (since start). */
  get lost(): number {
    return this.#overflowed;
  }

  /** Resolves true once every queued entry is written, or false after `timeoutMs`. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    if (this.#queue.length === 0 && this.#draining === undefined) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      t.unref();
      this.#idle.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
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
    const done = await this.flush(timeoutMs);
    this.#closed = true;
    if (!done) this.reportLost('shutting down before Redis came back');
    live.delete(this);
  }

  /** Writes one line per unwritten entry to stderr, synchronously (usable from an exit hook). */
  reportLost(why: string): void {
    const lost = this.#queue.slice(this.#lostReported);
    if (lost.length === 0) return;
    this.#lostReported += lost.length;
    const line = {
      level: 60,
      time: new Date().toISOString(),
      service: 'scope',
      component: 'audit',
      msg: `AUDIT ENTRIES LOST (${why}): ${lost.length} entr${lost.length === 1 ? 'y' : 'ies'} never reached Redis`,
      lost: lost.map((p) => summary(p.entry, p.at)),
    };
    try {
      writeSync(2, `${JSON.stringify(line)}\n`);
    } catch {
      // stderr closed: nothing else can be done
    }
  }

  #kick(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0 && !this.#closed) this.#kick();
      else for (const f of this.#idle.splice(0)) f();
    });
  }

  async #drain(): Promise<void> {
    let wrote: ChainHead | undefined;
    let action = false;
    let delay = 100;
    while (this.#queue.length > 0 && !this.#closed) {
      const p = this.#queue[0] as Pending;
      try {
        wrote = await this.#write(p);
        this.#queue.shift();
        if (this.#lostReported > 0) this.#lostReported--;
        if (p.entry.kind === 'action' || p.entry.kind === 'approval') action = true;
        delay = 100;
        if (this.#outage) {
          this.#outage = false;
          this.#log?.warn(
            { stillBuffered: this.#queue.length },
            'audit trail writable again; writing buffered entries',
          );
        }
        if (this.#queue.length === 0 && this.#overflowed > 0) this.#reportOverflow();
      } catch (err) {
        p.maybeWritten = true;
        this.#knownHead = undefined;
        if (!this.#outage) {
          this.#outage = true;
          this.#log?.error(
            { err, buffered: this.#queue.length },
            'cannot write the audit trail; buffering entries in memory until Redis answers',
          );
        }
        await new Promise<void>((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, this.#maxRetryMs);
      }
    }
    if (wrote) await this.#witness(wrote, action ? 'action' : 'write');
  }

  #reportOverflow(): void {
    const n = this.#overflowed;
    this.#overflowed = 0;
    this.#queue.push({
      entry: {
        kind: 'system',
        actor: 'scope',
        command: 'audit-buffer-overflow',
        correlationId: 'audit',
        outcome: 'lost',
        detail: `${n} audit entr${n === 1 ? 'y was' : 'ies were'} lost while Redis was unreachable (buffer of ${this.#bufferMax} full); see the logs`,
      },
      at: new Date().toISOString(),
      uid: randomUUID(),
      maybeWritten: false,
    });
  }

  async #write(p: Pending): Promise<ChainHead> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const head = this.#knownHead ?? (await this.#redis.get(this.#headKey)) ?? '';
      if (p.maybeWritten) {
        const found = await this.#findOwn(p.uid);
        if (found) {
          this.#knownHead = undefined;
          return found;
        }
      }
      const [seqText, prev = ''] = head === '' ? ['0', ''] : head.split(':');
      const seq = Number(seqText) + 1;
      if (!Number.isSafeInteger(seq) || (head !== '' && !/^[0-9a-f]{64}$/.test(prev)))
        throw new Error(
          `the audit head pointer in Redis is unreadable ("${head.slice(0, 20)}"); run scope cli audit-log verify`,
        );
      const body = JSON.stringify({ ...p.entry, seq, at: p.at, uid: p.uid });
      const hash = chainHash(this.#key, prev, body);
      const next = `${seq}:${hash}`;
      const [ok, value] = (await this.#redis.eval(
        APPEND,
        2,
        this.#stream,
        this.#headKey,
        head,
        next,
        body,
        prev,
        hash,
        this.#kid,
      )) as [number, string];
      if (ok === 1) {
        this.#knownHead = next;
        return { seq, hash, id: value, at: p.at };
      }
      this.#knownHead = value; // another process appended first: chain onto its entry
    }
    throw new Error('audit append lost the race 50 times in a row');
  }

  /** After a write whose reply was lost: was it applied? (Looks at the last entries for this uid.) */
  async #findOwn(uid: string): Promise<ChainHead | undefined> {
    const rows = (await this.#redis.xrevrange(this.#stream, '+', '-', 'COUNT', 50)) as RawRow[];
    for (const row of rows) {
      const r = parseRow(row);
      if (!('error' in r) && r.entry.uid === uid)
        return { seq: r.entry.seq, hash: r.entry.hash, id: r.entry.id, at: r.entry.at };
    }
    return undefined;
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

function summary(entry: AuditEntry, at: string): Record<string, string> {
  return {
    at,
    kind: entry.kind,
    actor: entry.actor,
    command: entry.command.slice(0, 200),
    correlationId: entry.correlationId,
    ...(entry.outcome ? { outcome: entry.outcome } : {}),
  };
}
