import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { Redis } from 'ioredis';
import {
  type AuditEntry,
  type ChainHead,
  chainHash,
  keyId,
  parseRow,
  type RawRow,
} from '../../domain/audit-log/chain.ts';
import type { Logger } from '../../log.ts';

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

type Pending = { entry: AuditEntry; at: string; uid: string; maybeWritten: boolean };

export type AuditWriterOptions = {
  key: string;
  bufferMax: number;
  maxRetryMs: number;
  log: Logger | undefined;
  /** Called after each drained batch with the new head; `action` when the batch held an approval or action. */
  onWritten: (head: ChainHead, action: boolean) => Promise<void>;
};

const live = new Set<AuditWriter>();
let exitHookInstalled = false;

/** On process exit (normal or after a fatal error), report every entry that never reached Redis. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const w of live) w.reportLost('process exiting');
  });
}

/**
 * The write side of the audit trail: a bounded in-memory queue drained in order into Redis. The HMAC is
 * computed at write time against the head Redis has then, so the chain stays valid after any outage.
 */
export class AuditWriter {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #headKey: string;
  readonly #key: string;
  readonly #kid: string;
  readonly #bufferMax: number;
  readonly #maxRetryMs: number;
  readonly #log: Logger | undefined;
  readonly #onWritten: AuditWriterOptions['onWritten'];
  readonly #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #knownHead: string | undefined;
  #overflowed = 0;
  #lostReported = 0;
  #outage = false;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(redis: Redis, stream: string, headKey: string, opts: AuditWriterOptions) {
    this.#redis = redis;
    this.#stream = stream;
    this.#headKey = headKey;
    this.#key = opts.key;
    this.#kid = keyId(opts.key);
    this.#bufferMax = opts.bufferMax;
    this.#maxRetryMs = opts.maxRetryMs;
    this.#log = opts.log;
    this.#onWritten = opts.onWritten;
    live.add(this);
    installExitHook();
  }

  /** Queues an entry and returns its uid; never waits on Redis. A full buffer logs the entry as lost. */
  append(entry: AuditEntry, now: Date): string {
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

  get pending(): number {
    return this.#queue.length;
  }

  get lost(): number {
    return this.#overflowed;
  }

  /** Resolves true once every queued entry is written, or false after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
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

  /** Waits up to `timeoutMs` for buffered entries, then stops and reports the rest as lost. */
  async close(timeoutMs: number): Promise<void> {
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
    if (wrote) await this.#onWritten(wrote, action);
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
