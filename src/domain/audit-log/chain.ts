import { createHmac } from 'node:crypto';
import { z } from 'zod';

/** One entry of the append-only audit trail: who asked for what, who approved, what ran, and how it ended. */
export type AuditEntry = {
  kind: 'request' | 'refusal' | 'result' | 'failure' | 'approval' | 'action' | 'system';
  actor: string;
  channel?: string;
  command: string;
  correlationId: string;
  outcome?: string;
  detail?: string;
};

/** An entry as stored: its position in the chain, when it was made, and the keyed links. */
export type StoredAuditEntry = AuditEntry & {
  /** Redis stream id. */
  id: string;
  /** 1-based position in the chain (part of the signed body, so a removed or moved entry shows). */
  seq: number;
  at: string;
  /** Unique per entry: lets a writer recognise its own entry after a lost reply. */
  uid: string;
  /** Key id: which key signed the entry (the first 8 hex of HMAC(key, "scope-audit-key-id")). */
  kid: string;
  prev: string;
  hash: string;
};

/** The head of the chain as a witness records it. */
export type ChainHead = { seq: number; hash: string; id: string; at: string };

/** One witness record: the head some process saw at some time, kept outside Redis. */
export type WitnessRecord = ChainHead & { witnessedAt: string; source: string };

/** Where chain heads are recorded outside Redis (a file, a Slack channel…). */
export type AuditWitness = {
  readonly name: string;
  record(head: ChainHead, reason: 'write' | 'action' | 'interval'): Promise<void>;
};

const HEX64 = /^[0-9a-f]{64}$/;

export const auditEntrySchema = z
  .object({
    kind: z.enum(['request', 'refusal', 'result', 'failure', 'approval', 'action', 'system']),
    actor: z.string().max(200),
    channel: z.string().max(200).optional(),
    command: z.string().max(4000),
    correlationId: z.string().max(200),
    outcome: z.string().max(1000).optional(),
    detail: z.string().max(4000).optional(),
  })
  .strict();

/** The signed body: the entry plus its position, time and uid. */
export const signedBodySchema = auditEntrySchema
  .extend({
    seq: z.number().int().min(1),
    at: z.string().datetime({ offset: true }),
    uid: z.string().min(8).max(64),
  })
  .strict();

export type SignedBody = z.infer<typeof signedBodySchema>;

export const witnessRecordSchema = z
  .object({
    seq: z.number().int().min(0),
    hash: z.string().regex(/^([0-9a-f]{64})?$/),
    id: z.string().max(64),
    at: z.string().max(64),
    witnessedAt: z.string().max(64),
    source: z.string().max(200),
  })
  .strict();

export function keyId(key: string | Buffer): string {
  return createHmac('sha256', key).update('scope-audit-key-id').digest('hex').slice(0, 8);
}

/** HMAC-SHA256 over the previous hash and the exact stored body text. */
export function chainHash(key: string | Buffer, prev: string, body: string): string {
  return createHmac('sha256', key).update(`${prev}\n${body}`).digest('hex');
}

/** A raw stream row: id and its field list, as Redis returns it. */
export type RawRow = [id: string, fields: string[]];

export function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Validates one row read back from Redis; returns the entry or why it is unreadable. */
export function parseRow([id, fields]: RawRow):
  | { entry: StoredAuditEntry; body: string }
  | { error: string } {
  const body = fieldValue(fields, 'entry');
  const prev = fieldValue(fields, 'prev');
  const hash = fieldValue(fields, 'hash');
  const kid = fieldValue(fields, 'kid');
  if (body === undefined || prev === undefined || hash === undefined || kid === undefined)
    return { error: 'missing fields (entry, prev, hash, kid)' };
  if (!HEX64.test(hash) || !(prev === '' || HEX64.test(prev)))
    return { error: 'hash or prev is not SHA-256 hex' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'entry is not JSON' };
  }
  const r = signedBodySchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    return { error: `entry does not match the schema (${i?.path.join('.') || '(root)'}: ${i?.message})` };
  }
  return { entry: { ...r.data, id, kid, prev, hash }, body };
}

export type BrokenLink = {
  id: string;
  /** The position the entry should have had. */
  position: number;
  reason: 'malformed' | 'altered' | 'out-of-order' | 'missing-before' | 'other-key';
  message: string;
};

export type WitnessCheck =
  | { state: 'none' }
  | { state: 'agrees'; last: WitnessRecord; checked: number }
  | {
      state: 'diverges';
      record: WitnessRecord;
      message: string;
      checked: number;
    };

export type VerifyReport = {
  ok: boolean;
  entries: number;
  head?: ChainHead;
  firstBad?: BrokenLink;
  /** The head pointer Redis keeps, when it disagrees with the entries. */
  headMismatch?: string;
  witness: WitnessCheck;
};

/**
 * Walks the chain in stream order. Every entry must carry the next position, link to the previous entry's
 * hash and carry a correct HMAC under `key`; the first entry that does not is named. Then every witness
 * record must match the entry at its position (the earliest disagreement is reported).
 */
export class ChainVerifier {
  readonly #key: string | Buffer;
  readonly #kid: string;
  #prev = '';
  #seq = 0;
  #firstBad: BrokenLink | undefined;
  #head: ChainHead | undefined;
  /** seq → hash, only for the positions some witness names (kept small). */
  readonly #wanted: Map<number, string | undefined>;

  constructor(key: string | Buffer, witnessSeqs: Iterable<number> = []) {
    this.#key = key;
    this.#kid = keyId(key);
    this.#wanted = new Map([...witnessSeqs].map((s) => [s, undefined]));
  }

  add(row: RawRow): void {
    this.#seq++;
    const position = this.#seq;
    const parsed = parseRow(row);
    if ('error' in parsed) {
      this.#fail({
        id: row[0],
        position,
        reason: 'malformed',
        message: `entry ${row[0]} is unreadable: ${parsed.error}`,
      });
      this.#prev = fieldValue(row[1], 'hash') ?? '';
      return;
    }
    const { entry, body } = parsed;
    if (this.#wanted.has(position)) this.#wanted.set(position, entry.hash);
    this.#head = { seq: position, hash: entry.hash, id: entry.id, at: entry.at };
    const at = `entry #${position} (${entry.id}, ${entry.kind} by ${entry.actor} at ${entry.at})`;
    if (entry.prev !== this.#prev || entry.seq !== position) {
      const reason = entry.seq > position ? 'missing-before' : 'out-of-order';
      this.#fail({
        id: entry.id,
        position,
        reason,
        message:
          reason === 'missing-before'
            ? `${at} claims position #${entry.seq}: ${entry.seq - position} entr${entry.seq - position === 1 ? 'y' : 'ies'} before it ${entry.seq - position === 1 ? 'was' : 'were'} removed or moved`
            : `${at} does not follow the previous entry (it claims position #${entry.seq} and a different predecessor): entries were removed, reordered or inserted`,
      });
    } else if (entry.kid !== this.#kid) {
      this.#fail({
        id: entry.id,
        position,
        reason: 'other-key',
        message: `${at} was signed with key ${entry.kid}, not the configured key ${this.#kid}`,
      });
    } else if (chainHash(this.#key, entry.prev, body) !== entry.hash) {
      this.#fail({
        id: entry.id,
        position,
        reason: 'altered',
        message: `${at} does not match its keyed hash: it was altered, or re-chained without the key`,
      });
    }
    this.#prev = entry.hash;
  }

  #fail(b: BrokenLink): void {
    this.#firstBad ??= b;
  }

  finish(opts: { storedHead?: string | null; witness?: WitnessRecord[] } = {}): VerifyReport {
    const entries = this.#seq;
    const report: VerifyReport = {
      ok: this.#firstBad === undefined,
      entries,
      ...(this.#head ? { head: this.#head } : {}),
      ...(this.#firstBad ? { firstBad: this.#firstBad } : {}),
      witness: { state: 'none' },
    };
    if (opts.storedHead !== undefined && opts.storedHead !== null) {
      const expected = this.#head ? `${this.#head.seq}:${this.#head.hash}` : '';
      if (opts.storedHead !== expected) {
        report.ok = false;
        report.headMismatch = `the head pointer in Redis says ${describeHead(opts.storedHead)}, but the last entry is ${this.#head ? `#${this.#head.seq}` : 'none'}: entries at the end were removed or the pointer was rewritten`;
      }
    }
    const records = opts.witness ?? [];
    if (records.length > 0) {
      const sorted = [...records].sort((a, b) => a.seq - b.seq || a.witnessedAt.localeCompare(b.witnessedAt));
      for (const w of sorted) {
        if (w.seq === 0) continue;
        if (w.seq > entries) {
          report.ok = false;
          report.witness = {
            state: 'diverges',
            record: w,
            checked: sorted.length,
            message: `Redis ends at entry #${entries}, but ${w.source} saw entry #${w.seq} (hash ${w.hash.slice(0, 12)}…) at ${w.witnessedAt}: ${w.seq - entries} entr${w.seq - entries === 1 ? 'y' : 'ies'} missing since`,
          };
          return report;
        }
        const got = this.#wanted.get(w.seq);
        if (got !== w.hash) {
          report.ok = false;
          report.witness = {
            state: 'diverges',
            record: w,
            checked: sorted.length,
            message: `entry #${w.seq} in Redis differs from what ${w.source} saw at ${w.witnessedAt} (hash ${w.hash.slice(0, 12)}…, Redis has ${got ? `${got.slice(0, 12)}…` : 'an unreadable entry'}): Redis diverges from the witness at or before #${w.seq}`,
          };
          return report;
        }
      }
      const last = sorted[sorted.length - 1] as WitnessRecord;
      report.witness = { state: 'agrees', last, checked: sorted.length };
    }
    return report;
  }
}

function describeHead(stored: string): string {
  const [seq] = stored.split(':');
  return /^\d+$/.test(seq ?? '') ? `entry #${seq}` : `"${stored.slice(0, 20)}"`;
}

/** What `/scope log` reads: the most recent entries, validated; unreadable rows by id. */
export type AuditReader = {
  read(count: number): Promise<{ entries: StoredAuditEntry[]; unreadable: string[] }>;
};
